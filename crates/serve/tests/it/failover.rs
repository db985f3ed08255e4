//! Failover before the first token on both client APIs, through the real Converse adapter and
//! the fake with per-model faults: the answer's `model`, `x-openclaw-model`, the opt-out
//! header, the circuit breaker in `/metrics`, and the primary's status when every model fails.
//! Assertions are on the models the fake was called for, in order.

use std::collections::BTreeMap;
use std::time::Duration;

use fake_bedrock::{FakeBedrock, Fault, Rule, StreamException, Turn};
use openclaw_serve::FailoverOptions;
use openclaw_stream::failover::FailoverSettings;
use serde_json::{Value, json};

use crate::support::*;

const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const HAIKU_ID: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// [`MODEL`] falls back to [`HAIKU`].
fn options(first_token: Duration, failures: u32, cool_down: Duration) -> FailoverOptions {
    FailoverOptions {
        enabled: true,
        fallbacks: BTreeMap::from([(MODEL.to_string(), vec![HAIKU.parse().unwrap()])]),
        cross_region: false,
        settings: FailoverSettings {
            first_token_timeout: Some(first_token),
            breaker_failures: failures,
            breaker_cool_down: cool_down,
        },
    }
}

fn gateway(fake: &FakeBedrock, failover: FailoverOptions) -> Target {
    let mut setup = Setup::default();
    // One SDK attempt per model: the order of calls is then exact.
    setup.adapter.max_attempts = 1;
    Target::from(&setup.bedrock_with_failover(fake, failover))
}

/// The models the fake was asked to run, in order.
fn called(fake: &FakeBedrock) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| r.path.contains("/converse"))
        .filter_map(|r| r.model_id())
        .collect()
}

fn served_header(resp: &Resp) -> Option<String> {
    resp.headers
        .get("x-openclaw-model")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_throttled_primary_is_served_by_its_fallback_and_the_answer_names_it() {
    let (logs, _guard) = Logs::capture();
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let gw = gateway(
        &fake,
        options(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );

    let resp = gw.chat(&user("Hi"), &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(served_header(&resp).as_deref(), Some(HAIKU));
    assert_eq!(resp.headers["x-openclaw-attempts"], "2");
    let body = resp.json().await;
    assert_eq!(body["model"], HAIKU);
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: Hi");
    assert_eq!(called(&fake), [SONNET, HAIKU_ID]);
    // The access line names the model that answered and counts the calls.
    let log = logs.text();
    assert!(log.contains(&format!("model={HAIKU} attempts=2")), "{log}");
    assert!(
        log.contains(&format!("served by {HAIKU} after {MODEL} failed before its first token ({MODEL}: throttled (ThrottlingException))")),
        "{log}"
    );

    // Streamed: every chunk names the fallback.
    let resp = gw.chat(&streaming(user("Hi")), &[]).await;
    assert_eq!(served_header(&resp).as_deref(), Some(HAIKU));
    let (chunks, done) = chunks(&resp.sse().await);
    assert!(done);
    assert!(chunks.iter().all(|c| c["model"] == HAIKU), "{chunks:#?}");
    assert_eq!(joined(&chunks, "content"), "Echo: Hi");

    // Anthropic's Messages API: `model` is the fallback's id.
    let ask =
        json!({"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]});
    let resp = gw
        .messages(&ask, &[("anthropic-version", "2023-06-01")])
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(served_header(&resp).as_deref(), Some(HAIKU));
    assert_eq!(resp.json().await["model"], HAIKU_ID);
    let mut streamed = ask.clone();
    streamed["stream"] = json!(true);
    let resp = gw
        .messages(&streamed, &[("anthropic-version", "2023-06-01")])
        .await;
    assert_eq!(served_header(&resp).as_deref(), Some(HAIKU));
    let text = resp.text().await;
    let start = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .find(|e| e["type"] == "message_start")
        .expect("message_start");
    assert_eq!(start["message"]["model"], HAIKU_ID);

    let metrics = gw.get("/metrics", &[]).await.text().await;
    assert!(
        metrics.contains(&format!(
            "openclaw_gateway_failover_attempts_total{{target=\"{MODEL}\",outcome=\"failed\"}} 4"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "openclaw_gateway_failover_attempts_total{{target=\"{HAIKU}\",outcome=\"served\"}} 4"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("openclaw_gateway_failover_served_by_fallback_total 4"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_request_can_opt_out_of_failover() {
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let gw = gateway(
        &fake,
        options(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let resp = gw
        .chat(&user("Hi"), &[("x-openclaw-failover", "off")])
        .await;
    assert_eq!(served_header(&resp), None);
    let (status, _, _) = resp.error().await;
    assert_eq!(status, 429);
    assert_eq!(called(&fake), [SONNET]);
}

#[tokio::test]
async fn a_silent_primary_fails_over_at_the_first_token_timeout() {
    let fake = fake().await;
    fake.fault(
        Fault::StallStream { after_events: 1 }
            .for_model(SONNET)
            .forever(),
    );
    let gw = gateway(
        &fake,
        options(Duration::from_millis(500), 5, Duration::from_secs(60)),
    );
    let resp = gw.chat(&user("Hi"), &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json().await["model"], HAIKU);
    assert_eq!(called(&fake), [SONNET, HAIKU_ID]);
}

#[tokio::test]
async fn validation_errors_and_failures_after_the_first_token_do_not_fail_over() {
    let fake = fake().await;
    fake.fault(
        Fault::Error {
            status: 400,
            error_type: "ValidationException".into(),
            message: "The request is wrong".into(),
        }
        .for_model(SONNET),
    );
    let gw = gateway(
        &fake,
        options(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (status, _, _) = gw.chat(&user("Hi"), &[]).await.error().await;
    assert_eq!(status, 400);
    assert_eq!(called(&fake), [SONNET]);

    fake.script(Rule::new(Turn::text("a long answer cut short").chunk_size(3)).forever());
    fake.fault(
        Fault::StreamException {
            after_events: 4,
            kind: StreamException::Throttling,
            message: "slow down".into(),
        }
        .for_model(SONNET),
    );
    let resp = gw.chat(&streaming(user("Hi")), &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(served_header(&resp).as_deref(), Some(MODEL));
    let (chunks, _) = chunks(&resp.sse().await);
    assert!(!joined(&chunks, "content").is_empty());
    assert!(
        chunks.iter().any(|c| c.get("error").is_some()),
        "{chunks:#?}"
    );
    assert_eq!(called(&fake), [SONNET, SONNET]);
}

fn breaker_state(metrics: &str, target: &str) -> Option<u8> {
    let prefix = format!("openclaw_gateway_circuit_breaker_state{{target=\"{target}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn the_breaker_skips_the_primary_then_a_probe_closes_it() {
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let gw = gateway(
        &fake,
        options(Duration::from_secs(10), 2, Duration::from_millis(300)),
    );
    for _ in 0..2 {
        assert_eq!(gw.chat(&user("Hi"), &[]).await.json().await["model"], HAIKU);
    }
    let metrics = gw.get("/metrics", &[]).await.text().await;
    assert_eq!(breaker_state(&metrics, MODEL), Some(1), "{metrics}");
    assert_eq!(called(&fake), [SONNET, HAIKU_ID, SONNET, HAIKU_ID]);

    // Open: the primary is not called at all.
    assert_eq!(gw.chat(&user("Hi"), &[]).await.json().await["model"], HAIKU);
    assert_eq!(called(&fake)[4..], [HAIKU_ID]);
    let metrics = gw.get("/metrics", &[]).await.text().await;
    assert!(
        metrics.contains(&format!(
            "openclaw_gateway_failover_attempts_total{{target=\"{MODEL}\",outcome=\"skipped\"}} 1"
        )),
        "{metrics}"
    );

    // Recovered; after the cool-down one request probes the primary, which closes the breaker.
    fake.clear_faults();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(gw.chat(&user("Hi"), &[]).await.json().await["model"], MODEL);
    assert_eq!(called(&fake)[5..], [SONNET]);
    let metrics = gw.get("/metrics", &[]).await.text().await;
    assert_eq!(breaker_state(&metrics, MODEL), Some(0), "{metrics}");
    assert!(
        metrics.contains(&format!(
            "openclaw_gateway_circuit_breaker_opened_total{{target=\"{MODEL}\"}} 1"
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn every_model_failing_answers_the_primarys_status_with_every_attempt() {
    let (logs, _guard) = Logs::capture();
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(SONNET).forever());
    fake.fault(Fault::ServiceUnavailable.for_model(HAIKU_ID).forever());
    let gw = gateway(
        &fake,
        options(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let resp = gw.chat(&user("Hi"), &[]).await;
    assert_eq!(served_header(&resp), None);
    assert_eq!(resp.headers["x-openclaw-attempts"], "2");
    let (status, _, body) = resp.error().await;
    assert_eq!(status, 429);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("every model failed (2 attempts: {MODEL}: throttled (ThrottlingException); {HAIKU}: unavailable (ServiceUnavailableException))")),
        "{message}"
    );
    assert_eq!(called(&fake), [SONNET, HAIKU_ID]);
    let log = logs.text();
    assert!(log.contains("every model failed (2 attempts"), "{log}");
    assert!(log.contains(&format!("model={MODEL} attempts=2")), "{log}");

    // The same on the Messages API, in Anthropic's shape.
    let ask =
        json!({"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]});
    let resp = gw
        .messages(&ask, &[("anthropic-version", "2023-06-01")])
        .await;
    assert_eq!(resp.status, 429);
    let body: Value = resp.json().await;
    assert_eq!(body["type"], "error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("every model failed (2 attempts"),
        "{body}"
    );
}

#[tokio::test]
async fn region_failover_serves_a_throttled_profile_through_its_global_profile() {
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let mut failover = options(Duration::from_secs(10), 5, Duration::from_secs(60));
    failover.cross_region = true;
    let gw = gateway(&fake, failover);
    let resp = gw.chat(&user("Hi"), &[]).await;
    assert_eq!(resp.status, 200);
    let global = format!("amazon-bedrock/global.{}", SONNET.trim_start_matches("us."));
    assert_eq!(served_header(&resp).as_deref(), Some(global.as_str()));
    assert_eq!(resp.json().await["model"], global);
    // The profile, then the same model through the global profile (before the fallback).
    assert_eq!(
        called(&fake),
        [
            SONNET.to_string(),
            format!("global.{}", SONNET.trim_start_matches("us."))
        ]
    );
}
