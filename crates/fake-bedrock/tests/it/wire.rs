//! Bytes on the wire: eventstream frames and error headers, checked over raw HTTP.

use fake_bedrock::Turn;

use crate::support::*;

#[tokio::test]
async fn eventstream_frames_are_byte_exact() {
    let fake = fake().await;
    fake.script(Turn::text("Hi"));
    let auth = format!("Bearer {TOKEN}");
    let resp = raw(
        &fake,
        "POST",
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        br#"{"messages":[{"role":"user","content":[{"text":"x"}]}]}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/vnd.amazon.eventstream")
    );
    assert!(resp.header("x-amzn-requestid").is_some());

    // Walk every frame, checking the layout and both CRCs with an independent CRC32.
    let mut frames = Vec::new();
    let mut rest = resp.body.as_slice();
    while !rest.is_empty() {
        let total = u32::from_be_bytes(rest[0..4].try_into().unwrap()) as usize;
        let headers_len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        let prelude_crc = u32::from_be_bytes(rest[8..12].try_into().unwrap());
        assert_eq!(prelude_crc, crc32fast::hash(&rest[0..8]));
        let message_crc = u32::from_be_bytes(rest[total - 4..total].try_into().unwrap());
        assert_eq!(message_crc, crc32fast::hash(&rest[0..total - 4]));
        let headers = &rest[12..12 + headers_len];
        let payload = &rest[12 + headers_len..total - 4];
        frames.push((headers.to_vec(), payload.to_vec()));
        rest = &rest[total..];
    }
    assert_eq!(
        frames.len(),
        5,
        "messageStart, delta, stop, messageStop, metadata"
    );

    // The first frame's headers, byte for byte: name-len, name, type 7 (string), u16 len, value.
    let mut expected = Vec::new();
    for (name, value) in [
        (":event-type", "messageStart"),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ] {
        expected.push(name.len() as u8);
        expected.extend_from_slice(name.as_bytes());
        expected.push(7);
        expected.extend_from_slice(&(value.len() as u16).to_be_bytes());
        expected.extend_from_slice(value.as_bytes());
    }
    assert_eq!(frames[0].0, expected);
    let start: serde_json::Value = serde_json::from_slice(&frames[0].1).unwrap();
    assert_eq!(start["role"], "assistant");
    assert!(start["p"].is_string());
    let delta: serde_json::Value = serde_json::from_slice(&frames[1].1).unwrap();
    assert_eq!(delta["contentBlockIndex"], 0);
    assert_eq!(delta["delta"]["text"], "Hi");
    let stop: serde_json::Value = serde_json::from_slice(&frames[3].1).unwrap();
    assert_eq!(stop["stopReason"], "end_turn");
    let meta: serde_json::Value = serde_json::from_slice(&frames[4].1).unwrap();
    assert!(meta["usage"]["totalTokens"].is_u64());
    assert!(meta["metrics"]["latencyMs"].is_u64());

    // An exception frame: same layout, `:exception-type` first, `:message-type: exception`.
    let frame =
        fake_bedrock::exception_frame("throttlingException", br#"{"message":"slow"}"#).unwrap();
    let total = frame.len();
    assert_eq!(
        u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize,
        total
    );
    assert_eq!(
        u32::from_be_bytes(frame[total - 4..].try_into().unwrap()),
        crc32fast::hash(&frame[..total - 4])
    );
    let text = String::from_utf8_lossy(&frame);
    assert!(
        text.contains(":exception-type")
            && text.contains(":message-type")
            && text.contains("exception")
    );
}

#[tokio::test]
async fn error_responses_carry_the_errortype_header() {
    let fake = fake().await;
    let auth = format!("Bearer {TOKEN}");
    let resp = raw(
        &fake,
        "POST",
        &format!("/model/{}/converse", SONNET45.replace(':', "%3A")),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        br#"{"messages":[{"role":"user","content":[{"text":"x"}]}]}"#,
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("x-amzn-errortype"),
        Some("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/")
    );
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("on-demand throughput")
    );
}

#[tokio::test]
async fn open_connections_counts_client_sockets_until_they_close() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let fake = fake().await;
    assert_eq!(fake.open_connections(), 0);
    let settle = |want: usize| {
        let fake = &fake;
        async move {
            for _ in 0..200 {
                if fake.open_connections() == want {
                    return want;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            fake.open_connections()
        }
    };
    let mut a = tokio::net::TcpStream::connect(fake.addr()).await.unwrap();
    let b = tokio::net::TcpStream::connect(fake.addr()).await.unwrap();
    assert_eq!(settle(2).await, 2);
    // A kept-alive connection stays counted after its request; a closed one does not.
    a.write_all(b"GET /foundation-models HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    a.read_exact(&mut head).await.unwrap();
    assert!(head.starts_with(b"HTTP/1.1 "), "{head:?}");
    drop(b);
    assert_eq!(settle(1).await, 1);
    drop(a);
    assert_eq!(settle(0).await, 0);
}
