//! [`ConverseStream`]: clients, retries, timeouts, abort and token counting around the request
//! builder and the event converter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::Region;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::RequestId as _;
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError;
use aws_sdk_bedrockruntime::operation::count_tokens::CountTokensError;
use aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ConverseStreamOutput, ConverseTokensRequest, CountTokensInput,
};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use futures::future::BoxFuture;
use openclaw_creds::{AwsSettings, CredentialSource};
use tokio::time::Instant;

use super::convert::Converter;
use super::request;
use crate::types::{ErrorInfo, ErrorKind, StreamEvent, StreamRequest};
use crate::{
    AbortSignal, CallError, EventStream, ModelStream, RequestIdSlot, StreamOptions,
    is_valid_traceparent,
};

/// Resilience settings of a [`ConverseStream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterOptions {
    /// Attempts per call, first included, for throttling and 5xx answers before the stream
    /// starts (the SDK's standard retry mode). Default 3.
    pub max_attempts: u32,
    /// First retry backoff; later ones grow exponentially with jitter (SDK). Default 1 s.
    pub initial_backoff: Duration,
    /// TCP/TLS connect timeout (SDK). Default 10 s.
    pub connect_timeout: Duration,
    /// Time from the call to the first stream event, retries included. Default 60 s.
    pub first_event_timeout: Duration,
    /// Longest gap between two stream events. Default 30 s.
    pub idle_timeout: Duration,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        AdapterOptions {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            first_event_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    region: Option<String>,
    endpoint: Option<String>,
}

#[derive(Debug)]
struct Inner {
    base: aws_sdk_bedrockruntime::Config,
    /// Where credentials come from, to word a missing-credentials failure like OpenClaw.
    source: Option<CredentialSource>,
    options: AdapterOptions,
    /// The client without region or endpoint override (nearly every call), created on first
    /// use.
    default_client: OnceLock<Client>,
    /// Clients for calls overriding the region or endpoint.
    clients: Mutex<HashMap<ClientKey, Client>>,
}

/// [`ModelStream`] over Bedrock's `ConverseStream`.
///
/// Holds one SDK configuration (credentials, default region and endpoint) and one client per
/// region/endpoint pair it is asked for, created on first use and reused. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConverseStream {
    inner: Arc<Inner>,
}

impl ConverseStream {
    /// An adapter over an SDK configuration (from `openclaw_creds`, or built by hand), with the
    /// retry and connect-timeout settings of `options` applied on top. A call that finds no
    /// credentials (the provider loads none, or the configuration has no provider at all) ends
    /// with OpenClaw's message, naming the SDK default chain as the source checked:
    /// `No API key resolved for provider "amazon-bedrock" (auth mode: aws-sdk, checked: aws-sdk default chain).`
    pub fn new(config: aws_sdk_bedrockruntime::Config, options: AdapterOptions) -> Self {
        Self::build(config, None, options)
    }

    /// An adapter over `openclaw_creds` settings (credentials, region, endpoint overrides);
    /// a call that finds no credentials ends with OpenClaw's message,
    /// `No API key resolved for provider "amazon-bedrock" (auth mode: aws-sdk, checked: <source>).`
    pub fn from_settings(settings: &AwsSettings, options: AdapterOptions) -> Self {
        let source = settings.credential_source().clone();
        Self::build(settings.runtime_config(), Some(source), options)
    }

    fn build(
        base: aws_sdk_bedrockruntime::Config,
        source: Option<CredentialSource>,
        options: AdapterOptions,
    ) -> Self {
        let clients = Mutex::new(HashMap::new());
        ConverseStream {
            inner: Arc::new(Inner {
                base,
                source,
                options,
                default_client: OnceLock::new(),
                clients,
            }),
        }
    }

    /// The resilience settings.
    pub fn options(&self) -> AdapterOptions {
        self.inner.options
    }

    /// How many distinct clients have been created so far.
    pub fn client_count(&self) -> usize {
        let overrides = self
            .inner
            .clients
            .lock()
            .map(|c| c.len())
            .unwrap_or_else(|p| p.into_inner().len());
        overrides + usize::from(self.inner.default_client.get().is_some())
    }

    fn client(&self, options: &StreamOptions) -> Client {
        // The common case, no region or endpoint override: no lock, no key to build.
        if options.region.is_none() && options.endpoint.is_none() {
            return self
                .inner
                .default_client
                .get_or_init(|| self.make_client(None, None))
                .clone();
        }
        let key = ClientKey {
            region: options.region.clone(),
            endpoint: options.endpoint.clone(),
        };
        let mut clients = self.inner.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(key)
            .or_insert_with_key(|key| {
                self.make_client(key.region.as_deref(), key.endpoint.as_deref())
            })
            .clone()
    }

    fn make_client(&self, region: Option<&str>, endpoint: Option<&str>) -> Client {
        let o = &self.inner.options;
        let mut b = self.inner.base.to_builder();
        if let Some(region) = region {
            b = b.region(Region::new(region.to_owned()));
        }
        if let Some(endpoint) = endpoint {
            b = b.endpoint_url(endpoint);
        }
        let retry = RetryConfig::standard()
            .with_max_attempts(o.max_attempts.max(1))
            .with_initial_backoff(o.initial_backoff);
        let timeout = TimeoutConfig::builder()
            .connect_timeout(o.connect_timeout)
            .build();
        Client::from_conf(b.retry_config(retry).timeout_config(timeout).build())
    }
}

impl ModelStream for ConverseStream {
    fn stream(&self, request: StreamRequest, options: StreamOptions) -> EventStream {
        let client = self.client(&options);
        let driver = Driver {
            conv: Converter::new(&request.model).deltas_only(options.deltas_only),
            state: State::Init(Box::new(request)),
            client,
            source: self.inner.source.clone(),
            options: self.inner.options,
            abort: options.abort,
            traceparent: traceparent(options.traceparent),
            request_id: options.request_id,
            pending: Vec::new(),
            first_deadline: None,
            idle: None,
        };
        // The driver is boxed: the stream moves its state in and out of a new future for
        // every event, and a pointer moves cheaper than the driver.
        Box::pin(futures::stream::unfold(
            Box::new(driver),
            |mut d| async move { d.next().await.map(|e| (e, d)) },
        ))
    }

    /// Bedrock's `CountTokens` with the Converse input `stream` would send (the same builder:
    /// system, messages, tools; no inference configuration or model request fields), for the
    /// model id without its cross-region prefix (`CountTokens` takes foundation models, not
    /// inference profiles: `us.anthropic.claude-...` is counted as `anthropic.claude-...`).
    /// Failures are classified like stream failures; the first-event timeout bounds the call,
    /// and the abort signal ends it with [`ErrorKind::Aborted`].
    fn count_tokens(
        &self,
        request: StreamRequest,
        options: StreamOptions,
    ) -> BoxFuture<'static, Result<u64, CallError>> {
        let client = self.client(&options);
        let source = self.inner.source.clone();
        let timeout = self.inner.options.first_event_timeout;
        let mut abort = options.abort;
        let request_id = options.request_id;
        let traceparent = traceparent(options.traceparent);
        Box::pin(async move {
            let input = request::build(&request).map_err(|e| CallError {
                info: ErrorInfo::new(e.kind()),
                message: e.to_string(),
            })?;
            let tokens = ConverseTokensRequest::builder()
                .set_messages(Some(input.messages))
                .set_system(Some(input.system).filter(|s| !s.is_empty()))
                .set_tool_config(input.tool_config)
                .build();
            let send = client
                .count_tokens()
                .model_id(super::model::count_tokens_model_id(&request.model))
                .input(CountTokensInput::Converse(tokens))
                .customize()
                .mutate_request(with_traceparent(traceparent))
                .send();
            let deadline = Instant::now() + timeout;
            match Driver::guarded(&mut abort, deadline, send).await {
                Step::Ready(Ok(output)) => {
                    record_request_id(request_id.as_ref(), output.request_id());
                    Ok(u64::try_from(output.input_tokens()).unwrap_or(0))
                }
                Step::Ready(Err(e)) => {
                    record_request_id(request_id.as_ref(), e.request_id());
                    let (info, message) = send_error(&e, source.as_ref());
                    Err(CallError { info, message })
                }
                Step::Aborted => Err(CallError {
                    info: ErrorInfo::new(ErrorKind::Aborted),
                    message: "request was aborted".into(),
                }),
                Step::TimedOut => Err(CallError {
                    info: ErrorInfo::new(ErrorKind::Timeout),
                    message: format!("no response from bedrock within {timeout:?} (token count)"),
                }),
            }
        })
    }
}

type Receiver = EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>;

enum State {
    Init(Box<StreamRequest>),
    Receiving(Box<Receiver>),
    Closed,
}

/// Drives one call: owns the SDK future (while awaited) and receiver, so dropping the stream
/// drops the connection.
struct Driver {
    conv: Converter,
    state: State,
    client: Client,
    source: Option<CredentialSource>,
    options: AdapterOptions,
    abort: Option<AbortSignal>,
    /// The caller's trace context, sent as the `traceparent` header.
    traceparent: Option<String>,
    /// Where Bedrock's request id goes.
    request_id: Option<RequestIdSlot>,
    /// The converter's events for one item, last first (`next` pops them from the end). Only
    /// filled when empty, so one buffer is both the converter's output and the queue, kept for
    /// the stream's life: no allocation per event, and a few events' worth of memory per open
    /// stream instead of two buffers.
    pending: Vec<StreamEvent>,
    first_deadline: Option<Instant>,
    /// The idle timeout between events: one timer for the whole stream, moved only when it
    /// fires early (registering and cancelling a timer per event costs a lock on the timer
    /// wheel twice per event).
    idle: Option<Idle>,
}

/// The idle timer of a stream and when its last event arrived.
struct Idle {
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    last: Instant,
}

/// The `traceparent` to send: only a well-formed one (anything else could not be a header).
fn traceparent(value: Option<String>) -> Option<String> {
    value.filter(|v| is_valid_traceparent(v))
}

/// Adds the `traceparent` header to the HTTP request of an operation (before signing: the
/// header is signed like the others).
fn with_traceparent(
    value: Option<String>,
) -> impl Fn(&mut aws_smithy_runtime_api::client::orchestrator::HttpRequest) + Send + Sync + 'static
{
    move |req| {
        if let Some(v) = &value {
            // Validated as lowercase hex and dashes: cannot fail.
            let _ = req.headers_mut().try_insert("traceparent", v.clone());
        }
    }
}

/// Records the request id of a response, if it had one.
fn record_request_id(slot: Option<&RequestIdSlot>, id: Option<&str>) {
    if let (Some(slot), Some(id)) = (slot, id) {
        slot.set(id);
    }
}

enum Step<T> {
    Ready(T),
    Aborted,
    TimedOut,
}

impl Driver {
    async fn next(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(event) = self.pending.pop() {
                return Some(event);
            }
            if self.conv.is_finished() {
                // Drop the receiver now: nothing more will be read.
                self.state = State::Closed;
                return None;
            }
            self.step().await;
        }
    }

    fn fail(&mut self, info: ErrorInfo, message: String) {
        debug_assert!(self.pending.is_empty());
        self.conv.fail(info, message, &mut self.pending);
        self.pending.reverse();
        self.state = State::Closed;
    }

    fn aborted(&mut self) {
        self.fail(
            ErrorInfo::new(ErrorKind::Aborted),
            "request was aborted".into(),
        );
    }

    /// Runs `fut` unless the abort signal fires or `deadline` passes first.
    async fn guarded<T>(
        abort: &mut Option<AbortSignal>,
        deadline: Instant,
        fut: impl Future<Output = T>,
    ) -> Step<T> {
        let aborted = async {
            match abort {
                Some(signal) => signal.aborted().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = aborted => Step::Aborted,
            r = tokio::time::timeout_at(deadline, fut) => match r {
                Ok(v) => Step::Ready(v),
                Err(_) => Step::TimedOut,
            },
        }
    }

    /// Runs `fut` unless the abort signal fires or no event arrives for the idle timeout (on
    /// `idle`'s timer, which moves only when it fires before the silence is long enough).
    async fn idle_guarded<T>(
        abort: &mut Option<AbortSignal>,
        idle: &mut Idle,
        timeout: Duration,
        fut: impl Future<Output = T>,
    ) -> Step<T> {
        let aborted = async {
            match abort {
                Some(signal) => signal.aborted().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(aborted, fut);
        loop {
            tokio::select! {
                biased;
                () = &mut aborted => return Step::Aborted,
                v = &mut fut => {
                    idle.last = Instant::now();
                    return Step::Ready(v);
                }
                () = idle.timer.as_mut() => {
                    let due = idle.last + timeout;
                    if Instant::now() >= due {
                        return Step::TimedOut;
                    }
                    idle.timer.as_mut().reset(due);
                }
            }
        }
    }

    async fn step(&mut self) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Closed => self.fail(
                ErrorInfo::new(ErrorKind::Upstream),
                "stream already closed".into(),
            ),
            State::Init(request) => {
                if self.abort.as_ref().is_some_and(AbortSignal::is_aborted) {
                    return self.aborted();
                }
                let input = match request::build(&request) {
                    Ok(input) => input,
                    Err(e) => return self.fail(ErrorInfo::new(e.kind()), e.to_string()),
                };
                let deadline = Instant::now() + self.options.first_event_timeout;
                self.first_deadline = Some(deadline);
                // Boxed: the SDK's send future is large, and stored inline it would size every
                // stream's state for its whole life (memory per open stream), not just the call.
                let send = Box::pin(
                    self.client
                        .converse_stream()
                        .model_id(input.model_id)
                        .set_system(Some(input.system).filter(|s| !s.is_empty()))
                        .set_messages(Some(input.messages))
                        .inference_config(input.inference)
                        .set_tool_config(input.tool_config)
                        .set_additional_model_request_fields(input.additional_fields)
                        .set_additional_model_response_field_paths(input.response_field_paths)
                        .set_guardrail_config(input.guardrail)
                        .customize()
                        .mutate_request(with_traceparent(self.traceparent.clone()))
                        .send(),
                );
                match Self::guarded(&mut self.abort, deadline, send).await {
                    Step::Ready(Ok(output)) => {
                        record_request_id(self.request_id.as_ref(), output.request_id());
                        self.state = State::Receiving(Box::new(output.stream))
                    }
                    Step::Ready(Err(e)) => {
                        record_request_id(self.request_id.as_ref(), e.request_id());
                        let (info, message) = send_error(&e, self.source.as_ref());
                        self.fail(info, message);
                    }
                    Step::Aborted => self.aborted(),
                    Step::TimedOut => self.fail(
                        ErrorInfo::new(ErrorKind::Timeout),
                        format!(
                            "no response from bedrock within {:?} (first-event timeout)",
                            self.options.first_event_timeout
                        ),
                    ),
                }
            }
            State::Receiving(mut rx) => {
                let first = self.first_deadline.take();
                let idle_timeout = self.options.idle_timeout;
                let step = match first {
                    Some(deadline) => Self::guarded(&mut self.abort, deadline, rx.recv()).await,
                    None => {
                        let idle = self.idle.get_or_insert_with(|| {
                            let now = Instant::now();
                            Idle {
                                timer: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
                                last: now,
                            }
                        });
                        Self::idle_guarded(&mut self.abort, idle, idle_timeout, rx.recv()).await
                    }
                };
                match step {
                    Step::Ready(Ok(Some(item))) => {
                        debug_assert!(self.pending.is_empty());
                        self.conv.push(item, &mut self.pending);
                        self.pending.reverse();
                        if !self.conv.is_finished() {
                            self.state = State::Receiving(rx);
                        }
                    }
                    Step::Ready(Ok(None)) => {
                        debug_assert!(self.pending.is_empty());
                        self.conv.finish(&mut self.pending);
                        self.pending.reverse();
                    }
                    Step::Ready(Err(e)) => {
                        let (info, message) = stream_error(&e);
                        self.fail(info, message);
                    }
                    Step::Aborted => self.aborted(),
                    Step::TimedOut if first.is_some() => self.fail(
                        ErrorInfo::new(ErrorKind::Timeout),
                        format!(
                            "no event from bedrock within {:?} (first-event timeout)",
                            self.options.first_event_timeout
                        ),
                    ),
                    Step::TimedOut => self.fail(
                        ErrorInfo::new(ErrorKind::Timeout),
                        format!(
                            "no event from bedrock for {:?} (idle timeout)",
                            self.options.idle_timeout
                        ),
                    ),
                }
            }
        }
    }
}

/// The modelled error variants of a Bedrock runtime operation, by kind and shape name.
pub(crate) trait OperationError:
    ProvideErrorMetadata + std::error::Error + Send + Sync + 'static
{
    /// The kind and code of a modelled variant; `None` for an error the model does not declare.
    fn modelled(&self) -> Option<(ErrorKind, &'static str)>;
}

impl OperationError for ConverseStreamError {
    fn modelled(&self) -> Option<(ErrorKind, &'static str)> {
        use ConverseStreamError as E;
        Some(match self {
            E::AccessDeniedException(_) => (ErrorKind::Auth, "AccessDeniedException"),
            E::ResourceNotFoundException(_) => (ErrorKind::NotFound, "ResourceNotFoundException"),
            E::ValidationException(_) => (ErrorKind::Validation, "ValidationException"),
            E::ThrottlingException(_) => (ErrorKind::Throttled, "ThrottlingException"),
            E::ServiceUnavailableException(_) => {
                (ErrorKind::Unavailable, "ServiceUnavailableException")
            }
            E::ModelNotReadyException(_) => (ErrorKind::Unavailable, "ModelNotReadyException"),
            E::ModelTimeoutException(_) => (ErrorKind::Timeout, "ModelTimeoutException"),
            E::InternalServerException(_) => (ErrorKind::Upstream, "InternalServerException"),
            E::ModelErrorException(_) => (ErrorKind::Upstream, "ModelErrorException"),
            E::ModelStreamErrorException(_) => (ErrorKind::Upstream, "ModelStreamErrorException"),
            _ => return None,
        })
    }
}

impl OperationError for CountTokensError {
    fn modelled(&self) -> Option<(ErrorKind, &'static str)> {
        use CountTokensError as E;
        Some(match self {
            E::AccessDeniedException(_) => (ErrorKind::Auth, "AccessDeniedException"),
            E::ResourceNotFoundException(_) => (ErrorKind::NotFound, "ResourceNotFoundException"),
            E::ValidationException(_) => (ErrorKind::Validation, "ValidationException"),
            E::ThrottlingException(_) => (ErrorKind::Throttled, "ThrottlingException"),
            E::ServiceUnavailableException(_) => {
                (ErrorKind::Unavailable, "ServiceUnavailableException")
            }
            E::InternalServerException(_) => (ErrorKind::Upstream, "InternalServerException"),
            _ => return None,
        })
    }
}

/// The classification and a readable message for a failed `converse_stream` or `count_tokens`
/// call (before any event), from the SDK's typed error: the operation's error variant, the AWS
/// error code and
/// the HTTP status of a service error; the failure kind of a transport error; a credentials
/// error anywhere in the cause chain. A missing credential reads like OpenClaw's message,
/// naming `checked` (the SDK default chain when `None`).
pub(crate) fn send_error<E: OperationError>(
    e: &SdkError<E>,
    checked: Option<&CredentialSource>,
) -> (ErrorInfo, String) {
    // A raw SDK configuration (`ConverseStream::new`) resolves credentials through whatever
    // provider it holds, usually the SDK default chain: report that source.
    let default_chain = CredentialSource::DefaultChain { marker: None };
    let checked = checked.unwrap_or(&default_chain);
    if let Some(err) = openclaw_creds::missing_credentials_error(checked, e) {
        return (ErrorInfo::new(ErrorKind::Auth), err.to_string());
    }
    if no_identity_resolver(e) {
        let err = openclaw_creds::Error::MissingCredentials {
            checked: checked.clone(),
        };
        return (ErrorInfo::new(ErrorKind::Auth), err.to_string());
    }
    match e {
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            let raw = ctx.raw();
            let status = raw.status().as_u16();
            let (kind, code) = send_error_kind(err, status);
            let code = code.unwrap_or("UnknownError");
            let mut info = ErrorInfo::new(kind).with_code(code).with_status(status);
            info.retry_after_secs = raw
                .headers()
                .get("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok());
            let message = match err.message() {
                Some(m) => format!("bedrock rejected the request (HTTP {status}, {code}): {m}"),
                None => format!("bedrock rejected the request (HTTP {status}, {code})"),
            };
            (info, message)
        }
        _ if credentials_error(e) => (
            ErrorInfo::new(ErrorKind::Auth),
            format!(
                "could not load AWS credentials ({checked}): {}",
                openclaw_creds::error_chain(e)
            ),
        ),
        SdkError::TimeoutError(_) => (
            ErrorInfo::new(ErrorKind::Timeout),
            "timed out waiting for bedrock".into(),
        ),
        SdkError::DispatchFailure(d) if d.is_timeout() => (
            ErrorInfo::new(ErrorKind::Timeout),
            "timed out connecting to bedrock (connect timeout)".into(),
        ),
        SdkError::DispatchFailure(_) if openclaw_creds::is_untrusted_certificate(e) => (
            ErrorInfo::new(ErrorKind::Upstream),
            format!(
                "could not reach bedrock: {}: {}",
                openclaw_creds::error_chain(e),
                openclaw_creds::UNTRUSTED_CERTIFICATE_HINT
            ),
        ),
        SdkError::DispatchFailure(_) => (
            ErrorInfo::new(ErrorKind::Upstream),
            format!(
                "could not reach bedrock: {}",
                openclaw_creds::error_chain(e)
            ),
        ),
        SdkError::ResponseError(_) => (
            ErrorInfo::new(ErrorKind::Upstream),
            format!(
                "invalid response from bedrock: {}",
                openclaw_creds::error_chain(e)
            ),
        ),
        _ => (
            ErrorInfo::new(ErrorKind::Upstream),
            format!(
                "could not send the request to bedrock: {}",
                openclaw_creds::error_chain(e)
            ),
        ),
    }
}

/// The kind and code of an error response: by the modelled error variant (whose shape name is
/// the code), else (an error the model does not declare) by the AWS error code, else by the
/// HTTP status.
fn send_error_kind<E: OperationError>(err: &E, status: u16) -> (ErrorKind, Option<&str>) {
    match err.modelled() {
        Some((kind, code)) => (kind, Some(code)),
        None => {
            let kind = code_kind(err.code()).unwrap_or_else(|| status_kind(status));
            (kind, err.code())
        }
    }
}

/// The kind of an AWS error code Bedrock's model does not declare but AWS sends (the
/// authentication layer's codes, the quota codes).
fn code_kind(code: Option<&str>) -> Option<ErrorKind> {
    Some(match code? {
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException"
        | "MissingAuthenticationTokenException"
        | "IncompleteSignatureException"
        | "InvalidClientTokenId"
        | "NotAuthorized" => ErrorKind::Auth,
        "ThrottlingException" | "ServiceQuotaExceededException" | "TooManyRequestsException" => {
            ErrorKind::Throttled
        }
        "ResourceNotFoundException" => ErrorKind::NotFound,
        "ValidationException" | "SerializationException" => ErrorKind::Validation,
        "ServiceUnavailableException" | "ModelNotReadyException" => ErrorKind::Unavailable,
        "ModelTimeoutException" | "RequestTimeout" | "RequestTimeoutException" => {
            ErrorKind::Timeout
        }
        _ => return None,
    })
}

/// The kind of an error response with an unknown code, by its HTTP status.
fn status_kind(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::Throttled,
        503 => ErrorKind::Unavailable,
        400..=499 => ErrorKind::Validation,
        _ => ErrorKind::Upstream,
    }
}

/// Whether a credentials (or token) provider failed somewhere in the cause chain.
fn credentials_error(e: &(dyn std::error::Error + 'static)) -> bool {
    use aws_credential_types::provider::error::{CredentialsError, TokenError};
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<CredentialsError>() || err.is::<TokenError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Whether the SDK could not sign because no credentials (or token) provider was configured
/// at all: the orchestrator's `NoMatchingAuthSchemeError` is not public, so its cause is
/// recognised by its message ("there was no identity resolver for it").
fn no_identity_resolver(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.to_string().contains("no identity resolver") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The classification and a readable message for a failure after the stream began: in-stream
/// exceptions by their variant (pi-ai's wording; the code is the exception's shape name, the
/// HTTP status is none since the response was a 200), transport failures (a dropped
/// connection, a corrupt frame) as [`ErrorKind::Upstream`] with their cause.
pub(crate) fn stream_error<R: std::fmt::Debug + 'static>(
    e: &SdkError<ConverseStreamOutputError, R>,
) -> (ErrorInfo, String) {
    use ConverseStreamOutputError as E;
    let SdkError::ServiceError(ctx) = e else {
        return (
            ErrorInfo::new(ErrorKind::Upstream),
            format!("bedrock stream failed: {}", openclaw_creds::error_chain(e)),
        );
    };
    let err = ctx.err();
    let msg = err.message().unwrap_or("no details");
    let (kind, code, message) = match err {
        E::InternalServerException(_) => (
            ErrorKind::Upstream,
            "InternalServerException",
            format!("bedrock internal server error: {msg}"),
        ),
        E::ModelStreamErrorException(_) => (
            ErrorKind::Upstream,
            "ModelStreamErrorException",
            format!("bedrock model stream error: {msg}"),
        ),
        E::ValidationException(_) => (
            ErrorKind::Validation,
            "ValidationException",
            format!("bedrock validation error: {msg}"),
        ),
        E::ThrottlingException(_) => (
            ErrorKind::Throttled,
            "ThrottlingException",
            format!("bedrock throttling error: {msg}"),
        ),
        E::ServiceUnavailableException(_) => (
            ErrorKind::Unavailable,
            "ServiceUnavailableException",
            format!("bedrock service unavailable: {msg}"),
        ),
        _ => {
            let code = err.code().unwrap_or("unknown");
            let kind = code_kind(Some(code)).unwrap_or(ErrorKind::Upstream);
            let info = ErrorInfo::new(kind).with_code(code);
            return (info, format!("bedrock stream error ({code}): {msg}"));
        }
    };
    (ErrorInfo::new(kind).with_code(code), message)
}

#[cfg(test)]
mod tests;
