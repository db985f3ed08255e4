//! The crate's one error type.

use std::time::Duration;

/// A Bedrock control-plane operation discovery calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `ListFoundationModels`.
    ListFoundationModels,
    /// `ListInferenceProfiles`.
    ListInferenceProfiles,
}

impl Operation {
    /// The operation's AWS name, e.g. `ListFoundationModels`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListFoundationModels => "ListFoundationModels",
            Operation::ListInferenceProfiles => "ListInferenceProfiles",
        }
    }

    /// The IAM action the operation needs, e.g. `bedrock:ListFoundationModels`.
    pub fn iam_action(self) -> &'static str {
        match self {
            Operation::ListFoundationModels => "bedrock:ListFoundationModels",
            Operation::ListInferenceProfiles => "bedrock:ListInferenceProfiles",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why discovery failed.
///
/// `Clone` because one failure is shared by every caller waiting on the same in-flight discovery
/// and kept for status reports. Messages never carry credentials: only AWS error codes and
/// messages, which do not echo secrets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
}

impl Error {
    /// The operation concerned, when the failure belongs to one.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::AccessDenied { operation, .. }
            | Error::Throttled { operation, .. }
            | Error::Service { operation, .. }
            | Error::Malformed { operation, .. }
            | Error::Credentials { operation, .. }
            | Error::Transport { operation, .. } => Some(*operation),
            Error::Timeout { .. } => None,
        }
    }
}
