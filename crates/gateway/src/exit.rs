//! Failure kinds and how errors of the library crates are classified. `main.rs` turns a kind into
//! the process exit code, in one place.

use std::fmt;

use openclaw_stream::ErrorKind;

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
            openclaw_creds::Error::MissingCredentials { .. }
            | openclaw_creds::Error::SsoLoginRequired { .. } => ExitKind::Auth,
            // Everything else is a setting to fix, like a bad region; an unreadable or unusable
            // `AWS_CA_BUNDLE` / `ca_bundle` file too, although it is an I/O failure.
            _ => ExitKind::Config,
        };
        Failure {
            kind,
            error: err.into(),
        }
    }
}

/// The kind of a discovery or model-resolution failure, from its classification by
/// `openclaw-discovery` (credentials missing or refused, or a missing IAM permission: auth; an
/// unusable configuration: config; an unknown model: unknown model; anything else, from
/// throttling to an unreachable endpoint: upstream).
pub fn discovery_kind(err: &openclaw_discovery::Error) -> ExitKind {
    use openclaw_discovery::ErrorKind as K;
    match err.kind() {
        K::Auth | K::AccessDenied => ExitKind::Auth,
        K::Configuration => ExitKind::Config,
        K::UnknownModel => ExitKind::UnknownModel,
        _ => ExitKind::Upstream,
    }
}

impl From<openclaw_discovery::Error> for Failure {
    fn from(err: openclaw_discovery::Error) -> Self {
        match err {
            openclaw_discovery::Error::Aws(err) => Failure::from(err),
            err => Failure {
                kind: discovery_kind(&err),
                error: err.into(),
            },
        }
    }
}

impl From<openclaw_serve::Error> for Failure {
    fn from(err: openclaw_serve::Error) -> Self {
        match err {
            openclaw_serve::Error::Models(err) => Failure::from(err),
            openclaw_serve::Error::InvalidSetting { .. } => Failure::new(ExitKind::Config, err),
            err => Failure::new(ExitKind::Other, err),
        }
    }
}

/// The kind of a terminal stream error, from its classification by `openclaw-stream`
/// (credentials missing or refused: auth; unknown model: unknown model; anything else, from
/// throttling to a dropped connection: upstream).
pub fn stream_error_kind(kind: ErrorKind) -> ExitKind {
    match kind {
        ErrorKind::Auth => ExitKind::Auth,
        ErrorKind::NotFound => ExitKind::UnknownModel,
        ErrorKind::Validation
        | ErrorKind::Throttled
        | ErrorKind::Unavailable
        | ErrorKind::Timeout
        | ErrorKind::Upstream
        | ErrorKind::Aborted => ExitKind::Upstream,
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
    fn stream_error_kinds_map_to_exit_codes() {
        let cases = [
            (ErrorKind::Auth, 4),
            (ErrorKind::NotFound, 6),
            (ErrorKind::Validation, 5),
            (ErrorKind::Throttled, 5),
            (ErrorKind::Unavailable, 5),
            (ErrorKind::Timeout, 5),
            (ErrorKind::Upstream, 5),
            (ErrorKind::Aborted, 5),
        ];
        for (kind, code) in cases {
            assert_eq!(stream_error_kind(kind).code(), code, "{kind}");
        }
    }

    #[test]
    fn discovery_error_kinds_map_to_exit_codes() {
        use openclaw_discovery::{Error, Operation};
        let op = Operation::ListFoundationModels;
        let service = |code: &str| Error::Service {
            operation: op,
            region: "us-east-1".into(),
            code: code.into(),
            message: "m".into(),
        };
        let cases = [
            (
                Error::AccessDenied {
                    operation: op,
                    region: "us-east-1".into(),
                    message: "m".into(),
                },
                4,
            ),
            (
                Error::Credentials {
                    operation: op,
                    region: "us-east-1".into(),
                    message: "m".into(),
                },
                4,
            ),
            (service("UnrecognizedClientException"), 4),
            (service("ExpiredTokenException"), 4),
            (service("ValidationException"), 5),
            (service("InternalServerException"), 5),
            (
                Error::Throttled {
                    operation: op,
                    region: "us-east-1".into(),
                    code: "ThrottlingException".into(),
                    message: "m".into(),
                },
                5,
            ),
            (
                Error::Timeout {
                    region: "us-east-1".into(),
                    timeout: std::time::Duration::from_secs(1),
                },
                5,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(discovery_kind(&err).code(), code, "{err}");
        }
    }

    #[test]
    fn an_unusable_ca_bundle_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let env = openclaw_creds::Env::from_pairs([
            ("AWS_CA_BUNDLE", missing.to_str().unwrap()),
            ("HOME", dir.path().to_str().unwrap()),
        ]);
        let err = openclaw_creds::CaBundle::from_env(&env).unwrap_err();
        assert!(
            matches!(err, openclaw_creds::Error::InvalidCaBundle { .. }),
            "{err:?}"
        );
        assert_eq!(Failure::from(err).kind, ExitKind::Config);
    }

    #[test]
    fn config_errors_are_config_kind() {
        let err = openclaw_config::Config::from_text("{ models: { bedrockDiscovery: 3 } }")
            .err()
            .map(Failure::from);
        assert_eq!(err.map(|f| f.kind), Some(ExitKind::Config));
    }
}
