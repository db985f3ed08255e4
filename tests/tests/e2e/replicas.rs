//! Three `openclaw gateway` replicas behind a real load balancer (HAProxy, health-checking
//! `/readyz`), under a bounded streaming load from a `fake-bedrock` process with pacing, while one
//! replica is drained and restarted on the same port and another is killed.
//!
//! Required: no request fails across the graceful restart (readiness goes 503 first, HAProxy takes
//! the replica out, the listener closes only after the drain delay, in-flight streams finish, the
//! process exits 0); after the SIGKILL only streams that were on the killed replica fail, and new
//! requests succeed within the health-check interval.
//!
//! Skipped loudly when HAProxy is not installed (`OPENCLAW_TEST_HAPROXY` names the binary, else
//! `haproxy` on the PATH or in /usr/sbin). Loopback only; bounded to about 40 s.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use openclaw_e2e::{Sandbox, binaries, static_keys};
use serde_json::json;
use tokio::net::TcpStream;

/// HAProxy's health-check interval (`inter`, `fastinter`, `downinter`); one failed check takes
/// a replica out (`fall 1`), two good ones put it back (`rise 2`).
const CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// The replicas' `--drain-delay`: well above what HAProxy needs to see `/readyz` fail.
const DRAIN_DELAY: Duration = Duration::from_millis(1500);
/// Concurrent clients of the load.
const CLIENTS: usize = 12;
/// Longest any one request may take (a stream is about 1 s).
const REQUEST_BOUND: Duration = Duration::from_secs(15);
/// The model requested (the fake echoes the prompt, 8 characters per event, 40 ms apart).
const MODEL: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fn haproxy() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OPENCLAW_TEST_HAPROXY") {
        return Some(PathBuf::from(path));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/sbin"));
    dirs.into_iter()
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// A free loopback port (bound, then released for the process that will listen on it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Kills the child on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the first stdout line of `child` (its `listening on ...` line).
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    line.trim().to_string()
}

fn start_fake() -> (Proc, String) {
    let mut child = Command::new(&binaries().fake_bedrock)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--pace-ms",
            "40",
            "--chunk-size",
            "8",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fake-bedrock");
    let line = first_line(&mut child);
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("fake-bedrock said {line:?}"))
        .to_string();
    (Proc(child), url)
}

/// One replica: its port and sandbox survive restarts.
struct Replica {
    name: &'static str,
    port: u16,
    endpoint: String,
    sandbox: Sandbox,
    proc: Option<Proc>,
}

impl Replica {
    fn new(name: &'static str, endpoint: &str) -> Replica {
        let sandbox = Sandbox::new(None);
        sandbox.write_config(
            r#"{ models: { bedrockDiscovery: { enabled: true, region: "us-east-1", providerFilter: ["anthropic"] } },
                 gateway: { timeouts: { shutdownGrace: 20 } } }"#,
        );
        Replica {
            name,
            port: free_port(),
            endpoint: endpoint.to_string(),
            sandbox,
            proc: None,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts `openclaw gateway`, its port and drain delay from `OPENCLAW_GATEWAY_*` variables
    /// (the container way), and waits for its `listening on` line.
    fn start(&mut self) {
        let drain = format!("{}", DRAIN_DELAY.as_secs_f64());
        let port = self.port.to_string();
        let mut child = Command::new(&binaries().openclaw)
            .arg("gateway")
            .env_clear()
            .envs(self.sandbox.base_env())
            .envs(static_keys())
            .env("AWS_ENDPOINT_URL_BEDROCK", &self.endpoint)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &self.endpoint)
            .env("OPENCLAW_GATEWAY_PORT", &port)
            .env("OPENCLAW_GATEWAY_DRAIN_DELAY", &drain)
            .env("OPENCLAW_GATEWAY_READY_AFTER_DISCOVERY", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn openclaw gateway");
        let line = first_line(&mut child);
        assert_eq!(
            line,
            format!("listening on http://{}", self.addr()),
            "{} did not start",
            self.name
        );
        self.proc = Some(Proc(child));
    }

    fn pid(&self) -> String {
        self.proc.as_ref().expect("running").0.id().to_string()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit; its exit code.
    fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        let proc = self.proc.as_mut().expect("running");
        loop {
            if let Some(status) = proc.0.try_wait().expect("try_wait") {
                self.proc = None;
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit in {within:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// HAProxy in front of the replicas, with a stats page for their state.
struct Balancer {
    front: String,
    stats: String,
    _proc: Proc,
    _dir: tempfile::TempDir,
}

impl Balancer {
    fn start(binary: &PathBuf, replicas: &[Replica]) -> Balancer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (front, stats) = (free_port(), free_port());
        let inter = CHECK_INTERVAL.as_millis();
        let servers: String = replicas
            .iter()
            .map(|r| format!("    server {} {} check\n", r.name, r.addr()))
            .collect();
        let config = format!(
            "global\n    maxconn 2000\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    \
             timeout server 30s\n    timeout check 1s\n    retries 3\n    option redispatch 1\n\
             frontend fe\n    bind 127.0.0.1:{front}\n    default_backend gateways\n\
             backend gateways\n    balance roundrobin\n    option httpchk\n    \
             http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1\n    \
             http-check expect status 200\n    \
             http-response set-header x-served-by %s\n    \
             default-server inter {inter}ms fastinter {inter}ms downinter {inter}ms fall 1 rise 2\n\
             {servers}\
             listen stats\n    bind 127.0.0.1:{stats}\n    stats enable\n    stats uri /stats\n"
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let check = Command::new(binary)
            .args(["-c", "-q", "-f"])
            .arg(&path)
            .output()
            .expect("run haproxy -c");
        assert!(
            check.status.success(),
            "haproxy refused its configuration: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new(binary)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        Balancer {
            front: format!("127.0.0.1:{front}"),
            stats: format!("127.0.0.1:{stats}"),
            _proc: Proc(child),
            _dir: dir,
        }
    }

    /// HAProxy's view of a server: `UP`, `DOWN`, `MAINT`... (`None` while unreachable).
    async fn status(&self, server: &str) -> Option<String> {
        let (status, _, body) = get(&self.stats, "/stats;csv").await.ok()?;
        if status != 200 {
            return None;
        }
        body.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&"gateways") && f.get(1) == Some(&server))
            .and_then(|f| f.get(17).map(|s| s.to_string()))
    }

    /// Waits until HAProxy sees `server` as `want` (`UP`/`DOWN`); when that happened.
    async fn until(&self, server: &str, want: &str, within: Duration) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            let status = self.status(server).await;
            if status.as_deref().is_some_and(|s| s.starts_with(want)) {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "haproxy never saw {server} {want} (last: {status:?})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A GET on a fresh connection: status, `x-served-by`, body.
async fn get(addr: &str, path: &str) -> Result<(u16, Option<String>, String), String> {
    let (status, served_by, body) = send(addr, "GET", path, None).await?;
    let bytes = body
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((
        status,
        served_by,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

async fn send(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<(u16, Option<String>, hyper::body::Incoming), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let req = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(req)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let served_by = response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((response.status().as_u16(), served_by, response.into_body()))
}

/// One request of the load, as the client saw it.
#[derive(Debug, Clone)]
struct Outcome {
    /// Since the load started.
    start: Duration,
    end: Duration,
    served_by: Option<String>,
    /// `None`: a complete stream (200, chunks, `[DONE]`).
    error: Option<String>,
}

/// One streaming chat completion through the balancer, read to its end.
async fn one_stream(front: &str, prompt: &str) -> (Option<String>, Option<String>) {
    let body = json!({
        "model": MODEL,
        "stream": true,
        "messages": [{"role": "user", "content": prompt}],
    });
    let sent = send(
        front,
        "POST",
        "/v1/chat/completions",
        Some(serde_json::to_vec(&body).expect("json")),
    )
    .await;
    let (status, served_by, mut body) = match sent {
        Ok(s) => s,
        Err(e) => return (None, Some(e)),
    };
    if status != 200 {
        return (served_by, Some(format!("status {status}")));
    }
    let mut text = String::new();
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Some(Err(e)) => return (served_by, Some(format!("stream cut: {e}"))),
            None => break,
        }
    }
    let expected = format!("Echo: {prompt}");
    let content: String = text
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| serde_json::from_str::<serde_json::Value>(data).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    if !text.trim_end().ends_with("data: [DONE]") {
        return (served_by, Some("stream ended without [DONE]".into()));
    }
    if content != expected {
        return (served_by, Some(format!("wrong answer: {content:?}")));
    }
    (served_by, None)
}

/// Runs the load until `stop` is set; every outcome is recorded.
fn start_load(
    front: String,
    t0: Instant,
    stop: Arc<std::sync::atomic::AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..CLIENTS)
        .map(|client| {
            let (front, stop, outcomes) = (front.clone(), stop.clone(), outcomes.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    // About 200 characters: 25 events 40 ms apart, a stream of about 1 s.
                    let prompt =
                        format!("client {client} request {n}: {}", "lorem ipsum ".repeat(15));
                    let start = t0.elapsed();
                    let (served_by, error) = match tokio::time::timeout(
                        REQUEST_BOUND,
                        one_stream(&front, &prompt),
                    )
                    .await
                    {
                        Ok(result) => result,
                        Err(_) => (None, Some("timed out".into())),
                    };
                    let outcome = Outcome {
                        start,
                        end: t0.elapsed(),
                        served_by,
                        error,
                    };
                    outcomes.lock().expect("outcomes").push(outcome);
                }
            })
        })
        .collect()
}

/// Polls a replica directly: when `/readyz` first answered 503 and when its port first refused
/// a connection.
async fn watch_drain(addr: String, t0: Instant) -> (Duration, Duration) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut unready = None;
    loop {
        assert!(Instant::now() < deadline, "{addr} never closed");
        match get(&addr, "/readyz").await {
            Ok((503, _, _)) if unready.is_none() => unready = Some(t0.elapsed()),
            Ok(_) => {}
            Err(e) if e.starts_with("connect") => {
                let closed = t0.elapsed();
                return (unready.unwrap_or(closed), closed);
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_behind_haproxy_survive_a_rolling_restart_and_a_kill() {
    let Some(haproxy) = haproxy() else {
        eprintln!(
            "SKIPPED: replicas_behind_haproxy_survive_a_rolling_restart_and_a_kill needs HAProxy \
             (apt-get install haproxy, or OPENCLAW_TEST_HAPROXY=/path/to/haproxy)"
        );
        return;
    };
    let (_fake, endpoint) = start_fake();
    let mut replicas: Vec<Replica> = ["r0", "r1", "r2"]
        .into_iter()
        .map(|name| Replica::new(name, &endpoint))
        .collect();
    for replica in &mut replicas {
        replica.start();
    }
    let balancer = Balancer::start(&haproxy, &replicas);
    for replica in &replicas {
        balancer
            .until(replica.name, "UP", Duration::from_secs(10))
            .await;
    }

    let t0 = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let load = start_load(balancer.front.clone(), t0, stop.clone(), outcomes.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Graceful restart of r0: SIGTERM, readiness 503, HAProxy takes it out, the listener closes
    // after the drain delay, in-flight streams finish, exit 0, start again on the same port.
    let drain = tokio::spawn(watch_drain(replicas[0].addr(), t0));
    let term_at = t0.elapsed();
    replicas[0].signal("-TERM");
    let down_at = balancer.until("r0", "DOWN", Duration::from_secs(5)).await - t0;
    let code = tokio::task::block_in_place(|| replicas[0].wait_exit(Duration::from_secs(30)));
    let exit_at = t0.elapsed();
    assert_eq!(code, Some(0), "r0 exit code after SIGTERM");
    let (unready_at, closed_at) = drain.await.expect("drain watcher");
    replicas[0].start();
    let up_at = balancer.until("r0", "UP", Duration::from_secs(10)).await - t0;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // r1 dies without warning.
    let kill_at = t0.elapsed();
    replicas[1].signal("-KILL");
    let _ = tokio::task::block_in_place(|| replicas[1].wait_exit(Duration::from_secs(5)));
    let r1_down_at = balancer.until("r1", "DOWN", Duration::from_secs(5)).await - t0;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        tokio::time::timeout(REQUEST_BOUND + Duration::from_secs(5), task)
            .await
            .expect("a client finished")
            .expect("client task");
    }
    let outcomes = outcomes.lock().expect("outcomes").clone();

    // Figures.
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    let on = |name: &str, at: Duration| {
        outcomes
            .iter()
            .filter(|o| o.served_by.as_deref() == Some(name) && o.start < at && o.end > at)
            .count()
    };
    let in_flight_at_term = on("r0", term_at);
    let in_flight_at_kill = on("r1", kill_at);
    let failed_before_kill = failed.iter().filter(|o| o.end < kill_at).count();
    let last_failure = failed.iter().map(|o| o.end).max();
    let first_ok_after_kill = outcomes
        .iter()
        .filter(|o| o.error.is_none() && o.start >= kill_at)
        .map(|o| o.start)
        .min();
    let figures = json!({
        "requests": outcomes.len(),
        "succeeded": outcomes.len() - failed.len(),
        "failed": failed.len(),
        "failed_across_graceful_restart": failed_before_kill,
        "r0_streams_in_flight_at_sigterm": in_flight_at_term,
        "r0_readyz_503_after_ms": (unready_at.saturating_sub(term_at)).as_millis(),
        "r0_out_of_haproxy_after_ms": (down_at.saturating_sub(term_at)).as_millis(),
        "r0_listener_closed_after_ms": (closed_at.saturating_sub(term_at)).as_millis(),
        "r0_exit_0_after_ms": (exit_at.saturating_sub(term_at)).as_millis(),
        "r0_back_in_haproxy_after_ms": (up_at.saturating_sub(term_at)).as_millis(),
        "r1_streams_in_flight_at_sigkill": in_flight_at_kill,
        "failed_at_sigkill": failed.len() - failed_before_kill,
        "failed_at_sigkill_in_flight": failed.iter().filter(|o| o.start < kill_at).count(),
        "failed_at_sigkill_new": failed.iter().filter(|o| o.start >= kill_at).count(),
        "r1_out_of_haproxy_after_ms": (r1_down_at.saturating_sub(kill_at)).as_millis(),
        "last_failure_after_sigkill_ms": last_failure.map(|t| t.saturating_sub(kill_at).as_millis()),
        "first_new_request_ok_after_sigkill_ms": first_ok_after_kill.map(|t| t.saturating_sub(kill_at).as_millis()),
        "health_check_interval_ms": CHECK_INTERVAL.as_millis(),
        "drain_delay_ms": DRAIN_DELAY.as_millis(),
    });
    eprintln!("replica test figures: {figures:#}");
    for o in &failed {
        eprintln!("failed: {o:?}");
    }

    // Graceful restart: in order, nothing failed, and it had streams to finish.
    assert!(
        unready_at < closed_at,
        "readiness went 503 only when the listener closed"
    );
    assert!(
        closed_at.saturating_sub(term_at) >= DRAIN_DELAY,
        "the listener closed before the drain delay: {figures}"
    );
    assert!(
        down_at < closed_at,
        "haproxy still routed to r0 when it closed: {figures}"
    );
    assert!(
        in_flight_at_term > 0,
        "no stream was open on r0 at SIGTERM: {figures}"
    );
    assert_eq!(
        failed_before_kill, 0,
        "requests failed across the graceful restart"
    );
    // The restarted r0 served again.
    assert!(
        outcomes
            .iter()
            .any(|o| o.served_by.as_deref() == Some("r0") && o.start > up_at && o.error.is_none()),
        "r0 served nothing after its restart: {figures}"
    );
    // SIGKILL: only streams in flight on r1 failed, plus at most requests sent within one
    // health-check interval of the kill (routed to r1 while it was dying: accepted by its
    // socket, then reset, which HAProxy does not replay for a POST); none after.
    assert!(
        in_flight_at_kill > 0,
        "no stream was open on r1 at SIGKILL: {figures}"
    );
    let mut in_flight_failed = 0;
    for o in &failed {
        assert!(
            o.served_by.as_deref().is_none_or(|s| s == "r1"),
            "a stream on a live replica failed: {o:?}"
        );
        if o.start < kill_at {
            assert!(o.end >= kill_at, "failed before the kill: {o:?}");
            in_flight_failed += 1;
        } else {
            assert!(
                o.start < kill_at + CHECK_INTERVAL,
                "a new request failed after the health-check interval: {o:?}"
            );
        }
    }
    assert!(in_flight_failed <= in_flight_at_kill, "{figures}");
    let recovered = kill_at + CHECK_INTERVAL * 2;
    assert!(
        outcomes
            .iter()
            .filter(|o| o.start >= recovered)
            .all(|o| o.error.is_none()),
        "requests failed after the health-check interval: {figures}"
    );
    assert!(first_ok_after_kill.is_some(), "{figures}");
}
