//! Integration tests: the gateway built in the test process, answering over
//! `tower::ServiceExt::oneshot` on its router, or over loopback TCP through `Gateway::serve`.
//!
//! Two kinds of model streams: the real `openclaw_stream::ConverseStream` (AWS SDK) against an
//! in-process `fake-bedrock`, for everything that proves behaviour against Bedrock; and an
//! in-memory scripted stream for the HTTP mapping and protocol cases.
//!
//! Modules:
//! - `support`: the harness (gateways, clients, SSE parsing, captured logs).
//! - `arns`: models named by Bedrock ARNs on both routes (encoded paths, described traits, cost).
//! - `chat`: chat completions against Bedrock: streamed and whole answers, usage, tool round
//!   trip, images, reasoning with its signature round trip.
//! - `endpoints`: `/v1/models`, `/v1/models/{id}`, aliases, `/healthz`, `/readyz`, `/metrics`,
//!   authentication.
//! - `errors`: request errors (400, 404, 413), Bedrock failures (429, 502, 503, 504, an error
//!   after the stream started), the concurrency limit.
//! - `failover`: fallbacks before the first token (the answer names the model that
//!   answered), the opt-out header, the circuit breaker in `/metrics`, every model failing.
//! - `guardrails`: guardrail interventions (`content_filter`, `refusal`, the trace) on both
//!   routes, `response_format` as a forced tool, pass-through fields, refused parameters.
//! - `lifecycle`: client disconnect cancelling the Bedrock stream, draining and shutdown
//!   (over TCP, each connection on one of two worker threads as in the binary).
//! - `observability`: `x-request-id` (honoured or fresh), the access line with Bedrock's request
//!   id, the trace context from the client to Bedrock.
//! - `protocol`: the SSE and JSON wire format over a scripted stream (snapshots), streams that
//!   end without a terminal event, the router mounted under a prefix.
//! - `workers`: connections on a runtime per worker thread (`Gateway::with_workers`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod arns;
mod chat;
mod endpoints;
mod errors;
mod failover;
mod guardrails;
mod hardening;
mod lifecycle;
mod messages;
mod observability;
mod protocol;
mod support;
mod workers;
