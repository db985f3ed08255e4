//! Traces and JSON logs of the shipped binary: spans exported over OTLP/HTTP (protobuf) to a
//! receiver in the test, joined to the client's `traceparent` and handed on to Bedrock, flushed
//! on SIGTERM; the JSON access line with the request id and Bedrock's request id.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fake_bedrock::{Turn, Usage};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::{Value, json};

use super::support::{Gateway, MODEL, chat, fake, request};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

/// What the receiver got: the spans, and whatever was wrong with a request.
#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    problems: Vec<String>,
}

/// An OTLP/HTTP receiver on loopback: the spans of every `POST /v1/traces`.
async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Received::default()));
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let sink = sink.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes());
                        let mut got = sink.lock().unwrap();
                        let content_type = parts.headers.get("content-type");
                        if parts.uri.path() != "/v1/traces"
                            || content_type.is_none_or(|v| v != "application/x-protobuf")
                        {
                            got.problems
                                .push(format!("{} {:?}", parts.uri, parts.headers));
                        }
                        match body.map(ExportTraceServiceRequest::decode) {
                            Ok(Ok(export)) => {
                                for resource in export.resource_spans {
                                    let service = resource
                                        .resource
                                        .as_ref()
                                        .map(|r| attrs(&r.attributes))
                                        .and_then(|a| a.get("service.name").cloned());
                                    if service != Some(json!("openclaw-gateway")) {
                                        got.problems.push(format!("service.name {service:?}"));
                                    }
                                    for scope in resource.scope_spans {
                                        got.spans.extend(scope.spans);
                                    }
                                }
                            }
                            other => got.problems.push(format!("undecodable body: {other:?}")),
                        }
                        let mut resp = hyper::Response::new(Full::new(Bytes::new()));
                        resp.headers_mut()
                            .insert("content-type", "application/x-protobuf".parse().unwrap());
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, received)
}

/// A span's attributes as JSON values.
fn attrs(list: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> HashMap<String, Value> {
    list.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                Some(Any::StringValue(s)) => json!(s),
                Some(Any::IntValue(i)) => json!(i),
                Some(Any::BoolValue(b)) => json!(b),
                Some(Any::DoubleValue(d)) => json!(d),
                other => json!(format!("{other:?}")),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Multi-threaded: the receiver must answer while the test thread waits for the exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_carry_genai_attributes_and_the_client_trace_to_bedrock() {
    let (url, received) = receiver().await;
    let fake = fake().await;
    fake.script(Turn::text("Traced answer").chunk_size(4).usage(Usage {
        input_tokens: 11,
        output_tokens: 7,
        cache_read_input_tokens: 0,
        cache_write_input_tokens: 0,
    }));
    let mut gw = Gateway::start(
        &fake.url(),
        &["--log-format", "json"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str())],
    );
    let traceparent = format!("00-{TRACE_ID}-{CLIENT_SPAN}-01");
    let body =
        json!({"model": MODEL, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let headers = [
        ("traceparent", traceparent.as_str()),
        ("x-request-id", "e2e-request-1"),
    ];
    // Probes get no span.
    let probe = request(&gw.addr, "GET", "/healthz", &[], None).await;
    assert_eq!(probe.status, 200);
    let resp = chat(&gw.addr, &body, &headers).await;
    assert_eq!(resp.status, 200);
    assert!(resp.text().await.contains("[DONE]"));

    // SIGTERM flushes the buffered spans before the process exits.
    gw.terminate();
    assert_eq!(gw.wait_exit(Duration::from_secs(15)), Some(0));
    let received = received.lock().unwrap();
    assert_eq!(received.problems, Vec::<String>::new());
    let spans = received.spans.clone();
    drop(received);
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| {
                let names: Vec<&String> = spans.iter().map(|s| &s.name).collect();
                panic!("span {name:?} in {names:?}: stderr:\n{}", gw.stderr())
            })
            .clone()
    };
    assert!(
        !spans.iter().any(|s| s.name.contains("healthz")),
        "no probe spans"
    );
    let bedrock_model = MODEL.trim_start_matches("amazon-bedrock/");
    let request = find("POST /v1/chat/completions");
    let call = find(&format!("chat {bedrock_model}"));

    // One trace: the client's; the request span under the client's span, the Bedrock call
    // under the request span.
    assert_eq!(hex(&request.trace_id), TRACE_ID);
    assert_eq!(hex(&call.trace_id), TRACE_ID);
    assert_eq!(hex(&request.parent_span_id), CLIENT_SPAN);
    assert_eq!(call.parent_span_id, request.span_id);
    assert_eq!(request.kind, 2, "server");
    assert_eq!(call.kind, 3, "client");

    let sent = fake.requests();
    let converse = sent
        .iter()
        .find(|r| r.path.ends_with("/converse-stream"))
        .expect("a converse-stream call");
    for span in [&request, &call] {
        let a = attrs(&span.attributes);
        assert_eq!(a["gen_ai.system"], "aws.bedrock", "{a:?}");
        assert_eq!(a["gen_ai.operation.name"], "chat");
        assert_eq!(a["gen_ai.request.model"], bedrock_model);
        assert_eq!(a["gen_ai.response.model"], bedrock_model);
        assert_eq!(a["gen_ai.usage.input_tokens"], 11);
        assert_eq!(a["gen_ai.usage.output_tokens"], 7);
        assert_eq!(a["gen_ai.response.finish_reasons"], "stop");
        assert_eq!(a["aws.request_id"], converse.request_id.as_str());
    }
    let a = attrs(&request.attributes);
    assert_eq!(a["http.response.status_code"], 200);
    assert_eq!(a["request_id"], "e2e-request-1");

    // Bedrock got the trace, with the Bedrock call's span as the parent.
    assert_eq!(
        converse.header("traceparent"),
        Some(format!("00-{TRACE_ID}-{}-01", hex(&call.span_id)).as_str())
    );

    // The JSON access line.
    let log = gw.stderr();
    let line: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["target"] == "openclaw::gateway::access" && l["method"] == "POST")
        .unwrap_or_else(|| panic!("a JSON access line in:\n{log}"));
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["request_id"], "e2e-request-1");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["path"], "/v1/chat/completions");
    assert_eq!(line["status"], 200);
    assert_eq!(line["model"], MODEL);
    assert_eq!(line["bedrock_request_id"], converse.request_id.as_str());
    assert!(line["duration_ms"].is_u64(), "{line}");
    assert!(line["timestamp"].is_string(), "{line}");
    // Every stderr line is one JSON object.
    for l in log.lines().filter(|l| !l.trim().is_empty()) {
        assert!(serde_json::from_str::<Value>(l).is_ok(), "not JSON: {l}");
    }
}

#[tokio::test]
async fn traces_are_refused_for_an_unsupported_endpoint() {
    let fake = fake().await;
    let err = Gateway::try_start(
        &fake.url(),
        &[],
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector.invalid:4318",
        )],
        true,
    )
    .err()
    .expect("must refuse");
    assert_eq!(err.0, Some(3), "{}", err.1);
    assert!(err.1.contains("expected an http:// URL"), "{}", err.1);
    // Only the gateway makes spans: other commands ignore the OTEL_* variables.
    let sandbox = openclaw_e2e::Sandbox::new(None);
    let completions = sandbox.run(
        &["completions", "bash"],
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector.invalid:4318",
        )],
        None,
    );
    assert!(completions.ok().contains("openclaw"));
    let err = Gateway::try_start(&fake.url(), &[], &[("OPENCLAW_LOG_FORMAT", "yaml")], true)
        .err()
        .expect("must refuse");
    assert_eq!(err.0, Some(3), "{}", err.1);
    assert!(
        err.1
            .contains("OPENCLAW_LOG_FORMAT: expected `text` or `json`"),
        "{}",
        err.1
    );
}
