//! The crate's error type (leaf module).

/// What can go wrong while serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server loop failed (accepting connections).
    #[error("gateway server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The worker threads could not be started (see [`crate::Workers::start`]).
    #[error("cannot start the gateway's worker threads: {0}")]
    Workers(#[source] std::io::Error),
    /// A setting's value is out of range or malformed (see [`crate::settings`]).
    #[error("invalid {setting}: {reason}")]
    InvalidSetting {
        /// Where the value came from (a flag, a variable or a configuration key), with the
        /// value when it is shown.
        setting: String,
        /// What was expected.
        reason: String,
    },
    /// The models of a configuration cannot be served as configured (a provider's region or
    /// endpoint is invalid; see [`crate::ModelSource::from_resolver`]).
    #[error(transparent)]
    Models(#[from] openclaw_discovery::Error),
}
