//! `/v1/models` (discovery through the fake) and `/v1/models/{id}` in both APIs' shapes, aliases
//! and bare ids, `/healthz`, `/readyz`,
//! `/metrics`, and the bearer token.

use openclaw_config::Secret;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn models_health_ready_metrics_and_aliases() {
    let fake = fake().await;
    let gw = Target::from(&Setup::default().bedrock(&fake));
    let models = gw.get("/v1/models", &[]).await.json().await;
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&MODEL), "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("amazon-bedrock/")));
    // Application profiles are named by ARN; the filter kept them for their base model.
    assert!(
        ids.iter()
            .filter(|id| !id.contains(":application-inference-profile/"))
            .all(|id| id.contains("anthropic")),
        "filter applied"
    );
    let haiku = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["aliases"] == json!(["haiku"]))
        .unwrap();
    assert_eq!(haiku["id"], HAIKU);

    // Bare id and alias.
    let mut req = user("bare");
    req["model"] = json!("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(gw.chat(&req, &[]).await.status, 200);
    req["model"] = json!("haiku");
    let body = gw.chat(&req, &[]).await.json().await;
    assert_eq!(body["model"], HAIKU);
    assert!(
        fake.requests()
            .last()
            .unwrap()
            .path
            .contains("us.anthropic.claude-haiku-4-5")
    );

    assert_eq!(gw.get("/healthz", &[]).await.json().await["status"], "ok");
    let ready = gw.get("/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    let ready = ready.json().await;
    assert_eq!(ready["ready"], true);
    assert_eq!(
        ready["checks"]["credentials"],
        "env: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY"
    );
    assert_eq!(ready["checks"]["shutting_down"], false);
    let metrics = gw.get("/metrics", &[]).await;
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await;
    for needle in [
        "openclaw_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 2",
        "openclaw_gateway_requests_total{route=\"/v1/models\",status=\"200\"} 1",
        "openclaw_gateway_stream_duration_seconds_count 2",
        "openclaw_gateway_time_to_first_token_seconds_count 2",
        "openclaw_gateway_tokens_total{kind=\"output\"}",
        "openclaw_gateway_streams_in_flight 0",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn readyz_fails_without_credentials() {
    let fake = fake().await;
    let setup = Setup {
        keys: false,
        ..Setup::default()
    };
    let gw = Target::from(&setup.bedrock(&fake));
    let ready = gw.get("/readyz", &[]).await;
    assert_eq!(ready.status, 503);
    let ready = ready.json().await;
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["checks"]["credentials"], "none detected");
}

#[tokio::test]
async fn token_guards_the_api_and_metrics_but_not_the_probes() {
    let (logs, _guard) = Logs::capture();
    let fake = fake().await;
    let token = "gw-test-token-5ec2e7";
    let mut setup = Setup::default();
    setup.options.token = Some(Secret::new(token));
    let gw = Target::from(&setup.bedrock(&fake));
    let resp = gw.chat(&user("x"), &[]).await;
    assert_eq!(resp.headers["www-authenticate"], "Bearer");
    let (status, _, body) = resp.error().await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");
    // OpenAI's clients send a bearer token: the message names that one.
    let said = body["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("`Authorization: Bearer <gateway token>`"),
        "{said}"
    );
    assert!(!said.contains("x-api-key"), "{said}");
    let wrong = [("authorization", "Bearer gw-test-token-5ec2e8")];
    assert_eq!(gw.chat(&user("x"), &wrong).await.status, 401);
    assert_eq!(gw.get("/v1/models", &[]).await.status, 401);
    assert_eq!(gw.get("/metrics", &[]).await.status, 401);
    // Probes stay open.
    assert_eq!(gw.get("/healthz", &[]).await.status, 200);
    assert_eq!(gw.get("/readyz", &[]).await.status, 200);
    let auth = format!("Bearer {token}");
    let ok = [("authorization", auth.as_str())];
    let body = gw.chat(&user("authorised"), &ok).await.json().await;
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: authorised");
    assert_eq!(gw.get("/v1/models", &ok).await.status, 200);
    assert_eq!(gw.get("/metrics", &ok).await.status, 200);
    assert_eq!(
        converse_streams(&fake).len(),
        1,
        "only the authorised chat reached Bedrock"
    );
    let log = logs.text();
    assert!(!log.contains(token), "token leaked: {log}");
    assert!(log.contains("POST /v1/chat/completions 401"), "{log}");
}

#[tokio::test]
async fn an_unknown_route_is_told_every_route_and_each_of_them_is_served() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let gw = served.target();
    // Under /v1/messages the 404 comes in Anthropic's shape.
    let resp = gw.get("/v1/messages/batches", &[]).await;
    assert_eq!(resp.status, 404);
    let body = resp.json().await;
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "not_found_error", "{body}");
    let said = body["error"]["message"].as_str().unwrap();
    let listed = said
        .strip_prefix("no route for `/v1/messages/batches`: expected ")
        .unwrap_or_else(|| panic!("{said}"));
    let routes: Vec<&str> = listed.split(", ").flat_map(|r| r.split(" or ")).collect();
    for route in [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/models",
        "/v1/models/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(routes.contains(&route), "{route} not in: {said}");
    }
    // Each listed route exists (a wrong method is 405, not 404); `{id}` names a listed model.
    for route in &routes {
        let path = route.replace("{id}", "haiku");
        let status = gw.get(&path, &[]).await.status;
        assert_ne!(status, 404, "GET {path}");
    }
    let (status, _, body) = gw.get("/v1/nope", &[]).await.error().await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"].as_str().unwrap().ends_with(listed),
        "{body}"
    );
}

/// `GET /v1/models/{id}` of a listed model, an alias or an unknown id, in each API's shape.
#[tokio::test]
async fn a_model_is_retrieved_by_its_listed_id_raw_or_encoded_or_an_alias() {
    let (logs, _guard) = Logs::capture();
    let fake = fake().await;
    let gw = Target::from(&Setup::default().bedrock(&fake));
    let listed = gw.get("/v1/models", &[]).await.json().await;
    let entry = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == MODEL)
        .unwrap()
        .clone();
    // The official SDKs percent-encode the id's slash (and colon); raw slashes work as well.
    let encoded = "/v1/models/amazon-bedrock%2Fus.anthropic.claude-sonnet-4-5-20250929-v1%3A0";
    let raw = format!("/v1/models/{MODEL}");
    for path in [encoded, raw.as_str()] {
        let resp = gw.get(path, &[]).await;
        assert_eq!(resp.status, 200, "{path}");
        let got = resp.json().await;
        assert_eq!(got, entry, "{path}");
        assert_eq!(got["object"], "model");
        assert_eq!(got["owned_by"], "amazon-bedrock");
        assert_eq!(got["created"], 0);
    }
    // An alias names the model it stands for.
    let haiku = gw.get("/v1/models/haiku", &[]).await.json().await;
    assert_eq!(haiku["id"], HAIKU);
    assert_eq!(haiku["aliases"], json!(["haiku"]));
    // Unknown: 404 model_not_found in OpenAI's shape.
    let (status, _, body) = gw
        .get("/v1/models/amazon-bedrock%2Fno-such-model", &[])
        .await
        .error()
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`amazon-bedrock/no-such-model` is not listed"),
        "{body}"
    );

    // Anthropic's SDK (anthropic-version, x-api-key): Anthropic's shape.
    let anthropic = [("anthropic-version", "2023-06-01"), ("x-api-key", "any")];
    let resp = gw.get(encoded, &anthropic).await;
    assert_eq!(resp.status, 200);
    let got = resp.json().await;
    assert_eq!(
        got,
        json!({
            "type": "model",
            "id": MODEL,
            "display_name": got["display_name"].clone(),
            "created_at": "1970-01-01T00:00:00Z",
        })
    );
    assert!(got["display_name"].as_str().is_some_and(|n| !n.is_empty()));
    let listed = gw.get("/v1/models", &anthropic).await.json().await;
    assert!(
        listed["data"].as_array().unwrap().contains(&got),
        "{listed}"
    );
    assert_eq!(
        gw.get("/v1/models/haiku", &anthropic).await.json().await["id"],
        HAIKU
    );
    let resp = gw.get("/v1/models/claude-nope", &anthropic).await;
    assert_eq!(resp.status, 404);
    let body = resp.json().await;
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "not_found_error", "{body}");

    // The metric's route label is the pattern, never an id.
    let metrics = gw.get("/metrics", &[]).await.text().await;
    for needle in [
        "openclaw_gateway_requests_total{route=\"/v1/models/{id}\",status=\"200\"} 5",
        "openclaw_gateway_requests_total{route=\"/v1/models/{id}\",status=\"404\"} 2",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("openclaw_gateway_requests_total") && l.contains("anthropic.")),
        "{metrics}"
    );
    // The access line names the path asked for.
    let log = logs.text();
    assert!(log.contains("GET /v1/models/haiku 200"), "{log}");
}

/// A refused token on `/v1/models` and `/v1/models/{id}` answers in the shape of the client's
/// API: Anthropic's SDK sends `anthropic-version`.
#[tokio::test]
async fn a_refused_token_on_the_models_routes_answers_in_the_clients_shape() {
    let fake = fake().await;
    let mut setup = Setup::default();
    setup.options.token = Some(Secret::new("gw-test-token-9d1f"));
    let gw = Target::from(&setup.bedrock(&fake));
    let anthropic = [("anthropic-version", "2023-06-01"), ("x-api-key", "wrong")];
    for path in ["/v1/models", "/v1/models/haiku"] {
        let resp = gw.get(path, &anthropic).await;
        assert_eq!(resp.status, 401, "{path}");
        let body = resp.json().await;
        assert_eq!(body["type"], "error", "{path}: {body}");
        assert_eq!(body["error"]["type"], "authentication_error", "{body}");
        let said = body["error"]["message"].as_str().unwrap();
        assert!(said.contains("x-api-key"), "{said}");
        // OpenAI's SDK: OpenAI's shape.
        let (status, _, body) = gw
            .get(path, &[("authorization", "Bearer wrong")])
            .await
            .error()
            .await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "invalid_api_key");
    }
    let ok = [
        ("anthropic-version", "2023-06-01"),
        ("x-api-key", "gw-test-token-9d1f"),
    ];
    let got = gw.get("/v1/models/haiku", &ok).await.json().await;
    assert_eq!(got["type"], "model");
}
