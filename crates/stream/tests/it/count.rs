//! `ModelStream::count_tokens` through the real SDK's `CountTokens` against the fake: the same
//! Converse input as a stream call, the foundation model behind an inference profile, errors
//! classified like stream errors.

use fake_bedrock::Fault;
use insta::assert_json_snapshot;
use openclaw_stream::{
    CacheRetention, CallError, ErrorInfo, ErrorKind, Message, ModelStream, StreamOptions,
    StreamRequest, ToolDefinition,
};
use serde_json::json;

use crate::support::*;

fn request() -> StreamRequest {
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("How warm is Paris?")]);
    req.system = Some("You are terse.".into());
    req.tools = vec![ToolDefinition {
        name: "get_weather".into(),
        description: "Weather".into(),
        parameters: json!({"type": "object"}),
    }];
    req.temperature = Some(0.5);
    req.cache_retention = CacheRetention::Short;
    req
}

#[tokio::test]
async fn counts_the_converse_input_of_the_foundation_model() {
    let h = harness().await;
    let tokens = h
        .adapter
        .count_tokens(request(), StreamOptions::default())
        .await
        .unwrap();
    // The fake's documented rule: ceil(text bytes / 4) + 100 per tool. Text: the system prompt
    // (14), the message (18), the tool's name (11), description (7) and schema (17).
    assert_eq!(tokens, (14u64 + 18 + 11 + 7 + 17).div_ceil(4) + 100);
    let requests = h.fake.requests();
    assert_eq!(requests.len(), 1);
    // The cross-region prefix removed: CountTokens takes foundation models.
    assert_eq!(
        requests[0].path,
        "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens"
    );
    // Built like the stream request (cache points included), without inference configuration
    // or model request fields.
    assert_json_snapshot!("count_tokens_request", sorted(requests[0].json().unwrap()));
}

#[tokio::test]
async fn count_errors_are_classified_like_stream_errors() {
    let h = harness().await;
    // A model whose CountTokens Bedrock refuses.
    let mut req = request();
    req.model = model("us.meta.llama3-3-70b-instruct-v1:0", false, false);
    let err = h
        .adapter
        .count_tokens(req, StreamOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CallError {
            info: ErrorInfo::new(ErrorKind::Validation)
                .with_code("ValidationException")
                .with_status(400),
            message: "bedrock rejected the request (HTTP 400, ValidationException): The provided model doesn't support counting tokens.".into(),
        }
    );

    h.fake.fault(Fault::AccessDenied.times(1));
    let err = h
        .adapter
        .count_tokens(request(), StreamOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.info.kind, ErrorKind::Auth);
    assert_eq!(err.info.code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(err.info.status, Some(403));

    // A request that cannot be built fails before anything is sent.
    let sent = h.fake.requests().len();
    let mut req = request();
    req.additional_fields.insert("thinking".into(), json!(1));
    req.thinking = Some(openclaw_stream::ThinkingBudget::Tokens(2048));
    let err = h
        .adapter
        .count_tokens(req, StreamOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.info, ErrorInfo::new(ErrorKind::Validation));
    assert!(err.message.contains("`thinking`"), "{}", err.message);
    assert_eq!(h.fake.requests().len(), sent);
}
