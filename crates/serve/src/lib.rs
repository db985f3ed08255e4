//! The HTTP serving layer of openclaw-bedrock, as a library: client APIs over
//! [`openclaw_stream::ModelStream`].
//!
//! - **Endpoints**: `POST /v1/chat/completions` (OpenAI Chat Completions, streaming SSE or one
//!   JSON answer), `GET /v1/models`, `GET /healthz`, `GET /readyz`, `GET /metrics`
//!   (Prometheus text).
//! - **Models**: a [`ModelSource`] holds the configured providers, one `ModelStream` per
//!   provider to serve, and optionally a shared `openclaw_discovery::Discovery` whose listing
//!   is merged in. A request names a model as `provider/id`, a bare Bedrock model id (provider
//!   `amazon-bedrock`) or an alias ([`ServeOptions::aliases`]).
//!   [`ModelSource::from_resolver`] serves the models of an OpenClaw configuration (an
//!   `openclaw_discovery::ModelResolver`), one Converse stream per Bedrock provider.
//! - **Auth**: with [`ServeOptions::token`] set, `/v1/*` and `/metrics` need
//!   `Authorization: Bearer <token>` (compared in constant time); `/healthz` and `/readyz`
//!   stay open for probes.
//! - **Cancellation**: a streaming response owns its model stream; a client disconnect drops
//!   the body, which drops the stream, which closes the upstream connection.
//! - **Shutdown**: [`Gateway::serve`] takes a listener and a shutdown future from its caller
//!   (it installs no signal handler); [`Gateway::start_draining`] makes `/readyz` answer 503
//!   and stops accepting connections while open responses finish.
//!
//! This crate knows HTTP serving and the client wire formats; it parses no command line,
//! prints nothing and never exits the process.
//!
//! # Example
//!
//! Mount the gateway under `/llm` of an existing axum application, with a model stream of
//! your own (any [`openclaw_stream::ModelStream`]: here one that always says "hi"):
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//!
//! use openclaw_config::{ModelDefinition, ProviderConfig};
//! use openclaw_serve::{Gateway, ModelSource, ServeOptions};
//! use openclaw_stream::{
//!     AssistantContent, AssistantMessage, EventStream, ModelStream, StopReason, StreamEvent,
//!     StreamOptions, StreamRequest, Usage,
//! };
//!
//! struct Hi;
//!
//! impl ModelStream for Hi {
//!     fn stream(&self, request: StreamRequest, _: StreamOptions) -> EventStream {
//!         let mut message = AssistantMessage::new("echo", "local", &request.model.id);
//!         message.content.push(AssistantContent::Text { text: "hi".into() });
//!         let done = StreamEvent::Done {
//!             stop_reason: StopReason::Stop,
//!             usage: Usage::default(),
//!             message: Box::new(message),
//!         };
//!         Box::pin(futures::stream::iter([done]))
//!     }
//! }
//!
//! let mut provider = ProviderConfig::default();
//! provider.models.push(ModelDefinition::new("hi-1", "Hi"));
//! let models = ModelSource::new(BTreeMap::from([("local".to_string(), provider)]), "us-east-1")
//!     .with_stream("local", Arc::new(Hi));
//! let gateway = Gateway::new(models, ServeOptions::default());
//! let app: axum::Router = axum::Router::new().nest("/llm", gateway.router());
//! # drop(app);
//! ```
#![deny(missing_docs)]

mod admission;
mod anthropic;
mod api_error;
mod body;
mod chain;
mod configured;
mod connections;
mod error;
mod failover;
mod guard;
mod ids;
mod log;
mod metrics;
mod models;
mod openai;
mod options;
mod routes;
mod server;
pub mod settings;
mod sse;
mod state;
mod telemetry;
mod workers;

pub use chain::FailoverOptions;
pub use error::Error;
pub use failover::{ATTEMPTS_HEADER, FAILOVER_HEADER, MODEL_HEADER};
pub use log::{ACCESS_TARGET, LOG_TARGET};
pub use models::ModelSource;
pub use options::{Limits, ServeOptions, Timeouts};
pub use server::Gateway;
pub use settings::{ServeSettings, SettingsLayer};
pub use telemetry::{REQUEST_ID_HEADER, SPAN_TARGET, TracePropagation};
pub use workers::Workers;
