//! The guardrail trace of a Converse stream (`metadata.trace.guardrail`) as JSON, in Bedrock's
//! wire shape (camelCase keys, enum values as Bedrock spells them), so callers can pass it on
//! without knowing the SDK.
//!
//! Covered: `modelOutput`, `actionReason`, `inputAssessment` and `outputAssessments` with their
//! topic, content, word, sensitive-information and contextual-grounding policies and the
//! processing latency. Automated-reasoning findings and usage figures are left out.

use aws_sdk_bedrockruntime::types::{GuardrailAssessment, GuardrailTraceAssessment};
use serde_json::{Map, Value, json};

/// The trace as Bedrock sends it.
pub(crate) fn guardrail_trace(trace: &GuardrailTraceAssessment) -> Value {
    let mut out = Map::new();
    if !trace.model_output().is_empty() {
        out.insert("modelOutput".into(), json!(trace.model_output()));
    }
    if let Some(input) = trace.input_assessment() {
        let map: Map<String, Value> = input
            .iter()
            .map(|(id, a)| (id.clone(), assessment(a)))
            .collect();
        out.insert("inputAssessment".into(), Value::Object(map));
    }
    if let Some(outputs) = trace.output_assessments() {
        let map: Map<String, Value> = outputs
            .iter()
            .map(|(id, list)| (id.clone(), list.iter().map(assessment).collect()))
            .collect();
        out.insert("outputAssessments".into(), Value::Object(map));
    }
    if let Some(reason) = trace.action_reason() {
        out.insert("actionReason".into(), json!(reason));
    }
    Value::Object(out)
}

fn assessment(a: &GuardrailAssessment) -> Value {
    let mut out = Map::new();
    if let Some(p) = a.topic_policy() {
        let topics: Vec<Value> = p
            .topics()
            .iter()
            .map(|t| {
                json!({"name": t.name(), "type": t.r#type().as_str(),
                       "action": t.action().as_str(), "detected": t.detected()})
            })
            .collect();
        out.insert("topicPolicy".into(), json!({"topics": topics}));
    }
    if let Some(p) = a.content_policy() {
        let filters: Vec<Value> = p
            .filters()
            .iter()
            .map(|f| {
                json!({"type": f.r#type().as_str(), "confidence": f.confidence().as_str(),
                       "filterStrength": f.filter_strength().map(|s| s.as_str()),
                       "action": f.action().as_str(), "detected": f.detected()})
            })
            .collect();
        out.insert("contentPolicy".into(), json!({"filters": filters}));
    }
    if let Some(p) = a.word_policy() {
        let custom: Vec<Value> = p
            .custom_words()
            .iter()
            .map(|w| {
                json!({"match": w.r#match(), "action": w.action().as_str(),
                       "detected": w.detected()})
            })
            .collect();
        let managed: Vec<Value> = p
            .managed_word_lists()
            .iter()
            .map(|w| {
                json!({"match": w.r#match(), "type": w.r#type().as_str(),
                       "action": w.action().as_str(), "detected": w.detected()})
            })
            .collect();
        out.insert(
            "wordPolicy".into(),
            json!({"customWords": custom, "managedWordLists": managed}),
        );
    }
    if let Some(p) = a.sensitive_information_policy() {
        let pii: Vec<Value> = p
            .pii_entities()
            .iter()
            .map(|e| {
                json!({"match": e.r#match(), "type": e.r#type().as_str(),
                       "action": e.action().as_str(), "detected": e.detected()})
            })
            .collect();
        let regexes: Vec<Value> = p
            .regexes()
            .iter()
            .map(|r| {
                json!({"name": r.name(), "match": r.r#match(), "regex": r.regex(),
                       "action": r.action().as_str(), "detected": r.detected()})
            })
            .collect();
        out.insert(
            "sensitiveInformationPolicy".into(),
            json!({"piiEntities": pii, "regexes": regexes}),
        );
    }
    if let Some(p) = a.contextual_grounding_policy() {
        let filters: Vec<Value> = p
            .filters()
            .iter()
            .map(|f| {
                json!({"type": f.r#type().as_str(), "threshold": f.threshold(),
                       "score": f.score(), "action": f.action().as_str(),
                       "detected": f.detected()})
            })
            .collect();
        out.insert(
            "contextualGroundingPolicy".into(),
            json!({"filters": filters}),
        );
    }
    if let Some(m) = a.invocation_metrics() {
        out.insert(
            "invocationMetrics".into(),
            json!({"guardrailProcessingLatency": m.guardrail_processing_latency()}),
        );
    }
    // Absent optional values are left out rather than sent as null.
    for value in out.values_mut() {
        strip_nulls(value);
    }
    Value::Object(out)
}

fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
