//! The harness: a fake with the test keys, SDK clients, stream collection, raw HTTP and
//! shared request helpers.

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region, Token};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseOutput,
    ConverseStreamOutput, Message, ReasoningContentBlockDelta, Tool, ToolConfiguration,
    ToolInputSchema, ToolSpecification,
};
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use aws_smithy_types::Document;
use fake_bedrock::{FakeBedrock, Fault};

pub(crate) const AK: &str = "AKIDEXAMPLE";
pub(crate) const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(crate) const TOKEN: &str = "test-bedrock-api-key";
pub(crate) const HAIKU3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
pub(crate) const SONNET45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

pub(crate) async fn fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AK, SK)
        .bearer_token(TOKEN)
        .start()
        .await
        .unwrap()
}

pub(crate) fn retry_off() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::disabled()
}

/// A runtime client signing with SigV4 (explicit config, no process environment).
pub(crate) fn runtime(
    fake: &FakeBedrock,
    region: &str,
    secret: &str,
) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(AK, secret, None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

pub(crate) fn runtime_bearer(fake: &FakeBedrock, token: &str) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .bearer_token(Token::new(token, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

/// A control-plane client built from an `SdkConfig`, as applications do.
pub(crate) fn control(fake: &FakeBedrock, region: &str) -> aws_sdk_bedrock::Client {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_bedrock::config::SharedCredentialsProvider::new(
            Credentials::new(AK, SK, Some("session-token-xyz".into()), None, "test"),
        ))
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrock::Client::new(&sdk)
}

pub(crate) fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.into()))
        .build()
        .unwrap()
}

pub(crate) fn text_of(output: &ConverseOutput) -> String {
    let ConverseOutput::Message(m) = output else {
        panic!("no message")
    };
    m.content()
        .iter()
        .filter_map(|b| b.as_text().ok().cloned())
        .collect()
}

pub(crate) fn weather_tool() -> ToolConfiguration {
    ToolConfiguration::builder()
        .tools(Tool::ToolSpec(
            ToolSpecification::builder()
                .name("get_weather")
                .description("Weather for a city")
                .input_schema(ToolInputSchema::Json(Document::Object(
                    [
                        ("type".to_owned(), Document::from("object")),
                        (
                            "properties".to_owned(),
                            Document::Object(
                                [(
                                    "city".to_owned(),
                                    Document::Object(
                                        [("type".to_owned(), Document::from("string"))].into(),
                                    ),
                                )]
                                .into(),
                            ),
                        ),
                        (
                            "required".to_owned(),
                            Document::Array(vec![Document::from("city")]),
                        ),
                    ]
                    .into(),
                )))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap()
}

/// Everything a stream delivered, decoded by the SDK.
#[derive(Default, Debug)]
pub(crate) struct Collected {
    pub(crate) kinds: Vec<String>,
    pub(crate) text: String,
    pub(crate) reasoning: String,
    pub(crate) signature: String,
    pub(crate) redacted: Vec<u8>,
    pub(crate) tool_starts: Vec<(String, String)>,
    pub(crate) tool_input: String,
    pub(crate) tool_deltas: usize,
    pub(crate) stop_reason: Option<String>,
    pub(crate) usage: Option<aws_sdk_bedrockruntime::types::TokenUsage>,
    pub(crate) latency: Option<i64>,
    pub(crate) error: Option<aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError>,
    pub(crate) other_error: Option<String>,
}

pub(crate) async fn collect(
    mut stream: aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver<
        ConverseStreamOutput,
        aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError,
    >,
) -> Collected {
    let mut c = Collected::default();
    loop {
        match stream.recv().await {
            Ok(Some(event)) => match event {
                ConverseStreamOutput::MessageStart(e) => {
                    assert_eq!(e.role(), &ConversationRole::Assistant);
                    c.kinds.push("messageStart".into());
                }
                ConverseStreamOutput::ContentBlockStart(e) => {
                    c.kinds.push("contentBlockStart".into());
                    if let Some(ContentBlockStart::ToolUse(t)) = e.start() {
                        c.tool_starts
                            .push((t.tool_use_id().to_owned(), t.name().to_owned()));
                    }
                }
                ConverseStreamOutput::ContentBlockDelta(e) => {
                    c.kinds.push("contentBlockDelta".into());
                    match e.delta() {
                        Some(ContentBlockDelta::Text(t)) => c.text.push_str(t),
                        Some(ContentBlockDelta::ToolUse(t)) => {
                            c.tool_input.push_str(t.input());
                            c.tool_deltas += 1;
                        }
                        Some(ContentBlockDelta::ReasoningContent(r)) => match r {
                            ReasoningContentBlockDelta::Text(t) => c.reasoning.push_str(t),
                            ReasoningContentBlockDelta::Signature(s) => c.signature.push_str(s),
                            ReasoningContentBlockDelta::RedactedContent(b) => {
                                c.redacted.extend_from_slice(b.as_ref())
                            }
                            other => panic!("unexpected reasoning delta {other:?}"),
                        },
                        other => panic!("unexpected delta {other:?}"),
                    }
                }
                ConverseStreamOutput::ContentBlockStop(_) => {
                    c.kinds.push("contentBlockStop".into())
                }
                ConverseStreamOutput::MessageStop(e) => {
                    c.kinds.push("messageStop".into());
                    c.stop_reason = Some(e.stop_reason().as_str().to_owned());
                }
                ConverseStreamOutput::Metadata(e) => {
                    c.kinds.push("metadata".into());
                    c.usage = e.usage().cloned();
                    c.latency = e.metrics().map(|m| m.latency_ms());
                }
                other => panic!("unknown event {other:?}"),
            },
            Ok(None) => break,
            Err(err) => {
                use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError as E;
                match err.into_service_error() {
                    e @ (E::ThrottlingException(_)
                    | E::InternalServerException(_)
                    | E::ModelStreamErrorException(_)
                    | E::ValidationException(_)
                    | E::ServiceUnavailableException(_)) => c.error = Some(e),
                    other => c.other_error = Some(format!("{other:?}")),
                }
                break;
            }
        }
    }
    c
}

pub(crate) fn dedup(kinds: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in kinds {
        if out.last() != Some(k) {
            out.push(k.clone());
        }
    }
    out
}

pub(crate) async fn converse_err(
    client: &aws_sdk_bedrockruntime::Client,
) -> aws_sdk_bedrockruntime::operation::converse::ConverseError {
    client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error()
}

pub(crate) async fn stream_with(fake: &FakeBedrock, fault: Fault) -> Collected {
    fake.fault(fault);
    let client = runtime(fake, "us-east-1", SK);
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("a prompt long enough for several deltas"))
        .send()
        .await
        .unwrap();
    collect(out.stream).await
}

pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) async fn raw(
    fake: &FakeBedrock,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    raw_at(fake.addr(), method, path, headers, body).await
}

pub(crate) async fn raw_at(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    let driver = tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = sender
        .send_request(
            req.body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
                body,
            )))
            .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    driver.abort();
    RawResponse {
        status,
        headers,
        body,
    }
}

pub(crate) async fn admin(
    fake: &FakeBedrock,
    method: &str,
    route: &str,
    body: &str,
) -> RawResponse {
    raw(
        fake,
        method,
        &format!("/_fake/{route}"),
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await
}

pub(crate) fn body_json(resp: &RawResponse) -> serde_json::Value {
    serde_json::from_slice(&resp.body).unwrap()
}

pub(crate) async fn converse_message(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    messages: Vec<Message>,
    tool_config: Option<ToolConfiguration>,
    fields: Option<Document>,
) -> Result<String, String> {
    client
        .converse()
        .model_id(model)
        .set_messages(Some(messages))
        .set_tool_config(tool_config)
        .set_additional_model_request_fields(fields)
        .send()
        .await
        .map(|out| text_of(out.output().unwrap()))
        .map_err(|e| {
            let e = e.into_service_error();
            assert!(e.is_validation_exception(), "{e:?}");
            e.message().unwrap_or_default().to_owned()
        })
}

/// Starts the `fake-bedrock` binary with `args` (stdout piped, killed on drop) and returns it
/// with the URL of its `listening on <url>` first line.
pub async fn spawn_binary<I, S>(args: I) -> (tokio::process::Child, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-bedrock"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    (child, url)
}
