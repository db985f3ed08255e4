//! The crate's one error type.

use std::time::Duration;

/// A Bedrock control-plane operation discovery calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `ListFoundationModels`.
    ListFoundationModels,
    /// `ListInferenceProfiles`.
    ListInferenceProfiles,
    /// `GetInferenceProfile`.
    GetInferenceProfile,
}

impl Operation {
    /// The operation's AWS name, e.g. `ListFoundationModels`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListFoundationModels => "ListFoundationModels",
            Operation::ListInferenceProfiles => "ListInferenceProfiles",
            Operation::GetInferenceProfile => "GetInferenceProfile",
        }
    }

    /// The IAM action the operation needs, e.g. `bedrock:ListFoundationModels`.
    pub fn iam_action(self) -> &'static str {
        match self {
            Operation::ListFoundationModels => "bedrock:ListFoundationModels",
            Operation::ListInferenceProfiles => "bedrock:ListInferenceProfiles",
            Operation::GetInferenceProfile => "bedrock:GetInferenceProfile",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of failure an [`Error`] is, for callers that act on it (an exit code, an HTTP
/// status, a hint) without reading AWS codes or messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No credentials could be resolved, or AWS did not accept them (an unknown access key, a
    /// bad signature, an expired token).
    Auth,
    /// AWS accepted the identity but it lacks an IAM permission (`AccessDeniedException`).
    AccessDenied,
    /// Throttled until the SDK's retries were exhausted.
    Throttled,
    /// Discovery as a whole did not finish within its bound.
    Timeout,
    /// Bedrock could not be reached, or answered with a server error (HTTP 5xx,
    /// `InternalServerException`, `ServiceUnavailableException`).
    Unavailable,
    /// A response arrived that could not be understood.
    Malformed,
    /// Any other AWS error response, e.g. `ValidationException`.
    Other,
    /// The configuration cannot be used as it is: an invalid region or endpoint, no model named
    /// and none configured, a provider speaking another api.
    Configuration,
    /// The model is neither configured nor discovered.
    UnknownModel,
}

/// AWS error codes that mean "these credentials are not accepted" (the identity is unknown or
/// the request is not properly signed), as opposed to an identity that lacks a permission.
const AUTH_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
];

/// AWS error codes of a server-side failure.
const UNAVAILABLE_CODES: &[&str] = &[
    "InternalServerException",
    "InternalFailure",
    "ServiceUnavailableException",
    "ServiceUnavailable",
];

/// Why discovery failed.
///
/// `Clone` because one failure is shared by every caller waiting on the same in-flight discovery
/// and kept for status reports. Messages never carry credentials: only AWS error codes and
/// messages, which do not echo secrets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// AWS answered `AccessDeniedException`: the identity lacks an IAM permission.
    #[error(
        "access denied calling bedrock {operation} in {region}: the AWS identity needs the IAM action `{action}` ({message})",
        action = operation.iam_action()
    )]
    AccessDenied {
        /// The operation refused.
        operation: Operation,
        /// The region called.
        region: String,
        /// AWS's message.
        message: String,
    },
    /// AWS kept answering `ThrottlingException` (or another throttling code) until the SDK's
    /// retries were exhausted.
    #[error(
        "bedrock {operation} in {region} was throttled and the SDK's retries are exhausted ({code}: {message})"
    )]
    Throttled {
        /// The operation throttled.
        operation: Operation,
        /// The region called.
        region: String,
        /// The AWS error code, e.g. `ThrottlingException`.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// Another AWS error response.
    #[error("bedrock {operation} in {region} failed with {code}: {message}")]
    Service {
        /// The operation that failed.
        operation: Operation,
        /// The region called.
        region: String,
        /// The AWS error code, e.g. `ValidationException` (or the HTTP status when there is none).
        code: String,
        /// AWS's message.
        message: String,
    },
    /// A response arrived but could not be understood (not the JSON `aws-sdk-bedrock` expects).
    #[error("malformed response from bedrock {operation} in {region}: {message}")]
    Malformed {
        /// The operation whose response was malformed.
        operation: Operation,
        /// The region called.
        region: String,
        /// What the SDK could not parse.
        message: String,
    },
    /// No AWS credentials could be resolved.
    #[error("no AWS credentials for bedrock {operation} in {region}: {message}")]
    Credentials {
        /// The operation that needed them.
        operation: Operation,
        /// The region called.
        region: String,
        /// What the credential chain said.
        message: String,
    },
    /// The request could not be sent or its response could not be read (connection refused, DNS,
    /// TLS, a dropped connection, an SDK timeout).
    #[error("could not reach bedrock for {operation} in {region}: {message}")]
    Transport {
        /// The operation attempted.
        operation: Operation,
        /// The region called.
        region: String,
        /// The transport failure.
        message: String,
    },
    /// Discovery as a whole did not finish in time (`DiscoveryOptions::timeout`).
    #[error(
        "bedrock discovery in {region} did not finish within {timeout:?} (a hung or very slow endpoint)"
    )]
    Timeout {
        /// The region called.
        region: String,
        /// The configured bound.
        timeout: Duration,
    },
    /// The AWS side of a configuration is not usable (an invalid region or endpoint), or there
    /// are no credentials at all (see [`crate::ModelResolver`]).
    #[error(transparent)]
    Aws(#[from] openclaw_creds::Error),
    /// No model was named and the configuration has no primary model.
    #[error("no model: expected a model reference or agents.defaults.model.primary")]
    NoModel,
    /// The model is neither configured nor discovered.
    #[error(
        "unknown model `{model}`: not configured and not discovered{}",
        did_you_mean(suggestions)
    )]
    UnknownModel {
        /// The reference, `provider/modelId`.
        model: String,
        /// Up to three known `provider/modelId` keys close to it.
        suggestions: Vec<String>,
    },
    /// The model is discovered, but the provider filter hides it.
    #[error(
        "model `{model}` is hidden by the discovery provider filter ({}): add its provider to `providerFilter`, or configure the model under models.providers",
        filter.join(", ")
    )]
    FilteredModel {
        /// The reference, `provider/modelId`.
        model: String,
        /// The filter's entries, as configured.
        filter: Vec<String>,
    },
    /// A model could not be looked up because discovery failed.
    #[error("cannot resolve model `{model}`: bedrock discovery failed: {source}")]
    ModelDiscoveryFailed {
        /// The reference, `provider/modelId`.
        model: String,
        /// Why discovery failed.
        source: Box<Error>,
    },
    /// The model's provider speaks another api than `bedrock-converse-stream`.
    #[error("provider `{provider}` uses api `{api}`: expected `bedrock-converse-stream`")]
    UnsupportedApi {
        /// The provider id.
        provider: String,
        /// The api it names.
        api: String,
    },
}

/// `; did you mean `a` or `b`?`, or nothing without suggestions.
fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean `{}`?", suggestions.join("` or `"))
    }
}

impl Error {
    /// The kind of failure, decided here from the variant and the AWS error code so that no
    /// caller matches codes or messages.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::AccessDenied { .. } => ErrorKind::AccessDenied,
            Error::Credentials { .. } => ErrorKind::Auth,
            Error::Throttled { .. } => ErrorKind::Throttled,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Transport { .. } => ErrorKind::Unavailable,
            Error::Malformed { .. } => ErrorKind::Malformed,
            Error::Service { code, .. } => service_kind(code),
            Error::Aws(err) => match err {
                openclaw_creds::Error::MissingCredentials { .. }
                | openclaw_creds::Error::SsoLoginRequired { .. }
                | openclaw_creds::Error::CredentialsUnavailable { .. } => ErrorKind::Auth,
                _ => ErrorKind::Configuration,
            },
            Error::NoModel | Error::UnsupportedApi { .. } => ErrorKind::Configuration,
            Error::UnknownModel { .. } | Error::FilteredModel { .. } => ErrorKind::UnknownModel,
            Error::ModelDiscoveryFailed { source, .. } => source.kind(),
        }
    }

    /// The operation concerned, when the failure belongs to one.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::AccessDenied { operation, .. }
            | Error::Throttled { operation, .. }
            | Error::Service { operation, .. }
            | Error::Malformed { operation, .. }
            | Error::Credentials { operation, .. }
            | Error::Transport { operation, .. } => Some(*operation),
            Error::ModelDiscoveryFailed { source, .. } => source.operation(),
            Error::Timeout { .. }
            | Error::Aws(_)
            | Error::NoModel
            | Error::UnknownModel { .. }
            | Error::FilteredModel { .. }
            | Error::UnsupportedApi { .. } => None,
        }
    }
}

/// The kind of an AWS error response by its code (`HTTP <status>` when it had none).
fn service_kind(code: &str) -> ErrorKind {
    if AUTH_CODES.contains(&code) || code == "HTTP 401" {
        return ErrorKind::Auth;
    }
    if UNAVAILABLE_CODES.contains(&code) {
        return ErrorKind::Unavailable;
    }
    match code.strip_prefix("HTTP ").map(str::parse::<u16>) {
        Some(Ok(500..=599)) => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str) -> Error {
        Error::Service {
            operation: Operation::ListFoundationModels,
            region: "us-east-1".into(),
            code: code.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn service_codes_have_kinds() {
        let cases = [
            ("UnrecognizedClientException", ErrorKind::Auth),
            ("InvalidSignatureException", ErrorKind::Auth),
            ("ExpiredTokenException", ErrorKind::Auth),
            ("HTTP 401", ErrorKind::Auth),
            ("InternalServerException", ErrorKind::Unavailable),
            ("ServiceUnavailableException", ErrorKind::Unavailable),
            ("HTTP 502", ErrorKind::Unavailable),
            ("HTTP 404", ErrorKind::Other),
            ("HTTP five", ErrorKind::Other),
            ("ValidationException", ErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(service(code).kind(), kind, "{code}");
        }
    }

    #[test]
    fn variants_have_kinds() {
        let op = Operation::ListInferenceProfiles;
        let region = || "eu-west-1".to_string();
        let message = || "m".to_string();
        let cases = [
            (
                Error::AccessDenied {
                    operation: op,
                    region: region(),
                    message: message(),
                },
                ErrorKind::AccessDenied,
            ),
            (
                Error::Credentials {
                    operation: op,
                    region: region(),
                    message: message(),
                },
                ErrorKind::Auth,
            ),
            (
                Error::Throttled {
                    operation: op,
                    region: region(),
                    code: "ThrottlingException".into(),
                    message: message(),
                },
                ErrorKind::Throttled,
            ),
            (
                Error::Transport {
                    operation: op,
                    region: region(),
                    message: message(),
                },
                ErrorKind::Unavailable,
            ),
            (
                Error::Malformed {
                    operation: op,
                    region: region(),
                    message: message(),
                },
                ErrorKind::Malformed,
            ),
            (
                Error::Timeout {
                    region: region(),
                    timeout: Duration::from_secs(1),
                },
                ErrorKind::Timeout,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }
}
