//! End-to-end tests: the built `openclaw` binary against a `fake-bedrock` process, over real HTTP
//! on loopback, with a cleared environment (see `openclaw_e2e::Sandbox`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The seed document's three commands, verbatim.
mod seed;
// `models list` (table, --json snapshot, --plain, --all, no credentials) and `models status` per
// credential source.
mod models;
// `chat`: streamed text, thinking, tool calls, --json event lines, stdin.
mod chat;
// Exit codes: bad config, missing credentials, AccessDenied, unknown model, usage; did-you-mean
// for models and config keys, region checks, a closed stdout pipe.
mod errors;
// Nothing the binary printed contains a test secret, even with verbose logs.
mod secrets;
// `config set` from many processes at once keeps every edit; read-only files, dangling symlinks
// and devices are refused.
mod config_edits;
// `openclaw gateway` as shipped: start-up, bind refusal, token, SIGTERM drain, and the official
// openai and anthropic Python clients and Claude Code against it (HTTP behaviour: crates/serve).
mod gateway;
// The READMEs' json5 examples validate; the README's and the demo's command walkthroughs succeed
// in order against the fake.
mod docs;
// SSO profiles: a valid session through the fake SSO portal, an expired one says which
// `aws sso login` to run (exit 4).
mod sso;
// Three gateway replicas behind HAProxy: a graceful restart loses no request, a SIGKILL loses only
// that replica's streams (skipped loudly without HAProxy).
mod replicas;
