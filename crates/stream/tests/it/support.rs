use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Region};
use fake_bedrock::FakeBedrock;
use futures::StreamExt;
use openclaw_config::{InputModality, ModelCost, ModelDefinition};
use openclaw_stream::{
    AdapterOptions, ConverseStream, EventStream, ModelStream, StreamEvent, StreamOptions,
    StreamRequest,
};
use serde_json::Value;

pub const AK: &str = "AKIDSTREAMTEST";
pub const SK: &str = "streamtestsecretkeystreamtestsecretkey00";

/// Sonnet 4.5 prices (USD per million tokens).
pub const SONNET_COST: ModelCost = ModelCost {
    input: 3.0,
    output: 15.0,
    cache_read: 0.3,
    cache_write: 3.75,
};

pub fn model(id: &str, image: bool, reasoning: bool) -> ModelDefinition {
    let mut m = ModelDefinition::new(id, id);
    if image {
        m.input = vec![InputModality::Text, InputModality::Image];
    }
    m.reasoning = reasoning;
    m.max_tokens = 64000;
    m.context_window = 200000;
    m
}

pub fn sonnet() -> ModelDefinition {
    let mut m = model("us.anthropic.claude-sonnet-4-5-20250929-v1:0", true, true);
    m.cost = SONNET_COST;
    m
}

pub fn fast_options() -> AdapterOptions {
    AdapterOptions {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(2),
        first_event_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
    }
}

pub struct Harness {
    pub fake: FakeBedrock,
    pub adapter: ConverseStream,
}

pub fn sdk_config(url: &str) -> aws_sdk_bedrockruntime::Config {
    aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AK, SK, None, None, "test"))
        .endpoint_url(url)
        .build()
}

pub async fn harness_with(options: AdapterOptions) -> Harness {
    let fake = FakeBedrock::builder()
        .credentials(AK, SK)
        .start()
        .await
        .unwrap();
    let adapter = ConverseStream::new(sdk_config(&fake.url()), options);
    Harness { fake, adapter }
}

pub async fn harness() -> Harness {
    harness_with(fast_options()).await
}

/// Drains a stream, checking the terminal-event invariant.
pub async fn collect(stream: EventStream) -> Vec<StreamEvent> {
    let events: Vec<StreamEvent> = tokio::time::timeout(Duration::from_secs(30), stream.collect())
        .await
        .expect("stream ended");
    let terminals = events.iter().filter(|e| e.is_terminal()).count();
    assert_eq!(terminals, 1, "exactly one terminal event: {events:#?}");
    assert!(
        events.last().unwrap().is_terminal(),
        "terminal event last: {events:#?}"
    );
    events
}

impl Harness {
    pub async fn run(&self, request: StreamRequest) -> Vec<StreamEvent> {
        collect(self.adapter.stream(request, StreamOptions::default())).await
    }

    /// Bodies of the converse-stream requests received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/converse-stream"))
            .map(|r| sorted(r.json().expect("json body")))
            .collect()
    }

    pub fn last_body(&self) -> Value {
        self.bodies().pop().expect("a converse-stream request")
    }
}

/// Sorts object keys: the SDK serialises `Document` objects (tool schemas and inputs,
/// additional fields) from a hash map, so their key order varies between runs.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

pub fn terminal(events: &[StreamEvent]) -> &StreamEvent {
    events.last().unwrap()
}

pub fn done_message(events: &[StreamEvent]) -> openclaw_stream::AssistantMessage {
    match terminal(events) {
        StreamEvent::Done { message, .. } => (**message).clone(),
        other => panic!("expected done, got {other:#?}"),
    }
}
