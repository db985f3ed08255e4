//! Guardrails on the runtime (`guardrailConfig` of `Converse` / `ConverseStream`) and
//! `additionalModelResponseFieldPaths`.
//!
//! The fake knows one guardrail, [`GUARDRAIL_ID`] (also by its ARN,
//! `arn:aws:bedrock:<region>:<account>:guardrail/<id>`), at versions `DRAFT` and `1`. Its word
//! policy blocks [`GUARDRAIL_TRIGGER`]: a user message containing it (any case) is not sent to
//! the model; the answer is the guardrail's blocked-input message ([`GUARDRAIL_BLOCKED_MESSAGE`])
//! with stop reason `guardrail_intervened`, as Bedrock answers. With `trace` `enabled` or
//! `enabled_full` the `metadata.trace.guardrail` (the `trace` of a `Converse` answer) says what
//! was assessed: the custom word that matched, or only the processing latency when nothing did.
//!
//! Validation, as Bedrock's: a malformed identifier, version, trace or processing mode is a
//! `ValidationException` naming the member and its constraint; a well-formed identifier or
//! version that names no guardrail is a `ResourceNotFoundException`.
//!
//! A scripted turn can intervene too: `stop_reason: "guardrail_intervened"` with a `trace`.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::script::Turn;
use crate::wire::ConverseRequest;

/// The id of the guardrail the fake knows.
pub const GUARDRAIL_ID: &str = "fakeguard0001";
/// The word the fake guardrail blocks in user messages.
pub const GUARDRAIL_TRIGGER: &str = "forbidden-topic";
/// The answer of an intervention (the guardrail's blocked-input messaging).
pub const GUARDRAIL_BLOCKED_MESSAGE: &str = "Sorry, the model cannot answer this question.";

const VERSIONS: [&str; 2] = ["DRAFT", "1"];

/// What the guardrail decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The turn that replaces the model's when the guardrail blocks the input.
    pub(crate) intervention: Option<Turn>,
    /// The `trace` object to send (`{"guardrail": {...}}`), when the trace is enabled.
    pub(crate) trace: Option<Value>,
}

/// Validates `guardrailConfig` and applies the guardrail to the request's user messages;
/// `Ok(None)` without a guardrail.
pub(crate) fn apply(request: &ConverseRequest) -> Result<Option<Applied>, ApiError> {
    let Some(config) = &request.guardrail_config else {
        return Ok(None);
    };
    let field = |name: &str| config.get(name).and_then(Value::as_str);
    let identifier = field("guardrailIdentifier").ok_or_else(|| missing("guardrailIdentifier"))?;
    let version = field("guardrailVersion").ok_or_else(|| missing("guardrailVersion"))?;
    let id = guardrail_id(identifier).ok_or_else(|| {
        pattern(
            identifier,
            "guardrailIdentifier",
            r"(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))",
        )
    })?;
    if !valid_version(version) {
        return Err(pattern(
            version,
            "guardrailVersion",
            r"(([1-9][0-9]{0,7})|(DRAFT))",
        ));
    }
    let trace = match field("trace") {
        None | Some("disabled") => false,
        Some("enabled" | "enabled_full") => true,
        Some(other) => {
            return Err(enum_value(
                other,
                "trace",
                "[enabled, disabled, enabled_full]",
            ));
        }
    };
    if let Some(mode) = field("streamProcessingMode")
        && !matches!(mode, "sync" | "async")
    {
        return Err(enum_value(mode, "streamProcessingMode", "[sync, async]"));
    }
    if id != GUARDRAIL_ID || !VERSIONS.contains(&version) {
        return Err(ApiError::new(
            404,
            "ResourceNotFoundException",
            "The guardrail identifier or version provided in the request does not exist.",
        ));
    }
    let blocked = request
        .messages
        .iter()
        .filter(|m| m.role == "user")
        .flat_map(|m| &m.content)
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .any(|t| t.to_ascii_lowercase().contains(GUARDRAIL_TRIGGER));
    let mut assessment = Map::new();
    if blocked {
        assessment.insert(
            "wordPolicy".into(),
            json!({"customWords": [{"match": GUARDRAIL_TRIGGER, "action": "BLOCKED", "detected": true}]}),
        );
    }
    assessment.insert(
        "invocationMetrics".into(),
        json!({"guardrailProcessingLatency": 1}),
    );
    let mut guardrail = json!({"inputAssessment": {GUARDRAIL_ID: Value::Object(assessment)}});
    if blocked {
        guardrail["modelOutput"] = json!([]);
        guardrail["actionReason"] = json!("Guardrail blocked.");
    }
    Ok(Some(Applied {
        intervention: blocked
            .then(|| Turn::text(GUARDRAIL_BLOCKED_MESSAGE).stop_reason("guardrail_intervened")),
        trace: trace.then(|| json!({"guardrail": guardrail})),
    }))
}

/// The guardrail id an identifier names (an id, or the id at the end of a guardrail ARN).
fn guardrail_id(identifier: &str) -> Option<&str> {
    let id = match identifier.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, "bedrock", region, account, resource] = parts.as_slice() else {
                return None;
            };
            let ok = partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit());
            resource.strip_prefix("guardrail/").filter(|_| ok)?
        }
        None => identifier,
    };
    (!id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    .then_some(id)
}

fn valid_version(version: &str) -> bool {
    version == "DRAFT"
        || (!version.is_empty()
            && version.len() <= 8
            && !version.starts_with('0')
            && version.bytes().all(|b| b.is_ascii_digit()))
}

fn missing(member: &str) -> ApiError {
    ApiError::validation(&format!(
        "1 validation error detected: Value null at 'guardrailConfig.{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn pattern(value: &str, member: &str, regex: &str) -> ApiError {
    ApiError::validation(&format!(
        "1 validation error detected: Value '{value}' at 'guardrailConfig.{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {regex}"
    ))
}

fn enum_value(value: &str, member: &str, set: &str) -> ApiError {
    ApiError::validation(&format!(
        "1 validation error detected: Value '{value}' at 'guardrailConfig.{member}' failed to satisfy constraint: Member must satisfy enum value set: {set}"
    ))
}

/// Validates `additionalModelResponseFieldPaths` (JSON pointers, at most 10) and picks their
/// values from the turn's model response fields: `None` when no path was requested or none
/// matched.
pub(crate) fn response_fields(
    request: &ConverseRequest,
    turn: &Turn,
) -> Result<Option<Value>, ApiError> {
    let paths = &request.additional_model_response_field_paths;
    if paths.len() > 10 {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'additionalModelResponseFieldPaths' failed to satisfy constraint: Member must have length less than or equal to 10",
        ));
    }
    if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
        return Err(ApiError::validation(&format!(
            "The additionalModelResponseFieldPaths value '{bad}' is not a valid JSON Pointer."
        )));
    }
    let Some(source) = &turn.response_fields else {
        return Ok(None);
    };
    let mut out = Value::Object(Map::new());
    let mut any = false;
    for path in paths {
        if let Some(value) = source.pointer(path) {
            insert_at(&mut out, path, value.clone());
            any = true;
        }
    }
    Ok(any.then_some(out))
}

/// Sets `value` at the JSON pointer `path` in `out`, creating objects on the way.
fn insert_at(out: &mut Value, path: &str, value: Value) {
    let keys: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut cur = out;
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(map) = cur else { return };
        if i + 1 == keys.len() {
            map.insert(key.clone(), value);
            return;
        }
        cur = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(config: Value, text: &str) -> ConverseRequest {
        serde_json::from_value(json!({
            "messages": [{"role": "user", "content": [{"text": text}]}],
            "guardrailConfig": config,
        }))
        .unwrap()
    }

    #[test]
    fn identifiers_versions_and_interventions() {
        let ok = json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "1", "trace": "enabled"});
        let applied = apply(&request(ok.clone(), "hello")).unwrap().unwrap();
        assert!(applied.intervention.is_none());
        assert!(applied.trace.is_some());
        let applied = apply(&request(ok, "about the FORBIDDEN-TOPIC"))
            .unwrap()
            .unwrap();
        assert_eq!(
            applied.intervention.unwrap().resolved_stop_reason(),
            "guardrail_intervened"
        );
        assert_eq!(
            applied.trace.unwrap()["guardrail"]["inputAssessment"][GUARDRAIL_ID]["wordPolicy"]["customWords"]
                [0]["match"],
            GUARDRAIL_TRIGGER
        );
        let arn = format!("arn:aws:bedrock:us-east-1:123456789012:guardrail/{GUARDRAIL_ID}");
        let applied = apply(&request(
            json!({"guardrailIdentifier": arn, "guardrailVersion": "DRAFT"}),
            "hi",
        ))
        .unwrap()
        .unwrap();
        assert!(applied.trace.is_none());

        for (config, status, code) in [
            (
                json!({"guardrailIdentifier": "nope", "guardrailVersion": "1"}),
                404,
                "ResourceNotFoundException",
            ),
            (
                json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "7"}),
                404,
                "ResourceNotFoundException",
            ),
            (
                json!({"guardrailIdentifier": "Bad Id", "guardrailVersion": "1"}),
                400,
                "ValidationException",
            ),
            (
                json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "v1"}),
                400,
                "ValidationException",
            ),
            (
                json!({"guardrailIdentifier": GUARDRAIL_ID}),
                400,
                "ValidationException",
            ),
            (
                json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "1", "trace": "on"}),
                400,
                "ValidationException",
            ),
        ] {
            let err = apply(&request(config.clone(), "hi")).unwrap_err();
            assert_eq!(
                (err.status, err.error_type.as_str()),
                (status, code),
                "{config}"
            );
        }
    }

    #[test]
    fn response_field_paths_pick_from_the_turn() {
        let mut req = request(json!(null), "hi");
        req.guardrail_config = None;
        req.additional_model_response_field_paths =
            vec!["/stop_sequence".into(), "/a/b".into(), "/missing".into()];
        let mut turn = Turn::text("x");
        assert_eq!(response_fields(&req, &turn).unwrap(), None);
        turn.response_fields = Some(json!({"stop_sequence": "END", "a": {"b": 1, "c": 2}}));
        assert_eq!(
            response_fields(&req, &turn).unwrap(),
            Some(json!({"stop_sequence": "END", "a": {"b": 1}}))
        );
        req.additional_model_response_field_paths = vec!["stop_sequence".into()];
        assert!(response_fields(&req, &turn).is_err());
    }
}
