//! The two measured clients: an OpenAI-style streaming client over hyper (gateway path) and
//! the AWS SDK's `converse_stream` (direct path). Both record one [`Sample`] per request,
//! timed from the request's intended start.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput, Message,
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::sse::{Seen, SseReader};
use crate::stats::Sample;

/// Static test credentials accepted by `fake-bedrock` (the AWS documentation's example pair).
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
/// Secret of [`ACCESS_KEY`] (a public documentation example, not a secret).
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// Region of the bench requests.
pub const REGION: &str = "us-east-1";

/// A request path under measurement.
#[derive(Clone)]
pub enum Client {
    /// The SDK straight to the fake.
    Direct(Arc<DirectClient>),
    /// An OpenAI-compatible gateway.
    Openai(Arc<OpenaiClient>),
}

impl Client {
    /// Runs one request whose intended start was `intended`, bounded by `timeout`.
    pub async fn run(&self, intended: Instant, timeout: Duration) -> Sample {
        let fut = async {
            match self {
                Client::Direct(c) => c.run(intended).await,
                Client::Openai(c) => c.run(intended).await,
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(sample) => sample,
            Err(_) => Sample::failed(intended.elapsed(), "timeout"),
        }
    }

    /// Opens a stream and holds it open until `release` turns true. Sends on `started` whether
    /// the response headers arrived with a success status (always `false` for the SDK path).
    pub async fn hold(
        &self,
        started: tokio::sync::mpsc::Sender<bool>,
        release: tokio::sync::watch::Receiver<bool>,
    ) {
        match self {
            Client::Direct(_) => {
                let _ = started.send(false).await;
            }
            Client::Openai(c) => c.hold(started, release).await,
        }
    }
}

/// The direct path: one SDK client, built once, static credentials, explicit endpoint.
pub struct DirectClient {
    client: aws_sdk_bedrockruntime::Client,
    model: String,
    prompt: String,
}

impl DirectClient {
    /// A client for `endpoint` (the fake's URL); for an `https://` fake, `ca_pem` is the
    /// certificate to trust (the SDK's default HTTPS client otherwise: rustls with aws-lc, ALPN
    /// `h2` and `http/1.1`).
    pub fn new(endpoint: &str, model: &str, prompt: &str, ca_pem: Option<&str>) -> Result<Self> {
        let mut config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "bench",
            ))
            .endpoint_url(endpoint);
        if let Some(pem) = ca_pem {
            use aws_smithy_http_client::tls;
            let trust = tls::TrustStore::empty().with_pem_certificate(pem.as_bytes());
            let context = tls::TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .context("the fake's certificate is not a usable trust store")?;
            config = config.http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::AwsLc,
                    ))
                    .tls_context(context)
                    .build_https(),
            );
        }
        let config = config.build();
        Ok(DirectClient {
            client: aws_sdk_bedrockruntime::Client::from_conf(config),
            model: model.to_owned(),
            prompt: prompt.to_owned(),
        })
    }

    async fn run(&self, intended: Instant) -> Sample {
        let message = match Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(self.prompt.clone()))
            .build()
        {
            Ok(m) => m,
            Err(_) => return Sample::failed(intended.elapsed(), "request build"),
        };
        let sent = self
            .client
            .converse_stream()
            .model_id(&self.model)
            .messages(message)
            .send()
            .await;
        let mut output = match sent {
            Ok(o) => o,
            Err(err) => {
                let kind = err
                    .as_service_error()
                    .map(|e| format!("sdk {}", e.meta().code().unwrap_or("service")))
                    .unwrap_or_else(|| "sdk transport".to_owned());
                return Sample::failed(intended.elapsed(), kind);
            }
        };
        let mut sample = Sample::default();
        loop {
            match output.stream.recv().await {
                Ok(Some(ConverseStreamOutput::ContentBlockDelta(d))) => {
                    if let Some(ContentBlockDelta::Text(t)) = d.delta() {
                        sample.bytes += t.len() as u64;
                        if sample.ttft.is_none() && !t.is_empty() {
                            sample.ttft = Some(intended.elapsed());
                        }
                    }
                }
                Ok(Some(ConverseStreamOutput::Metadata(m))) => {
                    if let Some(u) = m.usage() {
                        sample.tokens = u64::try_from(u.output_tokens()).unwrap_or(0);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    return Sample::failed(intended.elapsed(), "sdk stream");
                }
            }
        }
        sample.total = intended.elapsed();
        sample
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// The failure kind of a non-2xx answer: `http <status>` when it is in OpenAI's error shape
/// (`{"error":{"message":...}}`) and, for 429 and 503, carries `Retry-After`; otherwise the
/// kind says what is missing (so a refusal without its hint is told apart).
pub fn refusal_kind(status: http::StatusCode, retry_after: bool, body: &[u8]) -> String {
    let code = status.as_u16();
    let shaped = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v["error"]["message"].is_string());
    if !shaped {
        return format!("http {code} (not an openai error)");
    }
    if matches!(code, 429 | 503) && !retry_after {
        return format!("http {code} (no retry-after)");
    }
    format!("http {code}")
}

/// The gateway path: OpenAI Chat Completions with `stream: true` over pooled HTTP/1.1
/// keep-alive connections (`TCP_NODELAY` on).
pub struct OpenaiClient {
    addr: String,
    authority: String,
    path: String,
    body: Bytes,
    token: Option<String>,
    pool: Mutex<Vec<Sender>>,
}

impl OpenaiClient {
    /// A client for `base_url` (`http://host:port`, optionally with a path prefix such as
    /// `/v1`; `/chat/completions` or `/v1/chat/completions` is appended).
    pub fn new(base_url: &str, model: &str, prompt: &str, token: Option<String>) -> Result<Self> {
        let rest = base_url
            .strip_prefix("http://")
            .with_context(|| format!("expected an http:// url, got `{base_url}`"))?;
        let (authority, prefix) = match rest.split_once('/') {
            Some((a, p)) => (a.to_owned(), format!("/{}", p.trim_end_matches('/'))),
            None => (rest.to_owned(), String::new()),
        };
        if authority.is_empty() {
            bail!("expected a host in `{base_url}`");
        }
        let path = if prefix.ends_with("/v1") {
            format!("{prefix}/chat/completions")
        } else {
            format!("{prefix}/v1/chat/completions")
        };
        let body = serde_json::to_vec(&serde_json::json!({
            "model": model,
            "stream": true,
            "stream_options": { "include_usage": true },
            "messages": [{ "role": "user", "content": prompt }],
        }))?;
        Ok(OpenaiClient {
            addr: authority.clone(),
            authority,
            path,
            body: Bytes::from(body),
            token,
            pool: Mutex::new(Vec::new()),
        })
    }

    async fn sender(&self) -> Result<Sender, String> {
        loop {
            let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
            match pooled {
                Some(mut s) if !s.is_closed() => {
                    if s.ready().await.is_ok() {
                        return Ok(s);
                    }
                }
                Some(_) => {}
                None => break,
            }
        }
        let tcp = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| format!("connect {}", e.kind()))?;
        tcp.set_nodelay(true).map_err(|_| "nodelay".to_owned())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|_| "handshake".to_owned())?;
        // The connection task ends when the sender is dropped or the peer closes.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn request(&self) -> Result<http::Request<Full<Bytes>>, http::Error> {
        let mut req = http::Request::post(self.path.as_str())
            .header(http::header::HOST, self.authority.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "text/event-stream");
        if let Some(token) = &self.token {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        req.body(Full::new(self.body.clone()))
    }

    async fn run(&self, intended: Instant) -> Sample {
        let began = intended.elapsed();
        let mut sender = match self.sender().await {
            Ok(s) => s,
            Err(kind) => return Sample::failed(intended.elapsed(), kind),
        };
        let Ok(req) = self.request() else {
            return Sample::failed(intended.elapsed(), "request build");
        };
        let sent = intended.elapsed();
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(_) => return Sample::failed(intended.elapsed(), "http send"),
        };
        let status = resp.status();
        let retry_after = resp.headers().contains_key(http::header::RETRY_AFTER);
        let mut body = resp.into_body();
        let mut error_body = Vec::new();
        let mut sample = Sample::default();
        let mut reader = SseReader::default();
        let mut done = false;
        let mut error: Option<String> = None;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                error = Some("http body".to_owned());
                break;
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            sample.bytes += data.len() as u64;
            if !status.is_success() {
                if error_body.len() < 64 * 1024 {
                    error_body.extend_from_slice(&data);
                }
                continue;
            }
            reader.feed(&data, |seen| match seen {
                Seen::Token => {
                    if sample.ttft.is_none() {
                        sample.ttft = Some(intended.elapsed());
                    }
                }
                Seen::Usage(n) => sample.tokens = n,
                Seen::Done => done = true,
                Seen::Error(kind) => error = Some(kind),
                Seen::Other => {}
            });
        }
        sample.total = intended.elapsed();
        if !status.is_success() {
            // As the official clients do, a connection the refusal left open (no
            // `Connection: close`, body read to its end) carries the next request.
            if error.is_none()
                && !sender.is_closed()
                && let Ok(mut pool) = self.pool.lock()
            {
                pool.push(sender);
            }
            return Sample {
                began: Some(began),
                sent: Some(sent),
                ..Sample::failed(sample.total, refusal_kind(status, retry_after, &error_body))
            };
        }
        if error.is_none() && !done {
            error = Some("no [DONE]".to_owned());
        }
        if let Some(kind) = error {
            return Sample::failed(sample.total, kind);
        }
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(sender);
        }
        sample
    }

    async fn hold(
        &self,
        started: tokio::sync::mpsc::Sender<bool>,
        mut release: tokio::sync::watch::Receiver<bool>,
    ) {
        let ok = async {
            let mut sender = self.sender().await.ok()?;
            let resp = sender.send_request(self.request().ok()?).await.ok()?;
            resp.status().is_success().then_some((sender, resp))
        }
        .await;
        let _ = started.send(ok.is_some()).await;
        // Dropping the response (and its connection) on release closes the stream.
        let _ = release.wait_for(|r| *r).await;
        drop(ok);
    }
}
