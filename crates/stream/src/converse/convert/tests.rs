use aws_sdk_bedrockruntime::types::{
    ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, ConversationRole,
    ConverseStreamMetadataEvent, MessageStartEvent, MessageStopEvent, TokenUsage,
    ToolUseBlockDelta, ToolUseBlockStart,
};
use aws_smithy_types::Blob;
use openclaw_config::{ModelCost, ModelDefinition};
use serde_json::json;

use super::*;
use crate::types::ErrorReason;

fn model() -> ModelDefinition {
    let mut m = ModelDefinition::new(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Claude Sonnet 4.5",
    );
    m.cost = ModelCost {
        input: 3.0,
        output: 15.0,
        cache_read: 0.3,
        cache_write: 3.75,
    };
    m
}

fn start() -> ConverseStreamOutput {
    ConverseStreamOutput::MessageStart(
        MessageStartEvent::builder()
            .role(ConversationRole::Assistant)
            .build()
            .unwrap(),
    )
}
fn delta(i: i32, d: ContentBlockDelta) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockDelta(
        ContentBlockDeltaEvent::builder()
            .content_block_index(i)
            .delta(d)
            .build()
            .unwrap(),
    )
}
fn text(i: i32, s: &str) -> ConverseStreamOutput {
    delta(i, ContentBlockDelta::Text(s.into()))
}
fn tool_start(i: i32, id: &str, name: &str) -> ConverseStreamOutput {
    let t = ToolUseBlockStart::builder()
        .tool_use_id(id)
        .name(name)
        .build()
        .unwrap();
    ConverseStreamOutput::ContentBlockStart(
        ContentBlockStartEvent::builder()
            .content_block_index(i)
            .start(ContentBlockStart::ToolUse(t))
            .build()
            .unwrap(),
    )
}
fn tool_delta(i: i32, s: &str) -> ConverseStreamOutput {
    delta(
        i,
        ContentBlockDelta::ToolUse(ToolUseBlockDelta::builder().input(s).build().unwrap()),
    )
}
fn block_stop(i: i32) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockStop(
        ContentBlockStopEvent::builder()
            .content_block_index(i)
            .build()
            .unwrap(),
    )
}
fn stop(r: WireStopReason) -> ConverseStreamOutput {
    ConverseStreamOutput::MessageStop(MessageStopEvent::builder().stop_reason(r).build().unwrap())
}
fn metadata(input: i32, output: i32, cache_read: i32, cache_write: i32) -> ConverseStreamOutput {
    let usage = TokenUsage::builder()
        .input_tokens(input)
        .output_tokens(output)
        .total_tokens(input + output + cache_read + cache_write)
        .cache_read_input_tokens(cache_read)
        .cache_write_input_tokens(cache_write)
        .build()
        .unwrap();
    ConverseStreamOutput::Metadata(ConverseStreamMetadataEvent::builder().usage(usage).build())
}

fn run(items: Vec<ConverseStreamOutput>) -> (Converter, Vec<StreamEvent>) {
    let mut c = Converter::new(&model());
    let mut out = Vec::new();
    for item in items {
        c.push(item, &mut out);
    }
    (c, out)
}

fn kinds(events: &[StreamEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn text_turn_and_usage_cost() {
    let (c, out) = run(vec![
        start(),
        text(0, "Hel"),
        text(0, "lo"),
        block_stop(0),
        stop(WireStopReason::EndTurn),
        metadata(1000, 500, 2000, 400),
    ]);
    assert!(c.is_finished());
    assert_eq!(
        kinds(&out),
        [
            "start",
            "text_start",
            "text_delta",
            "text_delta",
            "text_end",
            "done"
        ]
    );
    let StreamEvent::Done {
        stop_reason,
        message,
        usage,
    } = out.last().unwrap()
    else {
        panic!()
    };
    assert_eq!(*stop_reason, StopReason::Stop);
    assert_eq!(message.text(), "Hello");
    assert_eq!(
        (
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_write,
            usage.total_tokens
        ),
        (1000, 500, 2000, 400, 3900)
    );
    // 3 * 1000 / 1e6, 15 * 500 / 1e6, 0.3 * 2000 / 1e6, 3.75 * 400 / 1e6.
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(usage.cost.input, 0.003));
    assert!(close(usage.cost.output, 0.0075));
    assert!(close(usage.cost.cache_read, 0.0006));
    assert!(close(usage.cost.cache_write, 0.0015));
    assert!(close(usage.cost.total, 0.0126));
    assert_eq!(message.usage, *usage);
    assert_eq!(message.stop_reason, Some(StopReason::Stop));
}

#[test]
fn tool_call_arguments_parse_progressively() {
    let (_, out) = run(vec![
        start(),
        tool_start(0, "tooluse_1", "get_weather"),
        tool_delta(0, r#"{"city": "Pa"#),
        tool_delta(0, r#"ris", "days": [1,"#),
        tool_delta(0, " 2]}"),
        block_stop(0),
        stop(WireStopReason::ToolUse),
        metadata(10, 5, 0, 0),
    ]);
    let partials: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta {
                partial_arguments, ..
            } => Some(partial_arguments.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        partials,
        [
            json!({"city": "Pa"}),
            json!({"city": "Paris", "days": [1]}),
            json!({"city": "Paris", "days": [1, 2]})
        ]
    );
    let StreamEvent::ToolCallEnd { call, .. } = &out[5] else {
        panic!("{:?}", out[5])
    };
    assert_eq!(call.arguments, json!({"city": "Paris", "days": [1, 2]}));
    assert_eq!(call.invalid_arguments, None);
    let StreamEvent::Done { stop_reason, .. } = out.last().unwrap() else {
        panic!()
    };
    assert_eq!(*stop_reason, StopReason::ToolUse);
}

#[test]
fn invalid_tool_json_is_kept_raw_and_flagged() {
    let (_, out) = run(vec![
        start(),
        tool_start(0, "t", "x"),
        tool_delta(0, r#"{"a": "#),
        block_stop(0),
    ]);
    let StreamEvent::ToolCallEnd { call, .. } = out.last().unwrap() else {
        panic!()
    };
    assert_eq!(call.arguments, json!({}));
    assert_eq!(call.invalid_arguments.as_deref(), Some(r#"{"a": "#));
}

#[test]
fn thinking_signature_and_redacted() {
    let (_, out) = run(vec![
        start(),
        delta(
            0,
            ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text("hmm".into())),
        ),
        delta(
            0,
            ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Signature(
                "sig".into(),
            )),
        ),
        block_stop(0),
        delta(
            1,
            ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::RedactedContent(
                Blob::new(vec![1, 2]),
            )),
        ),
        block_stop(1),
        text(2, "ok"),
        block_stop(2),
        stop(WireStopReason::EndTurn),
        metadata(1, 1, 0, 0),
    ]);
    assert_eq!(
        kinds(&out),
        [
            "start",
            "thinking_start",
            "thinking_delta",
            "thinking_end",
            "thinking_start",
            "thinking_end",
            "text_start",
            "text_delta",
            "text_end",
            "done"
        ]
    );
    assert_eq!(
        out[3],
        StreamEvent::ThinkingEnd {
            index: 0,
            thinking: "hmm".into(),
            signature: Some("sig".into()),
            redacted: None
        }
    );
    assert_eq!(
        out[5],
        StreamEvent::ThinkingEnd {
            index: 1,
            thinking: String::new(),
            signature: None,
            redacted: Some(vec![1, 2])
        }
    );
    assert_eq!(
        serde_json::to_value(&out[5]).unwrap()["redacted"],
        json!("AQI=")
    );
}

#[test]
fn stop_reason_mapping() {
    use WireStopReason as W;
    assert_eq!(map_stop_reason(&W::EndTurn), Ok(StopReason::Stop));
    assert_eq!(map_stop_reason(&W::StopSequence), Ok(StopReason::Stop));
    assert_eq!(map_stop_reason(&W::MaxTokens), Ok(StopReason::Length));
    assert_eq!(
        map_stop_reason(&W::ModelContextWindowExceeded),
        Ok(StopReason::Length)
    );
    assert_eq!(map_stop_reason(&W::ToolUse), Ok(StopReason::ToolUse));
    for w in [
        W::GuardrailIntervened,
        W::ContentFiltered,
        W::MalformedModelOutput,
        W::MalformedToolUse,
        W::from("brand_new"),
    ] {
        let Err((info, message)) = map_stop_reason(&w) else {
            panic!("{w:?}")
        };
        assert_eq!(info.kind, ErrorKind::Upstream, "{w:?}");
        assert_eq!(info.code.as_deref(), Some(w.as_str()));
        assert_eq!(info.status, None);
        assert!(message.contains(w.as_str()), "{message}");
    }
}

#[test]
fn guardrail_stop_is_an_error_with_partial() {
    let (_, out) = run(vec![
        start(),
        text(0, "partial"),
        stop(WireStopReason::GuardrailIntervened),
        metadata(1, 1, 0, 0),
    ]);
    let StreamEvent::Error {
        reason,
        message,
        info,
        partial,
    } = out.last().unwrap()
    else {
        panic!()
    };
    assert_eq!(*reason, ErrorReason::Error);
    assert_eq!(
        *info,
        ErrorInfo::new(ErrorKind::Upstream).with_code("guardrail_intervened")
    );
    assert!(message.contains("guardrail"), "{message}");
    assert_eq!(partial.as_ref().unwrap().text(), "partial");
}

#[test]
fn end_without_message_stop_is_an_error_and_terminal_is_unique() {
    let (mut c, mut out) = run(vec![start(), text(0, "cut")]);
    c.finish(&mut out);
    c.finish(&mut out);
    c.fail(ErrorInfo::new(ErrorKind::Aborted), "late".into(), &mut out);
    c.push(text(0, "more"), &mut out);
    assert_eq!(
        kinds(&out),
        ["start", "text_start", "text_delta", "text_end", "error"]
    );
    assert_eq!(out.iter().filter(|e| e.is_terminal()).count(), 1);
    assert!(
        matches!(out.last(), Some(StreamEvent::Error { reason: ErrorReason::Error, info, .. }) if info.kind == ErrorKind::Upstream),
        "{out:?}"
    );
}

#[test]
fn done_waits_for_both_stop_and_metadata_in_either_order() {
    let (c, out) = run(vec![
        start(),
        metadata(3, 4, 0, 0),
        stop(WireStopReason::MaxTokens),
    ]);
    assert!(c.is_finished());
    let StreamEvent::Done {
        stop_reason, usage, ..
    } = out.last().unwrap()
    else {
        panic!()
    };
    assert_eq!((*stop_reason, usage.total_tokens), (StopReason::Length, 7));
    let (c, _) = run(vec![start(), stop(WireStopReason::EndTurn)]);
    assert!(!c.is_finished());
}

#[test]
fn abort_before_start_has_no_partial() {
    let mut c = Converter::new(&model());
    let mut out = Vec::new();
    c.fail(
        ErrorInfo::new(ErrorKind::Aborted),
        "request was aborted".into(),
        &mut out,
    );
    assert_eq!(
        out,
        [StreamEvent::Error {
            reason: ErrorReason::Aborted,
            message: "request was aborted".into(),
            info: ErrorInfo::new(ErrorKind::Aborted),
            partial: None
        }]
    );
}

#[test]
fn stop_sequence_comes_from_the_response_fields() {
    let done = |fields: Option<serde_json::Value>| {
        let mut conv = Converter::new(&model());
        let mut out = Vec::new();
        let mut ev = MessageStopEvent::builder().stop_reason(WireStopReason::StopSequence);
        if let Some(fields) = fields {
            ev =
                ev.additional_model_response_fields(crate::converse::request::to_document(&fields));
        }
        for item in [
            start(),
            text(0, "one two"),
            block_stop(0),
            ConverseStreamOutput::MessageStop(ev.build().unwrap()),
            metadata(5, 2, 0, 0),
        ] {
            conv.push(item, &mut out);
        }
        match out.pop() {
            Some(StreamEvent::Done {
                stop_reason,
                message,
                ..
            }) => {
                assert_eq!(stop_reason, StopReason::Stop);
                message.stop_sequence
            }
            other => panic!("expected done, got {other:?}"),
        }
    };
    assert_eq!(
        done(Some(json!({"stop_sequence": "END"}))).as_deref(),
        Some("END")
    );
    // Claude's null (no sequence matched) and a missing field leave it empty.
    assert_eq!(done(Some(json!({"stop_sequence": null}))), None);
    assert_eq!(done(None), None);
    let serialised = serde_json::to_value(AssistantMessage::new(API, PROVIDER, "m")).unwrap();
    assert!(serialised.get("stop_sequence").is_none());
}

#[test]
fn deltas_only_forwards_every_delta_but_keeps_no_text() {
    let items = || {
        vec![
            start(),
            text(0, "Hel"),
            text(0, "lo"),
            block_stop(0),
            tool_start(1, "t1", "get_weather"),
            tool_delta(1, "{\"city\":"),
            tool_delta(1, "\"Paris\"}"),
            block_stop(1),
            stop(WireStopReason::ToolUse),
            metadata(10, 5, 0, 0),
        ]
    };
    let mut full = Converter::new(&model());
    let mut lean = Converter::new(&model()).deltas_only(true);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for item in items() {
        full.push(item, &mut a);
    }
    for item in items() {
        lean.push(item, &mut b);
    }
    assert_eq!(kinds(&a), kinds(&b));
    let deltas = |events: &[StreamEvent]| -> String {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::TextDelta { delta, .. } => Some(delta.as_str()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(deltas(&b), "Hello");
    assert_eq!(deltas(&a), deltas(&b));
    let done = |events: &[StreamEvent]| match events.last() {
        Some(StreamEvent::Done { message, usage, .. }) => (message.clone(), *usage),
        other => panic!("expected done, got {other:?}"),
    };
    let (full_message, full_usage) = done(&a);
    let (lean_message, lean_usage) = done(&b);
    assert_eq!(full_usage, lean_usage);
    assert_eq!(
        full_message.content[0],
        AssistantContent::Text {
            text: "Hello".into()
        }
    );
    // No text kept; the tool call is whole in both.
    assert_eq!(
        lean_message.content[0],
        AssistantContent::Text {
            text: String::new()
        }
    );
    assert_eq!(full_message.content[1], lean_message.content[1]);
    let AssistantContent::ToolCall(call) = &lean_message.content[1] else {
        panic!("expected a tool call: {lean_message:?}");
    };
    assert_eq!(call.arguments, json!({"city": "Paris"}));
}
