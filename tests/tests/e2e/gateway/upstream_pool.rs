//! The pool of connections to Bedrock under the gateway's SDK clients (runtime and discovery):
//! `--upstream-max-idle` and `gateway.timeouts.upstreamIdle` reach the SDK's HTTP client,
//! observed as the client connections the fake counts open (`open_connections`); a bad
//! `OPENCLAW_GATEWAY_UPSTREAM_IDLE_TIMEOUT` is refused at start (exit 3).

use std::time::{Duration, Instant};

use super::support::{CONFIG, Gateway, chat, fake};
use super::user;

/// Starts a gateway (configuration `config`, flags `args`) whose Bedrock endpoints are a
/// fake, answers one chat through it, then waits up to 5 s for the connections open
/// to the fake to read `want`; returns the last reading.
async fn open_after_a_chat(config: &str, args: &[&str], want: usize) -> usize {
    let fake = fake().await;
    let url = fake.url();
    let gw = Gateway::start_with_args(config, &url, args);
    let resp = chat(&gw.addr, &user("pooled?"), &[]).await;
    assert_eq!(resp.status, 200);
    assert!(resp.text().await.contains("Echo: pooled?"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = fake.open_connections();
        if now == want || Instant::now() > deadline {
            drop(gw);
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn idle_connections_to_bedrock_follow_the_pool_settings() {
    // The default pool keeps the connections for 10 s (closed within 20 s): still open after
    // the 5 s of waiting, so a setting that did not reach the SDK fails the cases below.
    let kept = open_after_a_chat(CONFIG, &[], 0).await;
    assert!(kept >= 1, "the default pool kept no connection");

    // No idle connection kept: each is closed as its call ends.
    assert_eq!(
        open_after_a_chat(CONFIG, &["--upstream-max-idle", "0"], 0).await,
        0
    );

    // An idle time of 0.3 s from the file: closed within about 0.6 s.
    let config = CONFIG.replacen('{', "{ gateway: { timeouts: { upstreamIdle: 0.3 } },", 1);
    assert_eq!(open_after_a_chat(&config, &[], 0).await, 0);
}

#[tokio::test]
async fn a_bad_upstream_pool_setting_names_its_variable() {
    let fake = fake().await;
    let var = [("OPENCLAW_GATEWAY_UPSTREAM_IDLE_TIMEOUT", "-1")];
    let (code, stderr) = Gateway::try_start(&fake.url(), &[], &var, true)
        .err()
        .expect("must refuse");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "invalid OPENCLAW_GATEWAY_UPSTREAM_IDLE_TIMEOUT `-1`: expected a non-negative number of seconds"
        ),
        "{stderr}"
    );
}
