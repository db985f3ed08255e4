//! The HTTP side: one handler that records, authenticates, injects faults and routes by the raw
//! (still percent-encoded) path, as Bedrock's REST-JSON protocol does.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use tokio::sync::watch;

use crate::auth::{self, Auth, Received, Verifier};
use crate::catalog::{Catalog, FoundationModel, InferenceProfile};
use crate::eventstream;
use crate::generate;
use crate::record::{RecordedRequest, redact_headers};
use crate::script::{Block, Fault, Pacing, Rule, StreamException, Target, Turn};
use crate::wire;

/// The largest request body accepted (Bedrock's Converse payload limit is of this order).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Fixed configuration.
pub(crate) struct Config {
    pub keys: HashMap<String, String>,
    pub tokens: Vec<String>,
    pub catalog: Catalog,
    pub default_region: String,
    pub account_id: String,
    pub chunk_size: usize,
    /// The pacing configured at start (restored by `POST /_fake/reset`).
    pub pacing: Pacing,
}

/// Mutable state behind one mutex (short critical sections, never held across an await).
#[derive(Default)]
pub(crate) struct Mutable {
    pub requests: Vec<RecordedRequest>,
    pub turns: Vec<Rule<Turn>>,
    pub faults: Vec<Rule<Fault>>,
    pub pacing: Pacing,
    pub request_counter: u64,
    pub tool_counter: u64,
    pub cache_prefixes: HashSet<u64>,
}

pub(crate) struct Shared {
    pub config: Config,
    pub state: Mutex<Mutable>,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Mutable> {
        // A poisoned lock only means a test thread panicked while holding it; the data is fine.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub(crate) async fn until_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        // An error means the sender is gone: the server is stopping as well.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// An error response as Bedrock sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Error type, e.g. `ValidationException`.
    pub error_type: String,
    /// Human-readable message.
    pub message: String,
    /// The coral namespace in `x-amzn-errortype` (`com.amazon.bedrock` or
    /// `com.amazon.coral.service` for front-door errors).
    namespace: &'static str,
    /// Bedrock API-key failures use `Message` (capitalised) in the body.
    capital_message: bool,
}

impl ApiError {
    pub(crate) fn new(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            error_type: error_type.to_owned(),
            message: message.to_owned(),
            namespace: "com.amazon.bedrock",
            capital_message: error_type == "AccessDeniedException"
                && message.starts_with("Authentication failed"),
        }
    }

    /// A front-door (authentication) error.
    pub(crate) fn coral(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            namespace: "com.amazon.coral.service",
            ..Self::new(status, error_type, message)
        }
    }

    fn validation(message: &str) -> Self {
        Self::new(400, "ValidationException", message)
    }

    fn into_response(self, request_id: &str) -> Response {
        let body = if self.capital_message {
            #[derive(Serialize)]
            struct Capital<'a> {
                #[serde(rename = "Message")]
                message: &'a str,
            }
            serde_json::to_vec(&Capital {
                message: &self.message,
            })
        } else {
            serde_json::to_vec(&wire::ErrorBody {
                message: &self.message,
            })
        }
        .unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{}:http://internal.amazon.com/coral/{}/",
            self.error_type, self.namespace
        )) {
            headers.insert("x-amzn-errortype", v);
        }
        insert_request_id(headers, request_id);
        response
    }
}

fn insert_request_id(headers: &mut HeaderMap, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
}

fn fault_error(fault: &Fault, action: &str, account: &str) -> Option<ApiError> {
    Some(match fault {
        Fault::Throttle => ApiError::new(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ),
        Fault::InternalError => ApiError::new(
            500,
            "InternalServerException",
            "The server encountered an internal error while processing the request.",
        ),
        Fault::ServiceUnavailable => ApiError::new(
            503,
            "ServiceUnavailableException",
            "The service is currently unavailable. Please try again later.",
        ),
        Fault::AccessDenied => ApiError::new(
            403,
            "AccessDeniedException",
            &format!(
                "User: arn:aws:iam::{account}:user/fake-bedrock is not authorized to perform: bedrock:{action} because no identity-based policy allows the bedrock:{action} action"
            ),
        ),
        Fault::Error {
            status,
            error_type,
            message,
        } => ApiError::new(*status, error_type, message),
        _ => return None,
    })
}

/// What a request asks for, decided from the method and the raw path.
enum Route {
    ListFoundationModels,
    GetFoundationModel(String),
    ListInferenceProfiles,
    GetInferenceProfile(String),
    Converse { model: String, stream: bool },
    Unknown,
}

impl Route {
    fn parse(method: &str, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        match (method, segments.as_slice()) {
            ("GET", ["foundation-models"]) => Self::ListFoundationModels,
            ("GET", ["foundation-models", id]) if !id.is_empty() => {
                Self::GetFoundationModel(decode(id))
            }
            ("GET", ["inference-profiles"]) => Self::ListInferenceProfiles,
            ("GET", ["inference-profiles", id]) if !id.is_empty() => {
                Self::GetInferenceProfile(decode(id))
            }
            ("POST", ["model", id, "converse"]) => Self::Converse {
                model: decode(id),
                stream: false,
            },
            ("POST", ["model", id, "converse-stream"]) => Self::Converse {
                model: decode(id),
                stream: true,
            },
            _ => Self::Unknown,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Self::ListFoundationModels => "ListFoundationModels",
            Self::GetFoundationModel(_) => "GetFoundationModel",
            Self::ListInferenceProfiles => "ListInferenceProfiles",
            Self::GetInferenceProfile(_) => "GetInferenceProfile",
            Self::Converse { stream: false, .. } => "InvokeModel",
            Self::Converse { stream: true, .. } => "InvokeModelWithResponseStream",
            Self::Unknown => "Unknown",
        }
    }
}

/// Marks a recorded request `client_disconnected` when dropped while armed. hyper drops the
/// handler future, or the response body, when the client closes or resets its connection;
/// every normal end (and every injected fault, and a shutdown) disarms it first.
pub(crate) struct DisconnectWatch {
    shared: Arc<Shared>,
    request_id: String,
    armed: bool,
}

impl DisconnectWatch {
    fn new(shared: Arc<Shared>, request_id: String) -> Self {
        Self {
            shared,
            request_id,
            armed: true,
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for DisconnectWatch {
    fn drop(&mut self) {
        if !self.armed || self.shared.stopping() {
            return;
        }
        let mut state = self.shared.lock();
        if let Some(r) = state
            .requests
            .iter_mut()
            .rev()
            .find(|r| r.request_id == self.request_id)
        {
            r.client_disconnected = true;
        }
    }
}

/// The single entry point for every request.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    if crate::admin::is_admin_path(parts.uri.path()) {
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .unwrap_or_default();
        return crate::admin::handle(&shared, parts.method.as_str(), parts.uri.path(), &body);
    }
    // HTTP/2 carries the host in the `:authority` pseudo-header, which hyper puts in the URI.
    // Give it a `Host` header as an HTTP/1.1 gateway would (RFC 9113 section 8.3.1), so the
    // record and the SigV4 check see one shape whatever protocol the client spoke.
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(authority) = parts.uri.authority()
        && let Ok(value) = HeaderValue::from_str(authority.as_str())
    {
        parts.headers.insert(http::header::HOST, value);
    }
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let method = parts.method.as_str().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (path_and_query.clone(), String::new()),
    };

    let request_id = {
        let mut state = shared.lock();
        state.request_counter += 1;
        let request_id = format!("fa4eb0c4-0000-4000-8000-{:012x}", state.request_counter);
        state.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            headers: redact_headers(&parts.headers),
            body: body.clone(),
            auth: auth::claimed(&parts.headers),
            status: None,
            request_id: request_id.clone(),
            client_disconnected: false,
        });
        request_id
    };

    let mut watch = DisconnectWatch::new(shared.clone(), request_id.clone());
    let response = respond(
        &shared,
        &method,
        &path_and_query,
        &path,
        &query,
        &parts.headers,
        &body,
        &request_id,
        started,
    )
    .await;
    watch.disarm();
    let mut state = shared.lock();
    // Found by id: the list may have been cleared or reset meanwhile.
    if let Some(recorded) = state
        .requests
        .iter_mut()
        .rev()
        .find(|r| r.request_id == request_id)
    {
        recorded.status = Some(response.status().as_u16());
    }
    response
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    shared: &Arc<Shared>,
    method: &str,
    path_and_query: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    request_id: &str,
    started: Instant,
) -> Response {
    let config = &shared.config;
    let verifier = Verifier {
        keys: &config.keys,
        tokens: &config.tokens,
    };
    let auth = match verifier.verify(&Received {
        method,
        path_and_query,
        headers,
        body,
    }) {
        Ok(auth) => auth,
        Err(err) => return err.into_response(request_id),
    };
    let region = match &auth {
        Auth::SigV4 { region, .. } => region.clone(),
        _ => config.default_region.clone(),
    };
    let route = Route::parse(method, path);
    let ctx = Ctx {
        catalog: &config.catalog,
        region: &region,
        account: &config.account_id,
    };

    // Names a model-targeted rule can match: the id as sent and the model it resolves to.
    let (runtime, model_names) = match &route {
        Route::Converse { model, .. } => {
            let mut names = vec![model.clone()];
            if let Ok(resolved) = ctx.resolve(model) {
                names.push(resolved.model.model_id.clone());
            }
            (true, names)
        }
        _ => (false, Vec::new()),
    };
    let stream = matches!(route, Route::Converse { stream: true, .. });
    let fault = take_rule(&mut shared.lock().faults, |rule| {
        target_matches(&rule.target, runtime, &model_names) && (!rule.item.stream_only() || stream)
    });
    let pacing = shared.lock().pacing;
    if let Some(fault) = &fault {
        if *fault == Fault::Hang {
            shared.until_shutdown().await;
            return ApiError::new(
                503,
                "ServiceUnavailableException",
                "fake-bedrock is stopping",
            )
            .into_response(request_id);
        }
        if let Some(err) = fault_error(fault, route.action(), &config.account_id) {
            sleep(pacing.first_byte).await;
            return err.into_response(request_id);
        }
    }

    let result = match route {
        Route::ListFoundationModels => ctx.list_foundation_models(query).map(json_response),
        Route::GetFoundationModel(id) => ctx.get_foundation_model(&id).map(json_response),
        Route::ListInferenceProfiles => ctx.list_inference_profiles(query).map(json_response),
        Route::GetInferenceProfile(id) => ctx.get_inference_profile(&id).map(json_response),
        Route::Converse { model, stream } => {
            converse(
                shared, &ctx, &model, stream, body, fault, pacing, started, request_id,
            )
            .await
        }
        Route::Unknown => Err(ApiError::coral(
            404,
            "UnknownOperationException",
            "The requested operation is not recognized by the service.",
        )),
    };
    match result {
        Ok(mut response) => {
            insert_request_id(response.headers_mut(), request_id);
            response
        }
        Err(err) => err.into_response(request_id),
    }
}

fn target_matches(target: &Target, runtime: bool, model_names: &[String]) -> bool {
    match target {
        Target::Any => true,
        Target::ControlPlane => !runtime,
        Target::Runtime => runtime,
        Target::Model(m) => model_names.iter().any(|n| n == m),
    }
}

/// Takes the first matching rule, decrementing (and dropping when exhausted) its count.
fn take_rule<T: Clone>(rules: &mut Vec<Rule<T>>, matches: impl Fn(&Rule<T>) -> bool) -> Option<T> {
    let index = rules.iter().position(matches)?;
    let item = rules[index].item.clone();
    match &mut rules[index].remaining {
        Some(n) if *n <= 1 => {
            rules.remove(index);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    Some(item)
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn json_response(body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// Request-scoped view of the catalog (region and account make the ARNs).
struct Ctx<'a> {
    catalog: &'a Catalog,
    region: &'a str,
    account: &'a str,
}

/// A runtime model identifier resolved against the catalog.
struct Resolved<'a> {
    model: &'a FoundationModel,
    /// Set when invoked through an inference profile.
    profile: Option<&'a InferenceProfile>,
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn enum_error(value: &str, field: &str, allowed: &[&str]) -> ApiError {
    ApiError::validation(&format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

impl Ctx<'_> {
    fn model_arn(&self, model_id: &str) -> String {
        format!(
            "arn:aws:bedrock:{}::foundation-model/{model_id}",
            self.region
        )
    }

    fn profile_arn(&self, profile_id: &str) -> String {
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{profile_id}",
            self.region, self.account
        )
    }

    fn summary<'m>(&self, m: &'m FoundationModel) -> wire::ModelSummary<'m> {
        wire::ModelSummary {
            model_arn: self.model_arn(&m.model_id),
            model_id: &m.model_id,
            model_name: &m.model_name,
            provider_name: &m.provider_name,
            input_modalities: &m.input_modalities,
            output_modalities: &m.output_modalities,
            response_streaming_supported: m.response_streaming_supported,
            customizations_supported: &m.customizations_supported,
            inference_types_supported: &m.inference_types_supported,
            model_lifecycle: &m.model_lifecycle,
        }
    }

    fn list_foundation_models(&self, query: &str) -> Result<Vec<u8>, ApiError> {
        let mut provider = None;
        let mut output = None;
        let mut inference = None;
        let mut customization = None;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "byProvider" => provider = Some(v),
                "byOutputModality" => {
                    let allowed = ["TEXT", "IMAGE", "EMBEDDING"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "byOutputModality", &allowed));
                    }
                    output = Some(v);
                }
                "byInferenceType" => {
                    let allowed = ["ON_DEMAND", "PROVISIONED"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "byInferenceType", &allowed));
                    }
                    inference = Some(v);
                }
                "byCustomizationType" => {
                    let allowed = ["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "byCustomizationType", &allowed));
                    }
                    customization = Some(v);
                }
                _ => {}
            }
        }
        let has = |list: &[String], v: &Option<String>| v.as_ref().is_none_or(|v| list.contains(v));
        let models = self
            .catalog
            .foundation_models
            .iter()
            .filter(|m| {
                provider
                    .as_ref()
                    .is_none_or(|p| m.provider_name.eq_ignore_ascii_case(p.trim()))
            })
            .filter(|m| has(&m.output_modalities, &output))
            .filter(|m| has(&m.inference_types_supported, &inference))
            .filter(|m| has(&m.customizations_supported, &customization))
            .map(|m| self.summary(m))
            .collect();
        to_json(&wire::ListFoundationModelsResponse {
            model_summaries: models,
        })
    }

    /// Accepts a model id or a foundation-model ARN, like the real API.
    fn get_foundation_model(&self, identifier: &str) -> Result<Vec<u8>, ApiError> {
        let id = identifier
            .rsplit_once(":foundation-model/")
            .map_or(identifier, |(_, id)| id);
        let model = self.catalog.model(id).ok_or_else(|| {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                &format!("The model {identifier} does not exist."),
            )
        })?;
        to_json(&wire::GetFoundationModelResponse {
            model_details: self.summary(model),
        })
    }

    fn profile_summary<'p>(&self, p: &'p InferenceProfile) -> wire::ProfileSummary<'p> {
        let models = if p.is_global() {
            vec![
                wire::ProfileModel {
                    model_arn: self.model_arn(&p.model_id),
                },
                wire::ProfileModel {
                    model_arn: format!("arn:aws:bedrock:::foundation-model/{}", p.model_id),
                },
            ]
        } else {
            p.regions
                .iter()
                .map(|r| wire::ProfileModel {
                    model_arn: format!("arn:aws:bedrock:{r}::foundation-model/{}", p.model_id),
                })
                .collect()
        };
        wire::ProfileSummary {
            inference_profile_name: &p.inference_profile_name,
            description: p.description.as_deref(),
            created_at: p.created_at.as_deref(),
            updated_at: p.updated_at.as_deref(),
            inference_profile_arn: self.profile_arn(&p.inference_profile_id),
            models,
            inference_profile_id: &p.inference_profile_id,
            status: &p.status,
            profile_type: &p.profile_type,
        }
    }

    fn list_inference_profiles(&self, query: &str) -> Result<Vec<u8>, ApiError> {
        let mut max_results = 1000usize;
        let mut offset = 0usize;
        let mut profile_type = "SYSTEM_DEFINED".to_owned();
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "maxResults" => {
                    max_results = match v.parse::<i64>() {
                        Ok(n) if (1..=1000).contains(&n) => usize::try_from(n).unwrap_or(1000),
                        Ok(n) if n < 1 => {
                            return Err(ApiError::validation(&format!(
                                "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
                            )));
                        }
                        Ok(_) => {
                            return Err(ApiError::validation(&format!(
                                "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
                            )));
                        }
                        Err(_) => {
                            return Err(ApiError::new(
                                400,
                                "SerializationException",
                                "maxResults must be an integer",
                            ));
                        }
                    }
                }
                "nextToken" => {
                    offset = decode_token(&v).ok_or_else(|| {
                        ApiError::validation("The pagination token provided is invalid.")
                    })?;
                }
                "type" => {
                    let allowed = ["SYSTEM_DEFINED", "APPLICATION"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "typeEquals", &allowed));
                    }
                    profile_type = v;
                }
                _ => {}
            }
        }
        let visible: Vec<&InferenceProfile> = self
            .catalog
            .inference_profiles
            .iter()
            .filter(|p| p.profile_type == profile_type && p.visible_in(self.region))
            .collect();
        let page: Vec<_> = visible
            .iter()
            .skip(offset)
            .take(max_results)
            .map(|p| self.profile_summary(p))
            .collect();
        let next = offset + page.len();
        let next_token = (next < visible.len()).then(|| encode_token(next));
        to_json(&wire::ListInferenceProfilesResponse {
            inference_profile_summaries: page,
            next_token,
        })
    }

    fn get_inference_profile(&self, identifier: &str) -> Result<Vec<u8>, ApiError> {
        let id = identifier
            .rsplit_once(":inference-profile/")
            .map_or(identifier, |(_, id)| id);
        let profile = self
            .catalog
            .profile(id)
            .filter(|p| p.visible_in(self.region))
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "ResourceNotFoundException",
                    &format!("Inference profile {identifier} not found."),
                )
            })?;
        to_json(&self.profile_summary(profile))
    }

    /// Resolves a runtime model identifier: model id, profile id, or either's ARN.
    fn resolve(&self, identifier: &str) -> Result<Resolved<'_>, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                "Could not resolve the foundation model from the provided model identifier.",
            )
        };
        let invalid = || ApiError::validation("The provided model identifier is invalid.");
        let (kind, id) = if let Some(rest) = identifier.strip_prefix("arn:") {
            // arn:aws:bedrock:<region>:<account>:<type>/<id>
            let fields: Vec<&str> = rest.splitn(5, ':').collect();
            let [_, "bedrock", _region, _account, resource] = fields.as_slice() else {
                return Err(invalid());
            };
            let Some((kind, id)) = resource.split_once('/') else {
                return Err(invalid());
            };
            (Some(kind.to_owned()), id.to_owned())
        } else {
            (None, identifier.to_owned())
        };
        match kind.as_deref() {
            Some("foundation-model") | None => {
                if let Some(model) = self.catalog.model(&id) {
                    return Ok(Resolved {
                        model,
                        profile: None,
                    });
                }
                if kind.is_some() {
                    return Err(not_found());
                }
            }
            Some("inference-profile") | Some("application-inference-profile") => {}
            Some(_) => return Err(invalid()),
        }
        match self.catalog.profile(&id) {
            Some(p) if p.visible_in(self.region) => {
                let model = self.catalog.model(&p.model_id).ok_or_else(not_found)?;
                Ok(Resolved {
                    model,
                    profile: Some(p),
                })
            }
            // A profile of another geography is unknown here, as on the real service.
            Some(_) => Err(invalid()),
            None => Err(not_found()),
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| {
        ApiError::new(
            500,
            "InternalServerException",
            &format!("fake-bedrock could not serialise a response: {e}"),
        )
    })
}

fn encode_token(offset: usize) -> String {
    aws_smithy_types::base64::encode(format!("fake-bedrock-offset:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let bytes = aws_smithy_types::base64::decode(token).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("fake-bedrock-offset:")?
        .parse()
        .ok()
}

#[allow(clippy::too_many_arguments)]
async fn converse(
    shared: &Arc<Shared>,
    ctx: &Ctx<'_>,
    identifier: &str,
    stream: bool,
    body: &Bytes,
    fault: Option<Fault>,
    pacing: Pacing,
    started: Instant,
    request_id: &str,
) -> Result<Response, ApiError> {
    let resolved = ctx.resolve(identifier)?;
    let model = resolved.model;
    if !model.text_output() {
        return Err(ApiError::validation(
            "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
        ));
    }
    if resolved.profile.is_none() && !model.on_demand() {
        let message = if model
            .inference_types_supported
            .iter()
            .any(|t| t == "INFERENCE_PROFILE")
        {
            format!(
                "Invocation of model ID {} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
                model.model_id
            )
        } else {
            "The provided model doesn't support on-demand throughput.".to_owned()
        };
        return Err(ApiError::validation(&message));
    }
    if stream && model.response_streaming_supported == Some(false) {
        return Err(ApiError::validation(
            "The model is unsupported for streaming. Try again with a model that supports streaming, or call Converse instead.",
        ));
    }
    let request: wire::ConverseRequest = serde_json::from_slice(body).map_err(|_| {
        ApiError::validation("Malformed input request, please reformat your input and try again.")
    })?;
    generate::validate(&request, model)?;

    let model_names = [identifier.to_owned(), model.model_id.clone()];
    let scripted = take_rule(&mut shared.lock().turns, |rule| {
        target_matches(&rule.target, true, &model_names) && rule.target != Target::ControlPlane
    });
    let (turn, usage) = {
        let mut state = shared.lock();
        let turn = match scripted {
            Some(turn) => turn,
            None => generate::default_turn(&request, &mut state.tool_counter),
        };
        let usage = match turn.usage {
            Some(usage) => usage,
            None => generate::estimate_usage(&request, &turn, &mut state.cache_prefixes),
        };
        (turn, usage)
    };
    let chunk = turn.chunk_size.unwrap_or(shared.config.chunk_size).max(1);

    sleep(pacing.first_byte).await;
    if !stream {
        let latency = turn
            .latency_ms
            .unwrap_or_else(|| u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        let response = wire::ConverseResponse {
            metrics: wire::Metrics {
                latency_ms: latency,
            },
            output: wire::ConverseOutput {
                message: wire::OutputMessage {
                    role: "assistant",
                    content: turn.blocks.iter().map(output_block).collect(),
                },
            },
            stop_reason: turn.resolved_stop_reason(),
            usage: usage.into(),
        };
        return to_json(&response).map(json_response);
    }

    let frames = stream_frames(&turn, usage, chunk, started)?;
    let watch = DisconnectWatch::new(shared.clone(), request_id.to_owned());
    let body = stream_body(shared.clone(), watch, frames, fault, pacing, started);
    let mut response = Response::new(body);
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    Ok(response)
}

fn output_block(block: &Block) -> wire::OutputBlock {
    match block {
        Block::Text(text) => wire::OutputBlock::Text(text.clone()),
        Block::ToolUse { id, name, input } => wire::OutputBlock::ToolUse(wire::ToolUseBlock {
            tool_use_id: id.clone(),
            name: name.clone(),
            input: input.clone(),
        }),
        Block::Reasoning { text, signature } => wire::OutputBlock::ReasoningContent(
            wire::ReasoningContentBlock::ReasoningText(wire::ReasoningText {
                text: text.clone(),
                signature: signature.clone(),
            }),
        ),
        Block::RedactedReasoning(bytes) => wire::OutputBlock::ReasoningContent(
            wire::ReasoningContentBlock::RedactedContent(aws_smithy_types::base64::encode(bytes)),
        ),
    }
}

/// Splits on character boundaries into pieces of at most `chunk` characters.
fn chunks(text: &str, chunk: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(chunk).map(|c| c.iter().collect()).collect()
}

/// Padding like the real service's `p` field (it hides payload lengths); deterministic here.
fn padding(n: usize) -> String {
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    ALPHABET[..(n * 7) % ALPHABET.len() + 1].to_owned()
}

/// A stream event not yet framed (the latency in `metadata` is measured at send time).
enum Pending {
    Frame(Bytes),
    Metadata(wire::TokenUsage, Option<u64>),
}

fn stream_frames(
    turn: &Turn,
    usage: crate::script::Usage,
    chunk: usize,
    _started: Instant,
) -> Result<Vec<Pending>, ApiError> {
    let mut out = Vec::new();
    let mut n = 0usize;
    let push = |out: &mut Vec<Pending>, event_type: &str, payload: Result<Vec<u8>, ApiError>| {
        let payload = payload?;
        let frame = eventstream::event_frame(event_type, &payload)
            .map_err(|e| ApiError::new(500, "InternalServerException", &e.to_string()))?;
        out.push(Pending::Frame(frame));
        Ok::<(), ApiError>(())
    };
    push(
        &mut out,
        "messageStart",
        to_json(&wire::MessageStartEvent {
            p: padding(n),
            role: "assistant",
        }),
    )?;
    for (index, block) in turn.blocks.iter().enumerate() {
        n += 1;
        let delta = |delta: wire::Delta, n: usize| wire::ContentBlockDeltaEvent {
            content_block_index: index,
            delta,
            p: padding(n),
        };
        match block {
            Block::Text(text) => {
                for piece in chunks(text, chunk) {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(wire::Delta::Text(piece), n)),
                    )?;
                }
            }
            Block::ToolUse { id, name, input } => {
                push(
                    &mut out,
                    "contentBlockStart",
                    to_json(&wire::ContentBlockStartEvent {
                        content_block_index: index,
                        p: padding(n),
                        start: wire::BlockStart::ToolUse(wire::ToolUseStart {
                            name: name.clone(),
                            tool_use_id: id.clone(),
                        }),
                    }),
                )?;
                let json = serde_json::to_string(input).unwrap_or_else(|_| "{}".to_owned());
                for piece in chunks(&json, chunk) {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(
                            wire::Delta::ToolUse(wire::ToolUseDelta { input: piece }),
                            n,
                        )),
                    )?;
                }
            }
            Block::Reasoning { text, signature } => {
                for piece in chunks(text, chunk) {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(
                            wire::Delta::ReasoningContent(wire::ReasoningDelta::Text(piece)),
                            n,
                        )),
                    )?;
                }
                if let Some(signature) = signature {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(
                            wire::Delta::ReasoningContent(wire::ReasoningDelta::Signature(
                                signature.clone(),
                            )),
                            n,
                        )),
                    )?;
                }
            }
            Block::RedactedReasoning(bytes) => {
                n += 1;
                push(
                    &mut out,
                    "contentBlockDelta",
                    to_json(&delta(
                        wire::Delta::ReasoningContent(wire::ReasoningDelta::RedactedContent(
                            aws_smithy_types::base64::encode(bytes),
                        )),
                        n,
                    )),
                )?;
            }
        }
        n += 1;
        push(
            &mut out,
            "contentBlockStop",
            to_json(&wire::ContentBlockStopEvent {
                content_block_index: index,
                p: padding(n),
            }),
        )?;
    }
    n += 1;
    push(
        &mut out,
        "messageStop",
        to_json(&wire::MessageStopEvent {
            p: padding(n),
            stop_reason: turn.resolved_stop_reason(),
        }),
    )?;
    out.push(Pending::Metadata(usage.into(), turn.latency_ms));
    Ok(out)
}

fn metadata_frame(usage: wire::TokenUsage, latency_ms: u64) -> Option<Bytes> {
    let payload = serde_json::to_vec(&wire::MetadataEvent {
        metrics: wire::Metrics { latency_ms },
        p: padding(3),
        usage,
    })
    .ok()?;
    eventstream::event_frame("metadata", &payload).ok()
}

fn exception_frame(kind: StreamException, message: &str) -> Option<Bytes> {
    let payload = match kind {
        StreamException::ModelStreamError => serde_json::to_vec(&wire::ModelStreamErrorBody {
            message,
            original_status_code: 500,
            original_message: message,
        }),
        _ => serde_json::to_vec(&wire::ErrorBody { message }),
    }
    .ok()?;
    eventstream::exception_frame(kind.wire_name(), &payload).ok()
}

/// What the body stream does after sending event number `index`.
enum Step {
    Send(Bytes),
    Fail,
    Stall,
    End,
}

fn stream_body(
    shared: Arc<Shared>,
    watch: DisconnectWatch,
    frames: Vec<Pending>,
    fault: Option<Fault>,
    pacing: Pacing,
    started: Instant,
) -> Body {
    let total = frames.len();
    let mut frames = frames.into_iter();
    // The plan: for each position, what to emit. Faults cut the normal sequence.
    // The watch lives in the stream state: hyper drops the body early when the client goes away.
    let steps = futures::stream::unfold(
        (0usize, false, shared, watch),
        move |(index, done, shared, mut watch)| {
            let step = if done {
                Step::End
            } else {
                match &fault {
                    Some(Fault::StreamException {
                        after_events,
                        kind,
                        message,
                    }) if index == *after_events => match exception_frame(*kind, message) {
                        Some(frame) => Step::Send(frame),
                        None => Step::Fail,
                    },
                    Some(Fault::DropConnection { after_events }) if index == *after_events => {
                        Step::Fail
                    }
                    Some(Fault::StallStream { after_events }) if index == *after_events => {
                        Step::Stall
                    }
                    _ => match frames.next() {
                        Some(Pending::Frame(frame)) => {
                            if matches!(&fault, Some(Fault::CorruptFrame { at_event }) if *at_event == index)
                            {
                                Step::Send(eventstream::corrupt(&frame))
                            } else {
                                Step::Send(frame)
                            }
                        }
                        Some(Pending::Metadata(usage, latency)) => {
                            let latency = latency.unwrap_or_else(|| {
                                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
                            });
                            match metadata_frame(usage, latency) {
                                Some(frame) => Step::Send(frame),
                                None => Step::Fail,
                            }
                        }
                        None => Step::End,
                    },
                }
            };
            let is_exception = matches!(&fault, Some(Fault::StreamException { after_events, .. }) if index == *after_events);
            async move {
                if index > 0 && !matches!(step, Step::End) {
                    sleep(pacing.between_events).await;
                }
                match step {
                    Step::Send(frame) => {
                        // The last frame handed over: the answer is complete.
                        if is_exception || index + 1 >= total {
                            watch.disarm();
                        }
                        Some((
                            Ok::<Bytes, std::io::Error>(frame),
                            (index + 1, is_exception || index + 1 > total, shared, watch),
                        ))
                    }
                    Step::Fail => {
                        watch.disarm();
                        // Let hyper flush what was already written (it flushes while the body is
                        // pending); an error right away would discard the buffered frames.
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionAborted,
                                "fake-bedrock: injected connection drop",
                            )),
                            (index + 1, true, shared, watch),
                        ))
                    }
                    Step::Stall => {
                        shared.until_shutdown().await;
                        watch.disarm();
                        None
                    }
                    Step::End => {
                        watch.disarm();
                        None
                    }
                }
            }
        },
    );
    // A stream error makes hyper abort the connection without the closing chunk.
    Body::from_stream(steps.map(|item: Result<Bytes, std::io::Error>| {
        item.map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
    }))
}
