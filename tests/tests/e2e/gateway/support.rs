//! Support for the gateway tests: an in-process `fake-bedrock` (for scripts), the
//! `openclaw gateway` child process, a small HTTP client over hyper, and SSE parsing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fake_bedrock::FakeBedrock;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use openclaw_e2e::{Sandbox, binaries, leaked_secret, static_keys};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The model most tests use (an inference profile of the fake's catalog, reasoning-capable).
pub const MODEL: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// The configuration of the gateway tests: discovery of Anthropic models, plus an alias.
pub const CONFIG: &str = r#"{
  models: { bedrockDiscovery: { enabled: true, region: "us-east-1", providerFilter: ["anthropic"] } },
  agents: { defaults: {
    model: { primary: "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0" },
    models: { "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0": { alias: "haiku" } },
  } },
}
"#;

/// A running `openclaw gateway`, killed on drop; its stderr is collected.
pub struct Gateway {
    pub child: Child,
    pub addr: String,
    pub stderr: Arc<Mutex<String>>,
    _sandbox: Sandbox,
}

impl Gateway {
    /// Starts `openclaw gateway --port 0 <args>` with static keys pointing at `endpoint`.
    pub fn start(endpoint: &str, args: &[&str], extra: &[(&str, &str)]) -> Gateway {
        Self::try_start(endpoint, args, extra, true)
            .unwrap_or_else(|(code, err)| panic!("gateway did not start (exit {code:?}):\n{err}"))
    }

    /// Starts it; `Err((exit code, stderr))` when it exits instead of listening.
    pub fn try_start(
        endpoint: &str,
        args: &[&str],
        extra: &[(&str, &str)],
        with_keys: bool,
    ) -> Result<Gateway, (Option<i32>, String)> {
        Self::try_start_with_config(CONFIG, endpoint, args, extra, with_keys)
    }

    /// [`Gateway::start`] with another configuration file.
    pub fn start_with_config(config: &str, endpoint: &str) -> Gateway {
        Self::try_start_with_config(config, endpoint, &[], &[], true)
            .unwrap_or_else(|(code, err)| panic!("gateway did not start (exit {code:?}):\n{err}"))
    }

    /// [`Gateway::start`] with another configuration file and flags.
    pub fn start_with_args(config: &str, endpoint: &str, args: &[&str]) -> Gateway {
        Self::try_start_with_config(config, endpoint, args, &[], true)
            .unwrap_or_else(|(code, err)| panic!("gateway did not start (exit {code:?}):\n{err}"))
    }

    fn try_start_with_config(
        config: &str,
        endpoint: &str,
        args: &[&str],
        extra: &[(&str, &str)],
        with_keys: bool,
    ) -> Result<Gateway, (Option<i32>, String)> {
        let sandbox = Sandbox::new(None);
        sandbox.write_config(config);
        let mut command = Command::new(&binaries().openclaw);
        command
            .args(["gateway", "--port", "0"])
            .args(args)
            .env_clear()
            .envs(sandbox.base_env())
            .env("AWS_ENDPOINT_URL_BEDROCK", endpoint)
            .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint)
            .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if with_keys {
            command.envs(static_keys());
        }
        let mut child = command.spawn().expect("spawn openclaw gateway");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        match line.trim().strip_prefix("listening on http://") {
            Some(addr) => Ok(Gateway {
                child,
                addr: addr.to_string(),
                stderr,
                _sandbox: sandbox,
            }),
            None => {
                let code = child.wait().ok().and_then(|s| s.code());
                std::thread::sleep(Duration::from_millis(100));
                let err = stderr.lock().unwrap().clone();
                Err((code, err))
            }
        }
    }

    /// Everything printed on stderr so far, checked for the test secrets.
    pub fn stderr(&self) -> String {
        let text = self.stderr.lock().unwrap().clone();
        assert_eq!(leaked_secret(&text), None, "secret leaked in:\n{text}");
        text
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "gateway did not exit in {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The in-process fake (scripts and faults need its API).
pub async fn fake() -> FakeBedrock {
    FakeBedrock::builder().start().await.expect("start fake")
}

/// A response with its connection (closed when dropped).
pub struct Resp {
    pub status: u16,
    pub body: Incoming,
    _conn: ConnGuard,
}

/// Aborts the connection task (closing the socket) when dropped.
struct ConnGuard(JoinHandle<()>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Resp {
    /// The whole body as text.
    pub async fn text(self) -> String {
        let Resp { body, _conn, .. } = self;
        let bytes = body.collect().await.expect("read body").to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The whole body as JSON.
    pub async fn json(self) -> Value {
        let text = self.text().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// The next SSE `data:` payloads available (at least one, unless the stream ended).
    pub async fn next_events(&mut self, buf: &mut String) -> Option<Vec<String>> {
        loop {
            if let Some(end) = buf.find("\n\n") {
                let mut out = Vec::new();
                let mut rest = buf.split_off(end + 2);
                std::mem::swap(buf, &mut rest);
                for line in rest.lines() {
                    if let Some(data) = line.strip_prefix("data: ") {
                        out.push(data.to_string());
                    }
                }
                return Some(out);
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        buf.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                _ => return None,
            }
        }
    }
}

/// Sends one request on a fresh connection.
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Resp {
    let stream = TcpStream::connect(addr).await.expect("connect to gateway");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let req = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let response = sender.send_request(req).await.expect("send request");
    let (parts, body) = response.into_parts();
    Resp {
        status: parts.status.as_u16(),
        body,
        _conn: ConnGuard(conn),
    }
}

/// `POST /v1/chat/completions` with a JSON body.
pub async fn chat(addr: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
    request(
        addr,
        "POST",
        "/v1/chat/completions",
        headers,
        Some(serde_json::to_vec(body).unwrap()),
    )
    .await
}

/// Parses SSE payloads: JSON chunks, and whether `[DONE]` came last.
pub fn chunks(events: &[String]) -> (Vec<Value>, bool) {
    let done = events.last().is_some_and(|e| e == "[DONE]");
    let chunks = events
        .iter()
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str(e).unwrap_or_else(|err| panic!("bad chunk {e}: {err}")))
        .collect();
    (chunks, done)
}

/// Concatenates a delta field over chunks.
pub fn joined(chunks: &[Value], field: &str) -> String {
    chunks
        .iter()
        .filter_map(|c| {
            c["choices"].get(0)?["delta"][field]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}
