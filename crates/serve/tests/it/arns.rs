//! Models named by Bedrock ARNs on both client APIs: a discovered application inference profile
//! (listed by its ARN), and unlisted ARNs (a system profile's, a foundation model's, a
//! provisioned throughput's), which still reach Bedrock, percent-encoded in the path, with
//! traits from `GetInferenceProfile` for profiles; the cost of each answer in `/metrics`.

use serde_json::{Value, json};

use crate::support::*;

const APP_ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
const SYSTEM_ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const FOUNDATION_ARN: &str =
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0";
const PROVISIONED_ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7q2w9e4r1t";

fn chat_body(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]})
}

async fn messages(target: &Target, model: &str) -> Resp {
    let body = json!({
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    });
    let body = serde_json::to_vec(&body).expect("json");
    target
        .request(
            "POST",
            "/v1/messages",
            &[("anthropic-version", "2023-06-01")],
            Some(body),
        )
        .await
}

#[tokio::test]
async fn both_routes_serve_models_named_by_any_bedrock_arn() {
    let fake = fake().await;
    let gateway = Setup::default().bedrock(&fake);
    let target = Target::from(&gateway);

    let listed = target.get("/v1/models", &[]).await.json().await;
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&format!("amazon-bedrock/{APP_ARN}").as_str()),
        "{ids:?}"
    );

    for arn in [APP_ARN, SYSTEM_ARN, FOUNDATION_ARN, PROVISIONED_ARN] {
        let resp = target.chat(&chat_body(arn), &[]).await;
        let status = resp.status;
        let answer = resp.json().await;
        assert_eq!(status, 200, "{arn}: {answer}");
        assert_eq!(
            answer["choices"][0]["message"]["content"], "Echo: Hi",
            "{arn}"
        );

        let resp = messages(&target, arn).await;
        assert_eq!(resp.status, 200, "{arn}");
        let answer: Value = resp.json().await;
        assert_eq!(answer["content"][0]["text"], "Echo: Hi", "{arn}");
    }
    let cost_of = |metrics: &str, arn: &str| -> Option<f64> {
        let prefix = format!("openclaw_cost_usd_total{{model=\"{arn}\"}} ");
        let line = metrics.lines().find(|l| l.starts_with(&prefix))?;
        line.rsplit_once(' ')?.1.parse().ok()
    };
    let before = target.get("/metrics", &[]).await.text().await;
    let app_before = cost_of(&before, APP_ARN).unwrap_or_else(|| panic!("{before}"));
    // Streamed: the cost is counted when the stream ends.
    let resp = target.chat(&streaming(chat_body(APP_ARN)), &[]).await;
    assert_eq!(resp.status, 200);
    let (chunks, done) = chunks(&resp.sse().await);
    assert!(done);
    assert_eq!(joined(&chunks, "content"), "Echo: Hi");
    let paths: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .filter(|p| p.starts_with("/model/"))
        .collect();
    insta::assert_json_snapshot!("arn_paths", paths);
    // Unlisted profile ARNs were described once each (remembered afterwards).
    let described: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .filter(|p| p.starts_with("/inference-profiles/"))
        .collect();
    insta::assert_json_snapshot!("arn_described", described);

    // Priced through the base model: the application profile and the described ARNs count;
    // the provisioned throughput has no known price.
    let metrics = target.get("/metrics", &[]).await.text().await;
    for arn in [APP_ARN, SYSTEM_ARN, FOUNDATION_ARN] {
        let usd = cost_of(&metrics, arn).unwrap_or_else(|| panic!("no cost for {arn}:\n{metrics}"));
        assert!(usd > 0.0, "{arn}: {usd}");
    }
    assert!(
        cost_of(&metrics, APP_ARN).unwrap() > app_before,
        "{metrics}"
    );
    assert!(!metrics.contains(PROVISIONED_ARN), "{metrics}");
}

#[tokio::test]
async fn an_arn_of_another_account_is_bedrocks_access_denied() {
    let fake = fake().await;
    let gateway = Setup::default().bedrock(&fake);
    let target = Target::from(&gateway);
    let other = "arn:aws:bedrock:us-east-1:210987654321:application-inference-profile/k3v9xq2m7p1a";
    let resp = target.chat(&chat_body(other), &[]).await;
    assert_eq!(resp.status, 403);
    let resp = messages(&target, other).await;
    assert_eq!(resp.status, 403);
}
