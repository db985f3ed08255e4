//! The admin API: scripting, fault injection and the request log over HTTP, for tests that
//! drive the `fake-bedrock` binary from another process (or another language).
//!
//! Every route lives under [`ADMIN_PREFIX`] (`/_fake/`), which no Bedrock route can take
//! (Bedrock paths start with `/model/`, `/foundation-models` or `/inference-profiles`). Admin
//! requests need no authentication (this is a test server: bind it to loopback) and are not
//! recorded. Bodies are the JSON forms of [`Rule`], [`Turn`] and [`Fault`] (see `script.rs`).
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /_fake/faults` | a rule or a bare fault, or an array of them | `{"queued": n, "pending": m}` |
//! | `GET /_fake/faults` | | the pending fault rules |
//! | `DELETE /_fake/faults` | | `{"cleared": n}` |
//! | `POST /_fake/scripts` | a rule or a bare turn, or an array of them | `{"queued": n, "pending": m}` |
//! | `GET /_fake/scripts` | | the pending turn rules |
//! | `DELETE /_fake/scripts` | | `{"cleared": n}` |
//! | `GET /_fake/requests` | | the recorded requests, oldest first |
//! | `DELETE /_fake/requests` | | `{"cleared": n}` |
//! | `POST /_fake/inference-profiles` | an application profile or an array of them (the catalog file's `inferenceProfiles[]` form; `type` defaults to `APPLICATION`, `status` to `ACTIVE`) | `{"created": n, "total": m}` |
//! | `GET /_fake/inference-profiles` | | the profiles created so far |
//! | `DELETE /_fake/inference-profiles` | | `{"cleared": n}` |
//! | `PUT /_fake/pacing` | `{"first_byte_ms": 0, "between_events_ms": 0}` | the pacing |
//! | `POST /_fake/reset` | | faults, scripts, requests, prompt-cache state, created profiles and pacing back to the start |

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::catalog::{InferenceProfile, Tag};
use crate::record::RecordedJson;
use crate::script::{Fault, Pacing, Rule, Turn};
use crate::state::Shared;

/// The path prefix of the admin API.
pub const ADMIN_PREFIX: &str = "/_fake/";

pub(crate) fn is_admin_path(path: &str) -> bool {
    path.starts_with(ADMIN_PREFIX) || path == "/_fake"
}

/// `PUT /_fake/pacing` body.
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
struct PacingJson {
    first_byte_ms: u64,
    between_events_ms: u64,
}

impl From<Pacing> for PacingJson {
    fn from(p: Pacing) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            first_byte_ms: ms(p.first_byte),
            between_events_ms: ms(p.between_events),
        }
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, message: String) -> Response {
    json(status, &serde_json::json!({ "message": message }))
}

/// Parses a rule (or an array of rules); the error is the message of a 400 answer.
fn parse_rules<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<Vec<Rule<T>>, String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| format!("expected a UTF-8 JSON body with a {what} rule"))?;
    Rule::list_from_json(text).map_err(|e| format!("invalid {what} rule in the request body: {e}"))
}

/// `POST /_fake/inference-profiles` body item: the catalog's form with `type` and `status`
/// optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewProfile {
    inference_profile_id: String,
    inference_profile_name: String,
    #[serde(default)]
    description: Option<String>,
    model_id: String,
    regions: Vec<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default = "active")]
    status: String,
    #[serde(default = "application", rename = "type")]
    profile_type: String,
    #[serde(default)]
    home_region: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

fn active() -> String {
    "ACTIVE".to_owned()
}

fn application() -> String {
    "APPLICATION".to_owned()
}

impl From<NewProfile> for InferenceProfile {
    fn from(p: NewProfile) -> Self {
        Self {
            inference_profile_id: p.inference_profile_id,
            inference_profile_name: p.inference_profile_name,
            description: p.description,
            model_id: p.model_id,
            regions: p.regions,
            created_at: p.created_at,
            updated_at: p.updated_at,
            status: p.status,
            profile_type: p.profile_type,
            home_region: p.home_region,
            account_id: p.account_id,
            tags: p.tags,
        }
    }
}

/// Parses one profile or an array of them; the error is the message of a 400 answer.
fn parse_profiles(body: &[u8]) -> Result<Vec<InferenceProfile>, String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<NewProfile>),
        One(Box<NewProfile>),
    }
    let parsed: OneOrMany = serde_json::from_slice(body).map_err(|e| {
        format!("invalid inference profile in the request body: {e} (expected the catalog's inferenceProfiles[] form, or an array of them)")
    })?;
    let list = match parsed {
        OneOrMany::Many(list) => list,
        OneOrMany::One(one) => vec![*one],
    };
    Ok(list.into_iter().map(Into::into).collect())
}

fn queued(n: usize, pending: usize) -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({ "queued": n, "pending": pending }),
    )
}

fn cleared(n: usize) -> Response {
    json(StatusCode::OK, &serde_json::json!({ "cleared": n }))
}

/// Answers one admin request.
pub(crate) fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Response {
    let route = path.strip_prefix(ADMIN_PREFIX).unwrap_or("");
    match (method, route.trim_end_matches('/')) {
        ("POST", "faults") => match parse_rules::<Fault>(body, "fault") {
            Ok(rules) => {
                let n = rules.len();
                let mut state = shared.lock();
                state.faults.extend(rules);
                queued(n, state.faults.len())
            }
            Err(message) => error(StatusCode::BAD_REQUEST, message),
        },
        ("GET", "faults") => json(StatusCode::OK, &shared.lock().faults),
        ("DELETE", "faults") => cleared(std::mem::take(&mut shared.lock().faults).len()),
        ("POST", "scripts") => match parse_rules::<Turn>(body, "turn") {
            Ok(rules) => {
                let n = rules.len();
                let mut state = shared.lock();
                state.turns.extend(rules);
                queued(n, state.turns.len())
            }
            Err(message) => error(StatusCode::BAD_REQUEST, message),
        },
        ("GET", "scripts") => json(StatusCode::OK, &shared.lock().turns),
        ("DELETE", "scripts") => cleared(std::mem::take(&mut shared.lock().turns).len()),
        ("GET", "requests") => {
            let state = shared.lock();
            let list: Vec<RecordedJson<'_>> = state.requests.iter().map(Into::into).collect();
            json(StatusCode::OK, &list)
        }
        ("DELETE", "requests") => cleared(std::mem::take(&mut shared.lock().requests).len()),
        ("POST", "inference-profiles") => match parse_profiles(body) {
            Ok(list) => {
                let n = list.len();
                let mut state = shared.lock();
                state.created_profiles.extend(list);
                json(
                    StatusCode::OK,
                    &serde_json::json!({ "created": n, "total": state.created_profiles.len() }),
                )
            }
            Err(message) => error(StatusCode::BAD_REQUEST, message),
        },
        ("GET", "inference-profiles") => json(StatusCode::OK, &shared.lock().created_profiles),
        ("DELETE", "inference-profiles") => {
            cleared(std::mem::take(&mut shared.lock().created_profiles).len())
        }
        ("PUT", "pacing") => {
            let parsed = if body.is_empty() {
                Ok(PacingJson::default())
            } else {
                serde_json::from_slice::<PacingJson>(body)
            };
            match parsed {
                Ok(p) => {
                    let pacing = Pacing {
                        first_byte: Duration::from_millis(p.first_byte_ms),
                        between_events: Duration::from_millis(p.between_events_ms),
                    };
                    shared.lock().pacing = pacing;
                    json(StatusCode::OK, &PacingJson::from(pacing))
                }
                Err(e) => error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "invalid pacing in the request body: {e} (expected {{\"first_byte_ms\": n, \"between_events_ms\": n}})"
                    ),
                ),
            }
        }
        ("POST", "reset") => {
            let mut state = shared.lock();
            state.faults.clear();
            state.turns.clear();
            state.requests.clear();
            state.cache_prefixes.clear();
            state.created_profiles.clear();
            state.pacing = shared.config.pacing;
            json(StatusCode::OK, &serde_json::json!({ "reset": true }))
        }
        (_, route) => error(
            StatusCode::NOT_FOUND,
            format!(
                "unknown admin route {method} {ADMIN_PREFIX}{route}: expected faults, scripts, requests, inference-profiles, pacing or reset"
            ),
        ),
    }
}
