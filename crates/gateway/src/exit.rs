//! Failure kinds and how errors of the library crates are classified. `main.rs` turns a kind into
//! the process exit code, in one place.

use std::fmt;

/// What kind of failure ended a command. Each kind has its own exit code (see `code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// Anything else: I/O, internal errors.
    Other,
    /// Bad usage that clap cannot see (an empty prompt); the same code as clap's errors.
    Usage,
    /// The configuration file, a key path, a value, a region or an endpoint is invalid.
    Config,
    /// No credentials, or AWS refused them (AccessDenied, invalid key or signature).
    Auth,
    /// Bedrock failed: throttling, 5xx, stream errors, timeouts, unreachable endpoint.
    Upstream,
    /// The model is neither configured nor discovered.
    UnknownModel,
}

impl ExitKind {
    /// The process exit code (2 is clap's usage error).
    pub fn code(self) -> u8 {
        match self {
            ExitKind::Other => 1,
            ExitKind::Usage => 2,
            ExitKind::Config => 3,
            ExitKind::Auth => 4,
            ExitKind::Upstream => 5,
            ExitKind::UnknownModel => 6,
        }
    }
}

/// A command failure: a kind and the error to print.
#[derive(Debug)]
pub struct Failure {
    /// The kind (decides the exit code).
    pub kind: ExitKind,
    /// The error.
    pub error: anyhow::Error,
}

impl Failure {
    /// A failure of `kind` with a message.
    pub fn new(kind: ExitKind, message: impl fmt::Display) -> Self {
        Failure {
            kind,
            error: anyhow::anyhow!("{message}"),
        }
    }
}

/// The result of a command.
pub type CmdResult<T = ()> = Result<T, Failure>;

/// Attaches an [`ExitKind`] to any error.
pub trait WithKind<T> {
    /// Wraps the error as a [`Failure`] of `kind`.
    fn kind(self, kind: ExitKind) -> CmdResult<T>;
}

impl<T, E: Into<anyhow::Error>> WithKind<T> for Result<T, E> {
    fn kind(self, kind: ExitKind) -> CmdResult<T> {
        self.map_err(|e| Failure {
            kind,
            error: e.into(),
        })
    }
}

impl From<openclaw_config::Error> for Failure {
    fn from(err: openclaw_config::Error) -> Self {
        let kind = match err {
            openclaw_config::Error::Io { .. } => ExitKind::Other,
            _ => ExitKind::Config,
        };
        Failure {
            kind,
            error: err.into(),
        }
    }
}

impl From<openclaw_creds::Error> for Failure {
    fn from(err: openclaw_creds::Error) -> Self {
        let kind = match err {
            openclaw_creds::Error::MissingCredentials { .. } => ExitKind::Auth,
            _ => ExitKind::Config,
        };
        Failure {
            kind,
            error: err.into(),
        }
    }
}

/// The kind of a discovery failure.
pub fn discovery_kind(err: &openclaw_discovery::Error) -> ExitKind {
    use openclaw_discovery::Error as E;
    match err {
        E::AccessDenied { .. } | E::Credentials { .. } => ExitKind::Auth,
        E::Service { code, .. } if is_auth_code(code) => ExitKind::Auth,
        _ => ExitKind::Upstream,
    }
}

/// AWS error codes that mean "these credentials are not accepted".
fn is_auth_code(code: &str) -> bool {
    matches!(
        code,
        "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "MissingAuthenticationTokenException"
            | "IncompleteSignatureException"
    )
}

/// The kind of a terminal stream error, from its message (`openclaw-stream` reports failures as
/// events with a readable message that names the AWS error code and HTTP status).
pub fn stream_error_kind(message: &str) -> ExitKind {
    let auth_code = [
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "No API key resolved",
    ]
    .iter()
    .any(|code| message.contains(code));
    if auth_code || message.contains("(HTTP 401") || message.contains("(HTTP 403") {
        ExitKind::Auth
    } else if message.contains("ResourceNotFoundException") {
        ExitKind::UnknownModel
    } else {
        ExitKind::Upstream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_documented() {
        let kinds = [
            ExitKind::Other,
            ExitKind::Usage,
            ExitKind::Config,
            ExitKind::Auth,
            ExitKind::Upstream,
            ExitKind::UnknownModel,
        ];
        let mut codes: Vec<u8> = kinds.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        assert_eq!(ExitKind::Usage.code(), 2, "2 is clap's usage error too");
        for code in codes {
            assert!(
                crate::cli::EXIT_CODES_HELP.contains(&format!("  {code}  ")),
                "exit code {code} missing from --help"
            );
        }
    }

    #[test]
    fn stream_errors_are_classified() {
        assert_eq!(
            stream_error_kind(
                "bedrock rejected the request (HTTP 403, AccessDeniedException): no access"
            ),
            ExitKind::Auth
        );
        assert_eq!(
            stream_error_kind("bedrock rejected the request (HTTP 429, ThrottlingException): slow"),
            ExitKind::Upstream
        );
        assert_eq!(
            stream_error_kind("bedrock model stream error: boom"),
            ExitKind::Upstream
        );
        assert_eq!(
            stream_error_kind(
                "bedrock rejected the request (HTTP 404, ResourceNotFoundException): no model"
            ),
            ExitKind::UnknownModel
        );
    }

    #[test]
    fn config_errors_are_config_kind() {
        let err = openclaw_config::Config::from_text("{ models: { bedrockDiscovery: 3 } }")
            .err()
            .map(Failure::from);
        assert_eq!(err.map(|f| f.kind), Some(ExitKind::Config));
    }
}
