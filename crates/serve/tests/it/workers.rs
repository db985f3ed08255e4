//! `Gateway::with_workers` (which `serve` of the harness uses for every TCP test, as the binary
//! does): connections served on a current-thread runtime per worker thread, spread by how many
//! each serves, and Bedrock streams (the real SDK against the fake, over each worker's own pool)
//! on both workers at once. Disconnects and draining on the workers: `lifecycle`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use fake_bedrock::Turn;
use openclaw_config::{ModelDefinition, ProviderConfig};
use openclaw_serve::{Gateway, ModelSource, ServeOptions};
use openclaw_stream::{EventStream, ModelStream, StopReason, StreamOptions, StreamRequest, Usage};

use crate::support::*;

/// Starts answering "hi", then never ends (so its connection stays open); records the name of
/// the thread each call was made on.
#[derive(Default)]
struct WhereAmI {
    threads: Mutex<Vec<String>>,
}

impl ModelStream for WhereAmI {
    fn stream(&self, _: StreamRequest, _: StreamOptions) -> EventStream {
        let name = std::thread::current().name().unwrap_or("?").to_string();
        self.threads.lock().unwrap().push(name);
        let mut events = text_answer(&["hi"], StopReason::Stop, Usage::default());
        events.truncate(3);
        Box::pin(futures::StreamExt::chain(
            futures::stream::iter(events),
            futures::stream::pending(),
        ))
    }
}

#[tokio::test]
async fn connections_are_served_on_the_worker_threads_spread_by_load() {
    let model = Arc::new(WhereAmI::default());
    let mut provider = ProviderConfig::default();
    provider
        .models
        .push(ModelDefinition::new("scripted-1", "Scripted"));
    let models = ModelSource::new(BTreeMap::from([(LOCAL.to_string(), provider)]), "us-east-1")
        .with_stream(LOCAL, model.clone());
    // `serve` runs it on two worker threads, as the binary does.
    let gateway = Gateway::new(models, ServeOptions::default());
    let served = serve(gateway).await;
    let mut body = streaming(user("where are you"));
    body["model"] = LOCAL_MODEL.into();
    // Four connections held open at once (their answers never end): two on each worker.
    let mut open = Vec::new();
    for _ in 0..4 {
        let mut resp = served.target().chat(&body, &[]).await;
        assert_eq!(resp.status, 200);
        let mut buf = String::new();
        let mut seen = Vec::new();
        while joined(&chunks(&seen).0, "content") != "hi" {
            seen.extend(resp.next_events(&mut buf).await.unwrap());
        }
        open.push(resp);
    }
    let mut threads = model.threads.lock().unwrap().clone();
    threads.sort();
    assert_eq!(
        threads,
        ["oc-worker-0", "oc-worker-0", "oc-worker-1", "oc-worker-1"]
    );
    // `/metrics` shows the balance (read in process: no connection of its own).
    let metrics = Target::from(&*served.gateway)
        .get("/metrics", &[])
        .await
        .text()
        .await;
    for line in [
        "openclaw_gateway_worker_connections{worker=\"0\"} 2",
        "openclaw_gateway_worker_connections{worker=\"1\"} 2",
        "openclaw_gateway_worker_requests{worker=\"0\"} 2",
        "openclaw_gateway_worker_requests{worker=\"1\"} 2",
        "openclaw_gateway_requests_handed_over_total 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    drop(open);
}

#[tokio::test]
async fn bedrock_streams_run_on_both_workers_at_once() {
    let fake = fake().await;
    let gateway = Setup::default().bedrock(&fake);
    let served = serve(gateway).await;
    let gw = served.target();

    // Whole streamed answers, on both workers at once.
    fake.script(Turn::text("first answer"));
    fake.script(Turn::text("second answer"));
    let (one, two) = (streaming(user("one")), streaming(user("two")));
    let (a, b) = tokio::join!(gw.chat(&one, &[]), gw.chat(&two, &[]));
    let mut texts = Vec::new();
    for mut resp in [a, b] {
        assert_eq!(resp.status, 200);
        let mut buf = String::new();
        let mut seen = Vec::new();
        while let Some(more) = resp.next_events(&mut buf).await {
            seen.extend(more);
        }
        let (chunks, done) = chunks(&seen);
        assert!(done, "stream cut short: {seen:?}");
        texts.push(joined(&chunks, "content"));
    }
    texts.sort();
    assert_eq!(texts, ["first answer", "second answer"]);
}
