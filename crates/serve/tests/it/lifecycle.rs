//! Over loopback TCP through `Gateway::serve`: a client disconnect closes the Bedrock
//! connection (the fake sees it), and shutdown drains: `/readyz` answers 503, no new
//! connections, open responses finish, `serve` returns (at the latest after the grace period).

use std::time::{Duration, Instant};

use fake_bedrock::{Pacing, Turn};
use openclaw_stream::{StopReason, StreamEvent, Usage};

use crate::support::*;

#[tokio::test]
async fn client_disconnect_cancels_the_bedrock_stream() {
    let fake = fake().await;
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(100),
    });
    // 100 deltas at 100 ms: 10 s if nobody cancels.
    fake.script(Turn::text("word ".repeat(80)).chunk_size(4));
    let served = serve(Setup::default().bedrock(&fake)).await;
    let gw = served.target();
    let mut resp = gw.chat(&streaming(user("talk for a long time")), &[]).await;
    let mut buf = String::new();
    let mut seen = 0;
    while seen < 3 {
        seen += resp.next_events(&mut buf).await.unwrap().len();
    }
    // The fake records the gateway closing its Bedrock connection before the answer ended.
    let disconnected = || {
        let streams = converse_streams(&fake);
        assert_eq!(streams.len(), 1, "one bedrock stream");
        streams[0].client_disconnected
    };
    assert!(!disconnected(), "bedrock connection open while streaming");
    let dropped_at = Instant::now();
    drop(resp);
    loop {
        if disconnected() {
            break;
        }
        assert!(
            dropped_at.elapsed() < Duration::from_secs(3),
            "the gateway kept its Bedrock connection open after the client left"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = dropped_at.elapsed();
    assert!(took < Duration::from_secs(1), "cancelled after {took:?}");
    let metrics = gw.get("/metrics", &[]).await.text().await;
    assert!(
        metrics.contains("openclaw_gateway_streams_in_flight 0"),
        "{metrics}"
    );
}

/// Waits until nothing accepts connections on the served address.
async fn until_refused(served: &Served) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while tokio::net::TcpStream::connect(served.addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting after shutdown started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn shutdown_drains_open_streams_and_refuses_new_connections() {
    let stream = Scripted::new();
    let live = stream.live();
    let mut served = serve(scripted(stream, Default::default())).await;
    let router = Target::from(&*served.gateway);
    assert_eq!(router.get("/readyz", &[]).await.status, 200);
    let mut body = streaming(user("x"));
    body["model"] = LOCAL_MODEL.into();
    let events = text_answer(
        &["finishing ", "nicely"],
        StopReason::Stop,
        Usage::default(),
    );
    live.unbounded_send(events[0].clone()).unwrap();
    let mut resp = served.target().chat(&body, &[]).await;
    assert_eq!(resp.status, 200);
    let mut buf = String::new();
    let mut seen = resp.next_events(&mut buf).await.unwrap();

    served.shutdown();
    until_refused(&served).await;
    assert!(served.gateway.is_draining());
    // Balancers see it: the router of the same gateway answers not ready.
    let ready = router.get("/readyz", &[]).await;
    assert_eq!(ready.status, 503);
    let ready = ready.json().await;
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["checks"]["shutting_down"], true);

    // The open stream runs to its end, and only then does `serve` return.
    let task = served.task();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!task.is_finished(), "serve returned with a response open");
    for event in &events[1..] {
        live.unbounded_send(event.clone()).unwrap();
    }
    while let Some(more) = resp.next_events(&mut buf).await {
        seen.extend(more);
    }
    let (chunks, done) = chunks(&seen);
    assert!(done, "stream cut short: {seen:?}");
    assert_eq!(joined(&chunks, "content"), "finishing nicely");
    drop(resp);
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("serve returned after the last response")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn start_draining_gives_open_streams_the_grace_period_then_returns() {
    let (logs, _guard) = Logs::capture();
    let stream = Scripted::new();
    let live = stream.live();
    let options = openclaw_serve::ServeOptions {
        shutdown_grace: Duration::from_millis(300),
        ..Default::default()
    };
    let mut served = serve_shared(scripted(stream, options)).await;
    let mut body = user("x");
    body["model"] = LOCAL_MODEL.into();
    body["stream"] = true.into();
    live.unbounded_send(StreamEvent::Start {
        model: "scripted-1".into(),
    })
    .unwrap();
    let mut resp = served.target().chat(&body, &[]).await;
    assert_eq!(resp.status, 200);
    let mut buf = String::new();
    assert!(resp.next_events(&mut buf).await.is_some());

    let started = Instant::now();
    served.gateway.start_draining();
    until_refused(&served).await;
    // The stream never ends: `serve` returns once the grace period is over.
    let result = tokio::time::timeout(Duration::from_secs(5), served.task())
        .await
        .expect("serve returned after the grace period")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300),
        "returned before the grace period: {took:?}"
    );
    let log = logs.text();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("shutdown grace period over"), "{log}");
    drop(live);
}

#[tokio::test]
async fn with_a_drain_delay_readyz_turns_503_first_and_requests_are_served_until_it_ends() {
    let stream = Scripted::new();
    let delay = Duration::from_millis(600);
    let options = openclaw_serve::ServeOptions {
        drain_delay: delay,
        ..Default::default()
    };
    let mut served = serve(scripted(stream.clone(), options)).await;
    let target = served.target();
    assert_eq!(target.get("/readyz", &[]).await.status, 200);
    let started = Instant::now();
    served.shutdown();
    // Readiness goes first...
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let ready = target.get("/readyz", &[]).await;
        if ready.status == 503 {
            assert_eq!(ready.json().await["checks"]["shutting_down"], true);
            break;
        }
        assert!(Instant::now() < deadline, "/readyz never answered 503");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...while a new connection is still accepted and its request answered.
    assert!(started.elapsed() < delay, "the test machine is too slow");
    stream.push(text_answer(
        &["still ", "served"],
        StopReason::Stop,
        Usage::default(),
    ));
    let mut body = streaming(user("x"));
    body["model"] = LOCAL_MODEL.into();
    let resp = target.chat(&body, &[]).await;
    assert_eq!(resp.status, 200);
    let (chunks, done) = chunks(&resp.sse().await);
    assert!(done);
    assert_eq!(joined(&chunks, "content"), "still served");
    // Then the listener closes, not before the delay.
    until_refused(&served).await;
    let closed = started.elapsed();
    assert!(closed >= delay, "listener closed after {closed:?}");
    let result = tokio::time::timeout(Duration::from_secs(5), served.task())
        .await
        .expect("serve returned")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn ready_after_discovery_waits_for_a_listing() {
    let fake = fake().await;
    fake.fault(
        fake_bedrock::Rule::new(fake_bedrock::Fault::AccessDenied)
            .control_plane()
            .times(1),
    );
    let mut setup = Setup::default();
    setup.options.ready_after_discovery = true;
    let gateway = setup.bedrock(&fake);
    let target = Target::from(&gateway);
    // Discovery failed and nothing was ever listed: not ready, and it says why.
    gateway.warm_up().await.unwrap();
    let ready = target.get("/readyz", &[]).await;
    assert_eq!(ready.status, 503);
    let ready = ready.json().await;
    assert_eq!(ready["checks"]["models_listed"], false, "{ready}");
    assert_eq!(ready["checks"]["shutting_down"], false, "{ready}");
    // The next discovery succeeds: ready.
    gateway.warm_up().await.unwrap();
    let ready = target.get("/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json().await["checks"]["models_listed"], true);

    // Off (the default): ready at once, whatever discovery does.
    let fake = crate::support::fake().await;
    fake.fault(
        fake_bedrock::Rule::new(fake_bedrock::Fault::AccessDenied)
            .control_plane()
            .times(100),
    );
    let gateway = Setup::default().bedrock(&fake);
    gateway.warm_up().await.unwrap();
    assert_eq!(Target::from(&gateway).get("/readyz", &[]).await.status, 200);
}
