//! What an operator tunes: limits, timeouts and the client token.

use std::collections::BTreeMap;
use std::time::Duration;

use openclaw_config::{ModelRef, Secret};

/// Limits applied to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest accepted image (decoded), in bytes (413 above; Bedrock's own limit is 3.75 MB).
    pub max_image_bytes: usize,
    /// Model streams served at once (429 above).
    pub max_concurrent_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 20 * 1024 * 1024,
            max_image_bytes: 3_932_160,
            max_concurrent_streams: 64,
        }
    }
}

/// How the gateway serves: who may call it, how much it accepts, how long it drains.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The token clients must send (`Authorization: Bearer <token>`); `None` serves everyone,
    /// which only makes sense on loopback.
    pub token: Option<Secret>,
    /// Model aliases: a request may name the alias instead of the model (OpenClaw's
    /// `agents.defaults.models`, see `openclaw_config::Config::model_aliases`).
    pub aliases: BTreeMap<String, ModelRef>,
    /// Request limits.
    pub limits: Limits,
    /// How long open responses may run after shutdown starts before [`crate::Gateway::serve`]
    /// returns anyway.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            token: None,
            aliases: BTreeMap::new(),
            limits: Limits::default(),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}
