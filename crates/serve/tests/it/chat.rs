//! Chat completions against Bedrock (the real Converse adapter and the fake): streamed and
//! whole answers, usage with cached tokens, tool calls and their round trip, images, reasoning
//! and its signature round trip.

use fake_bedrock::{Turn, Usage};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn streams_text_with_role_first_usage_and_done() {
    let (logs, _guard) = Logs::capture();
    let fake = fake().await;
    fake.script(
        Turn::text("Hello from Bedrock, streamed in pieces.")
            .chunk_size(5)
            .usage(Usage {
                input_tokens: 11,
                output_tokens: 7,
                cache_read_input_tokens: 40,
                cache_write_input_tokens: 3,
            }),
    );
    let served = serve_shared(Setup::default().bedrock(&fake)).await;
    let resp = served.target().chat(&streaming(user("hi")), &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["content-type"], "text/event-stream");
    assert_eq!(resp.headers["cache-control"], "no-cache");
    assert_eq!(resp.headers["x-accel-buffering"], "no");
    let events = resp.sse().await;
    let (chunks, done) = chunks(&events);
    assert!(done, "[DONE] last: {events:?}");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.iter().all(|c| c["model"] == MODEL));
    assert_eq!(
        joined(&chunks, "content"),
        "Hello from Bedrock, streamed in pieces."
    );
    let content_chunks = chunks
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        })
        .count();
    assert!(content_chunks >= 5, "streamed as deltas: {content_chunks}");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 54);
    assert_eq!(usage["usage"]["completion_tokens"], 7);
    assert_eq!(usage["usage"]["total_tokens"], 61);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 40);
    // The access log names the request, not its body.
    let log = logs.text();
    assert!(
        log.contains("POST /v1/chat/completions 200") && log.contains(MODEL),
        "{log}"
    );
    assert!(!log.contains("hi\""), "no bodies in logs: {log}");
}

#[tokio::test]
async fn non_streaming_answer_and_length_finish() {
    let fake = fake().await;
    let gw = Target::from(&Setup::default().bedrock(&fake));
    let body = gw.chat(&user("Hello there"), &[]).await.json().await;
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Echo: Hello there"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);

    fake.script(Turn::text("cut").stop_reason("max_tokens"));
    let mut req = user("long please");
    req["max_completion_tokens"] = json!(5);
    req["temperature"] = json!(0.2);
    req["stop"] = json!(["END"]);
    let body = gw.chat(&req, &[]).await.json().await;
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    let sent = fake.requests().last().unwrap().json().unwrap();
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 5);
    assert_eq!(sent["inferenceConfig"]["stopSequences"], json!(["END"]));
}

#[tokio::test]
async fn streamed_tool_call_and_tool_round_trip() {
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_text("Let me check.")
            .with_tool_use(
                "tooluse_abc",
                "get_weather",
                json!({"city": "Paris", "unit": "celsius"}),
            )
            .chunk_size(4),
    );
    let gw = Target::from(&Setup::default().bedrock(&fake));
    let mut req = streaming(user("Weather in Paris?"));
    req["tools"] = json!([weather_tool()]);
    req["tool_choice"] = json!("auto");
    let (chunks, done) = chunks(&gw.chat(&req, &[]).await.sse().await);
    assert!(done);
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"].get(0)?["delta"].get("tool_calls"))
        .collect();
    assert!(
        calls.len() >= 3,
        "id/name first, then argument fragments: {calls:?}"
    );
    assert_eq!(calls[0][0]["index"], 0);
    assert_eq!(calls[0][0]["id"], "tooluse_abc");
    assert_eq!(calls[0][0]["function"]["name"], "get_weather");
    let args: String = calls
        .iter()
        .map(|c| c[0]["function"]["arguments"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris", "unit": "celsius"})
    );
    assert!(calls[1..].iter().all(|c| c[0].get("id").is_none()));
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"].get(0)?["finish_reason"].as_str())
        .unwrap();
    assert_eq!(finish, "tool_calls");

    // Round trip: the client sends the call back with its result.
    let req = json!({"model": MODEL, "tools": req["tools"], "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [{"id": "tooluse_abc", "type": "function",
          "function": {"name": "get_weather", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "tooluse_abc", "content": "18C and sunny"},
    ]});
    let body = gw.chat(&req, &[]).await.json().await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Tool result: 18C and sunny"
    );
    let sent = fake.requests().last().unwrap().json().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(
        messages[1]["content"][1]["toolUse"]["toolUseId"],
        "tooluse_abc"
    );
    assert_eq!(
        messages[1]["content"][1]["toolUse"]["input"],
        json!({"city": "Paris", "unit": "celsius"})
    );
    assert_eq!(
        messages[2]["content"][0]["toolResult"]["toolUseId"],
        "tooluse_abc"
    );
}

#[tokio::test]
async fn images_as_data_urls_and_remote_urls_refused() {
    let fake = fake().await;
    let mut setup = Setup::default();
    setup.options.limits.max_image_bytes = 64;
    let small = Target::from(&setup.bedrock(&fake));
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let req = json!({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}},
    ]}]});
    let resp = small.chat(&req, &[]).await;
    assert_eq!(
        resp.status, 413,
        "the 70-byte PNG is over the 64-byte limit"
    );
    let err = resp.json().await;
    assert_eq!(err["error"]["code"], "image_too_large");
    assert!(converse_streams(&fake).is_empty(), "refused before Bedrock");

    let gw = Target::from(&Setup::default().bedrock(&fake));
    let resp = gw.chat(&req, &[]).await;
    assert_eq!(resp.status, 200);
    let sent = fake.requests().last().unwrap().json().unwrap();
    let image = &sent["messages"][0]["content"][1]["image"];
    assert_eq!(image["format"], "png");
    assert_eq!(image["source"]["bytes"], png);

    let remote = json!({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]}]});
    let resp = gw.chat(&remote, &[]).await;
    assert_eq!(resp.status, 400);
    let err = resp.json().await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("remote image URLs (https:) are not supported"),
        "{err}"
    );
    assert_eq!(
        err["error"]["param"],
        "messages[0].content[0].image_url.url"
    );
}

#[tokio::test]
async fn reasoning_streams_and_signature_round_trips() {
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_reasoning("The user wants weather; call the tool.", "c2lnbmF0dXJlLTE=")
            .with_tool_use("tooluse_r1", "get_weather", json!({"city": "Oslo"})),
    );
    let gw = Target::from(&Setup::default().bedrock(&fake));
    let mut req = streaming(user("Weather in Oslo?"));
    req["reasoning_effort"] = json!("high");
    req["tools"] = json!([weather_tool()]);
    let (chunks, done) = chunks(&gw.chat(&req, &[]).await.sse().await);
    assert!(done);
    let reasoning = joined(&chunks, "reasoning_content");
    assert_eq!(reasoning, "The user wants weather; call the tool.");
    let signature = joined(&chunks, "reasoning_signature");
    assert_eq!(signature, "c2lnbmF0dXJlLTE=");
    let sent = fake.requests().last().unwrap().json().unwrap();
    assert_eq!(
        sent["additionalModelRequestFields"]["thinking"]["type"], "enabled",
        "reasoning_effort turns thinking on: {sent}"
    );

    // The client replays reasoning and signature with the tool result: Bedrock gets them back.
    let req = json!({"model": MODEL, "reasoning_effort": "high", "tools": req["tools"], "messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": null, "reasoning_content": reasoning, "reasoning_signature": signature,
         "tool_calls": [{"id": "tooluse_r1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": "tooluse_r1", "content": "-3C"},
    ]});
    let body = gw.chat(&req, &[]).await.json().await;
    assert_eq!(body["choices"][0]["message"]["content"], "Tool result: -3C");
    let sent = fake.requests().last().unwrap().json().unwrap();
    let replayed = &sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"];
    assert_eq!(replayed["text"], "The user wants weather; call the tool.");
    assert_eq!(replayed["signature"], "c2lnbmF0dXJlLTE=");
    // Non-streaming answers carry the documented fields too.
    assert!(body["choices"][0]["message"]["reasoning_content"].is_string());
    assert!(body["choices"][0]["message"]["reasoning_signature"].is_string());
}

#[tokio::test]
async fn an_alias_is_matched_as_openclaw_matches_it() {
    // Trimmed and without regard to case (the setup's alias is `haiku`); a name with `/` is a
    // model reference, never an alias.
    let fake = fake().await;
    let gw = Target::from(&Setup::default().bedrock(&fake));
    for name in ["haiku", "Haiku", " HAIKU "] {
        let mut req = user("hi");
        req["model"] = json!(name);
        let body = gw.chat(&req, &[]).await.json().await;
        assert_eq!(
            body["choices"][0]["message"]["content"], "Echo: hi",
            "{name:?}: {body}"
        );
    }
    let mut req = user("hi");
    req["model"] = json!("other/haiku");
    assert_eq!(gw.chat(&req, &[]).await.status, 404);
}
