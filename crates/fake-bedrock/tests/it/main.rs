//! Integration tests: the official AWS SDK clients (and raw HTTP where bytes matter) against a
//! fake-bedrock over real HTTP on 127.0.0.1.
//!
//! Modules:
//! - `support`: the harness (fake, SDK clients, stream collection, raw HTTP, request helpers).
//! - `control_plane`: listing, filters, pagination and regions through `aws-sdk-bedrock`.
//! - `count_tokens`: `CountTokens` with Converse and InvokeModel inputs, and its refusals.
//! - `runtime`: `Converse` and `ConverseStream`, scripted turns and the default generator.
//! - `validation`: Bedrock-like request validation (conversation shape, images, tool blocks).
//! - `auth`: SigV4 and bearer tokens, accepted and refused.
//! - `faults`: injected HTTP errors, retries, stream faults, hangs, stalls, pacing.
//! - `wire`: eventstream frames and error headers byte for byte over raw HTTP.
//! - `binary`: custom catalogs and the `fake-bedrock` binary.
//! - `sdk_compat`: boto3 and the JavaScript v3 SDK.
//! - `admin`: the `/_fake/` admin API and client disconnects.
//! - `profiles`: application inference profiles, `GetInferenceProfile`, tags and ARNs.
//! - `tls`: HTTPS, HTTP/2 through ALPN, trust, and the HTTP/2 stream limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod admin;
mod auth;
mod binary;
mod control_plane;
mod count_tokens;
mod faults;
mod profiles;
mod runtime;
mod sdk_compat;
mod support;
mod tls;
mod validation;
mod wire;
