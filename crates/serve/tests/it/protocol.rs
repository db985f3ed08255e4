//! The wire format over a scripted in-memory stream: SSE framing and chunk sequence, which
//! events share a body frame (one socket write), the
//! whole-answer JSON (snapshots, ids and timestamps redacted), streams that end without a
//! terminal event, failures before the first event, unknown routes, and the router mounted
//! under a prefix.

use openclaw_serve::ServeOptions;
use openclaw_stream::{
    AssistantContent, AssistantMessage, ErrorInfo, ErrorKind, StopReason, StreamEvent, ToolCall,
    Usage,
};
use serde_json::{Value, json};

use crate::support::*;

/// Reasoning with a signature, text and a tool call split over two deltas.
fn rich_answer() -> Vec<StreamEvent> {
    let usage = Usage {
        input: 10,
        output: 5,
        cache_read: 2,
        cache_write: 1,
        ..Usage::default()
    };
    let call = ToolCall {
        id: "call_1".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
        invalid_arguments: None,
    };
    let mut message = AssistantMessage::new("scripted", LOCAL, "scripted-1");
    message.content = vec![
        AssistantContent::Thinking {
            thinking: "Thinking.".into(),
            signature: Some("c2ln".into()),
            redacted: None,
        },
        AssistantContent::Text {
            text: "Hello".into(),
        },
        AssistantContent::ToolCall(call.clone()),
    ];
    message.usage = usage;
    vec![
        StreamEvent::Start {
            model: "scripted-1".into(),
        },
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: "Think".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: "ing.".into(),
        },
        StreamEvent::ThinkingEnd {
            index: 0,
            thinking: "Thinking.".into(),
            signature: Some("c2ln".into()),
            redacted: None,
        },
        StreamEvent::TextStart { index: 1 },
        StreamEvent::TextDelta {
            index: 1,
            delta: "Hel".into(),
        },
        StreamEvent::TextDelta {
            index: 1,
            delta: "lo".into(),
        },
        StreamEvent::TextEnd {
            index: 1,
            text: "Hello".into(),
        },
        StreamEvent::ToolCallStart {
            index: 2,
            id: "call_1".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            delta: "{\"city\":".into(),
            partial_arguments: json!({}),
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            delta: "\"Paris\"}".into(),
            partial_arguments: json!({"city": "Paris"}),
        },
        StreamEvent::ToolCallEnd { index: 2, call },
        StreamEvent::Done {
            stop_reason: StopReason::ToolUse,
            message: Box::new(message),
            usage,
        },
    ]
}

fn local(text: &str) -> Value {
    json!({"model": LOCAL_MODEL, "messages": [{"role": "user", "content": text}]})
}

/// Splits an SSE body into its `data:` payloads, checking the framing: every event is one
/// `data: ` line followed by a blank line.
fn framed(text: &str) -> Vec<String> {
    assert!(text.ends_with("\n\n"), "an unterminated event: {text:?}");
    text.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|event| {
            let data = event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {event:?}"));
            assert!(!data.contains('\n'), "one line per event: {event:?}");
            data.to_string()
        })
        .collect()
}

#[tokio::test]
async fn sse_chunk_sequence() {
    let stream = Scripted::new();
    stream.push(rich_answer());
    let gw = Target::from(&scripted(stream.clone(), ServeOptions::default()));
    let mut req = local("hi");
    req["stream"] = json!(true);
    req["stream_options"] = json!({"include_usage": true});
    let resp = gw.chat(&req, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["content-type"], "text/event-stream");
    let events = framed(&resp.text().await);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let (chunks, done) = chunks(&events);
    assert!(done);
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"), "{id}");
    assert!(
        chunks
            .iter()
            .all(|c| c["id"] == id && c["model"] == LOCAL_MODEL)
    );
    insta::assert_json_snapshot!("sse_chunk_sequence", chunks, {
        "[].id" => "[id]",
        "[].created" => "[created]",
    });
    assert_eq!(stream.requests().len(), 1);
    assert_eq!(stream.requests()[0].model.id, "scripted-1");
}

#[tokio::test]
async fn whole_answer_json() {
    let stream = Scripted::new();
    stream.push(rich_answer());
    let gw = Target::from(&scripted(stream, ServeOptions::default()));
    let resp = gw.chat(&local("hi"), &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["content-type"], "application/json");
    let body = resp.json().await;
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    insta::assert_json_snapshot!("whole_answer_json", body, {
        ".id" => "[id]",
        ".created" => "[created]",
    });
}

#[tokio::test]
async fn without_include_usage_no_usage_chunk() {
    let stream = Scripted::new();
    stream.push(text_answer(
        &["a", "b"],
        StopReason::Length,
        Usage::default(),
    ));
    let gw = Target::from(&scripted(stream, ServeOptions::default()));
    let mut req = local("hi");
    req["stream"] = json!(true);
    let events = framed(&gw.chat(&req, &[]).await.text().await);
    let (chunks, done) = chunks(&events);
    assert!(done);
    assert_eq!(joined(&chunks, "content"), "ab");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "length");
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "{chunks:?}"
    );
}

#[tokio::test]
async fn streams_ending_without_a_terminal_event() {
    let stream = Scripted::new();
    let mut cut = text_answer(&["half"], StopReason::Stop, Usage::default());
    cut.pop();
    stream.push(cut.clone());
    stream.push(cut);
    stream.push(Vec::new());
    let gw = Target::from(&scripted(stream, ServeOptions::default()));

    // Streamed: the text so far, then an error event and no [DONE].
    let mut req = local("hi");
    req["stream"] = json!(true);
    let events = framed(&gw.chat(&req, &[]).await.text().await);
    let (chunks, done) = chunks(&events);
    assert!(!done, "{events:?}");
    assert_eq!(joined(&chunks, "content"), "half");
    let last = chunks.last().unwrap();
    assert_eq!(last["error"]["code"], "upstream_error");
    assert_eq!(
        last["error"]["message"],
        "upstream (bedrock) error: bedrock stream ended without a terminal event"
    );

    // Whole answer: 502.
    let (status, _, body) = gw.chat(&local("hi"), &[]).await.error().await;
    assert_eq!(status, 502);
    assert_eq!(
        body["error"]["message"],
        "upstream (bedrock) error: bedrock stream ended without a terminal event"
    );

    // No event at all: 502 before any byte of SSE.
    let resp = gw.chat(&req, &[]).await;
    assert_ne!(resp.headers["content-type"], "text/event-stream");
    let (status, _, body) = resp.error().await;
    assert_eq!(status, 502);
    assert_eq!(
        body["error"]["message"],
        "upstream (bedrock) error: bedrock stream ended without any event"
    );
}

#[tokio::test]
async fn a_failure_before_the_first_event_gets_its_status() {
    let mut throttled = ErrorInfo::new(ErrorKind::Throttled).with_code("ThrottlingException");
    throttled.retry_after_secs = Some(9);
    let cases = [
        (throttled, 429, Some("9"), "upstream_throttled"),
        (
            ErrorInfo::new(ErrorKind::Auth).with_code("AccessDeniedException"),
            403,
            None,
            "upstream_access_denied",
        ),
        (
            ErrorInfo::new(ErrorKind::Validation).with_code("ValidationException"),
            400,
            None,
            "upstream_validation",
        ),
        (
            ErrorInfo::new(ErrorKind::Timeout),
            504,
            None,
            "upstream_timeout",
        ),
    ];
    let stream = Scripted::new();
    let gw = Target::from(&scripted(stream.clone(), ServeOptions::default()));
    for (info, status, retry, code) in cases {
        stream.push(vec![error_event(info, "refused")]);
        let mut req = local("hi");
        req["stream"] = json!(true);
        let (got, got_retry, body) = gw.chat(&req, &[]).await.error().await;
        assert_eq!((got, got_retry.as_deref()), (status, retry), "{code}");
        assert_eq!(body["error"]["code"], code);
        assert_eq!(
            body["error"]["message"],
            "upstream (bedrock) error: refused"
        );
    }
    let metrics = gw.get("/metrics", &[]).await.text().await;
    assert!(
        metrics.contains(
            r#"openclaw_gateway_upstream_errors_total{type="throttled",code="ThrottlingException"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn unknown_routes_and_models_answer_404_in_openai_shape() {
    let gw = Target::from(&scripted(Scripted::new(), ServeOptions::default()));
    let (status, _, body) = gw.get("/v1/nope", &[]).await.error().await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`/v1/nope`"),
        "{body}"
    );
    let mut req = local("hi");
    req["model"] = json!("local/other-model");
    let (status, _, body) = gw.chat(&req, &[]).await.error().await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    // Only the configured provider is served: no Bedrock model without a Bedrock stream.
    req["model"] = json!(MODEL);
    assert_eq!(gw.chat(&req, &[]).await.status, 404);
    let models = gw.get("/v1/models", &[]).await.json().await;
    let ids: Vec<&Value> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&json!(LOCAL_MODEL)]);
}

#[tokio::test]
async fn router_mounted_under_a_prefix() {
    let stream = Scripted::new();
    stream.push(text_answer(
        &["mounted"],
        StopReason::Stop,
        Usage::default(),
    ));
    let gateway = scripted(stream.clone(), ServeOptions::default());
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the host app" }))
        .nest("/llm", gateway.router());
    let gw = Target::Router(app);

    let resp = gw
        .request(
            "POST",
            "/llm/v1/chat/completions",
            &[],
            Some(serde_json::to_vec(&local("hi")).unwrap()),
        )
        .await;
    assert_eq!(resp.status, 200);
    let body = resp.json().await;
    assert_eq!(body["choices"][0]["message"]["content"], "mounted");
    assert_eq!(body["model"], LOCAL_MODEL);
    assert_eq!(stream.requests().len(), 1);

    let models = gw.get("/llm/v1/models", &[]).await.json().await;
    assert_eq!(models["data"][0]["id"], LOCAL_MODEL);
    assert_eq!(
        gw.get("/llm/healthz", &[]).await.json().await["status"],
        "ok"
    );
    assert_eq!(gw.get("/", &[]).await.text().await, "the host app");
    // Nothing is served outside the prefix.
    let resp = gw
        .request(
            "POST",
            "/v1/chat/completions",
            &[],
            Some(serde_json::to_vec(&local("hi")).unwrap()),
        )
        .await;
    assert_eq!(resp.status, 404);
    assert_eq!(stream.requests().len(), 1);
    // Metrics name the gateway's routes, not the mount point.
    let metrics = gw.get("/llm/metrics", &[]).await.text().await;
    assert!(
        metrics.contains(
            r#"openclaw_gateway_requests_total{route="/v1/chat/completions",status="200"} 1"#
        ),
        "{metrics}"
    );
}

/// The body frames of a response (each is one write on the client's connection).
async fn frames(resp: Resp) -> Vec<String> {
    use http_body_util::BodyExt as _;
    let mut body = resp.body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            out.push(String::from_utf8(data.to_vec()).unwrap());
        }
    }
    out
}

#[tokio::test]
async fn events_ready_together_share_a_body_frame_and_late_ones_do_not() {
    let stream = Scripted::new();
    let target = Target::from(&scripted(stream.clone(), ServeOptions::default()));
    let body = streaming(local("x"));

    // A whole answer the model stream holds at once: one frame (one socket write), complete.
    stream.push(text_answer(
        &["a", "b", "c", "d"],
        StopReason::Stop,
        Usage::default(),
    ));
    let all = frames(target.chat(&body, &[]).await).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].matches("data: ").count(), 8, "{all:?}");
    assert!(all[0].ends_with("data: [DONE]\n\n"));

    // Events handed over one per scheduler turn (as the Bedrock connection's reader does):
    // the first token goes out at once, the rest together.
    let live = stream.live();
    let events = text_answer(&["a", "b", "c", "d"], StopReason::Stop, Usage::default());
    live.unbounded_send(events[0].clone()).unwrap();
    let resp = target.chat(&body, &[]).await;
    let sender = tokio::spawn(async move {
        for event in &events[1..] {
            live.unbounded_send(event.clone()).unwrap();
            tokio::task::yield_now().await;
        }
    });
    let turns = frames(resp).await;
    sender.await.unwrap();
    assert_eq!(turns.len(), 3, "{turns:?}");
    assert!(turns[0].contains("\"role\":\"assistant\"") && !turns[0].contains("\"a\""));
    assert!(turns[1].contains("\"content\":\"a\"") && !turns[1].contains("\"b\""));
    assert!(turns[2].contains("\"content\":\"b\"") && turns[2].ends_with("data: [DONE]\n\n"));

    // Events that arrive apart go out apart: nothing waits for an event not there yet. Each
    // event is sent only once the frame before it was read (a handshake, no timing).
    use http_body_util::BodyExt as _;
    let live = stream.live();
    let events = text_answer(&["a", "b"], StopReason::Stop, Usage::default());
    live.unbounded_send(events[0].clone()).unwrap();
    let mut resp = target.chat(&body, &[]).await;
    let mut apart = Vec::new();
    let mut rest = events[1..].iter();
    let guard = std::time::Duration::from_secs(10);
    while let Some(frame) = tokio::time::timeout(guard, resp.body.frame())
        .await
        .unwrap()
    {
        let Ok(data) = frame.unwrap().into_data() else {
            continue;
        };
        apart.push(String::from_utf8(data.to_vec()).unwrap());
        // `text_start` and `text_end` render nothing: send until an event that renders is
        // on its way.
        for event in rest.by_ref() {
            live.unbounded_send(event.clone()).unwrap();
            if !matches!(
                event,
                StreamEvent::TextStart { .. } | StreamEvent::TextEnd { .. }
            ) {
                break;
            }
        }
    }
    // The role chunk; "a"; "b"; the end.
    assert_eq!(apart.len(), 4, "{apart:?}");
    assert!(apart[0].contains("\"role\":\"assistant\"") && !apart[0].contains("\"a\""));
    assert!(apart[1].contains("\"content\":\"a\"") && !apart[1].contains("\"b\""));
    assert!(apart[2].contains("\"content\":\"b\""));
    assert!(
        apart[3].contains("\"finish_reason\":\"stop\"") && apart[3].ends_with("data: [DONE]\n\n")
    );
}

#[tokio::test]
async fn on_a_busy_runtime_a_frame_waits_for_later_events_only_briefly() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stream = Scripted::new();
    let target = Target::from(&scripted(stream.clone(), ServeOptions::default()));
    let body = streaming(local("x"));

    // Another task makes every scheduler turn take half a millisecond, and the model stream
    // hands over one event per turn: without a bound on the wall clock, a frame would keep
    // gathering (up to 64 events, over 30 ms) while each event already rendered waits.
    let stop = Arc::new(AtomicBool::new(false));
    let busy = tokio::spawn({
        let stop = stop.clone();
        async move {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_micros(500));
                tokio::task::yield_now().await;
            }
        }
    });
    let pieces: Vec<String> = (0..200).map(|i| format!("t{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let events = text_answer(&pieces, StopReason::Stop, Usage::default());
    let live = stream.live();
    live.unbounded_send(events[0].clone()).unwrap();
    let resp = target.chat(&body, &[]).await;
    let sender = tokio::spawn(async move {
        for event in &events[1..] {
            live.unbounded_send(event.clone()).unwrap();
            tokio::task::yield_now().await;
        }
    });
    let all = frames(resp).await;
    stop.store(true, Ordering::Relaxed);
    sender.await.unwrap();
    busy.await.unwrap();
    let text: String = all.concat();
    assert_eq!(
        text.matches("\"content\":\"t").count(),
        200,
        "every token arrives"
    );
    let most = all
        .iter()
        .map(|f| f.matches("data: ").count())
        .max()
        .unwrap();
    // 2 ms over half-millisecond turns is a few events; unbounded it is 64 per frame.
    assert!(most <= 32, "a frame held {most} events: {all:?}");
}

#[tokio::test]
async fn streamed_answers_ask_the_model_stream_for_deltas_only() {
    let stream = Scripted::new();
    for _ in 0..4 {
        stream.push(rich_answer());
    }
    let gw = Target::from(&scripted(stream.clone(), ServeOptions::default()));
    let anthropic = [("anthropic-version", "2023-06-01")];
    let message = |stream: bool| {
        serde_json::to_vec(&json!({
            "model": LOCAL_MODEL, "max_tokens": 100, "stream": stream,
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .unwrap()
    };
    assert_eq!(gw.chat(&streaming(local("hi")), &[]).await.status, 200);
    assert_eq!(gw.chat(&local("hi"), &[]).await.status, 200);
    for stream in [true, false] {
        let resp = gw
            .request("POST", "/v1/messages", &anthropic, Some(message(stream)))
            .await;
        assert_eq!(resp.status, 200);
    }
    // A streamed answer is forwarded as deltas (the accumulated text is never read); a whole
    // answer is built from the accumulated message.
    assert_eq!(stream.deltas_only(), [true, false, true, false]);
}
