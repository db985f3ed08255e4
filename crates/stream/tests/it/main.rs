//! Integration tests: the real SDK against `fake-bedrock` over loopback HTTP.
//!
//! Modules:
//! - `count`: token counting through Bedrock's `CountTokens`.
//! - `creds`: the adapter built from `openclaw_creds` settings or a raw SDK configuration
//!   (bearer token, missing credentials).
//! - `support`: the harness (fake, adapter, event collection).
//! - `requests`: the Converse request JSON the fake received (insta snapshots), accepted by
//!   the fake's Bedrock-like validation.
//! - `failover`: failover across models and regions before the first token, the breaker.
//! - `events`: the unified event sequences, stop reasons, exceptions, usage and cost.
//! - `features`: what the Anthropic Messages route uses (explicit cache points, documents,
//!   explicit thinking, sampling and model request fields, stop sequences).
//! - `resilience`: retries, timeouts, dropped connections, aborts, dropped consumers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod count;
mod creds;
mod events;
mod failover;
mod features;
mod requests;
mod resilience;
mod support;
