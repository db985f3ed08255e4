//! The explicit, opt-in instance-role probe.

use std::fmt;
use std::time::Duration;

use crate::Env;

/// The default time budget of [`probe_imds`]: one second, the SDK's own IMDS connect timeout.
pub const DEFAULT_IMDS_TIMEOUT: Duration = Duration::from_secs(1);

const DEFAULT_ENDPOINT_V4: &str = "http://169.254.169.254";
const DEFAULT_ENDPOINT_V6: &str = "http://[fd00:ec2::254]";
const ROLE_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// What [`probe_imds`] found. It never holds a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImdsStatus {
    /// `AWS_EC2_METADATA_DISABLED=true`: nothing was contacted.
    Disabled,
    /// IMDS answered and an instance profile role is attached.
    RoleAvailable {
        /// The role name IMDS lists (not a secret).
        role: String,
    },
    /// IMDS answered but no role is attached (HTTP 404 on the role listing, or an empty list).
    NoRole,
    /// IMDS could not be used: unreachable, token refused, an unexpected status.
    Unavailable {
        /// What went wrong, in our words (the SDK's error text can include response bodies).
        reason: String,
    },
    /// No answer within the time budget.
    TimedOut {
        /// The budget.
        after: Duration,
    },
}

impl ImdsStatus {
    /// Whether an instance role is available.
    pub fn role_available(&self) -> bool {
        matches!(self, ImdsStatus::RoleAvailable { .. })
    }
}

impl fmt::Display for ImdsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImdsStatus::Disabled => f.write_str("disabled (AWS_EC2_METADATA_DISABLED=true)"),
            ImdsStatus::RoleAvailable { role } => write!(f, "instance role available: {role}"),
            ImdsStatus::NoRole => f.write_str("reachable, no instance role attached"),
            ImdsStatus::Unavailable { reason } => write!(f, "unavailable: {reason}"),
            ImdsStatus::TimedOut { after } => {
                write!(f, "no answer within {} ms", after.as_millis())
            }
        }
    }
}

/// The IMDS endpoint for `env`: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the IPv6 address when
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`, else `http://169.254.169.254`.
pub fn imds_endpoint(env: &Env) -> String {
    if let Some(endpoint) = env.get_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT") {
        return endpoint.to_string();
    }
    match env.get_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") {
        Some(mode) if mode.eq_ignore_ascii_case("ipv6") => DEFAULT_ENDPOINT_V6.to_string(),
        _ => DEFAULT_ENDPOINT_V4.to_string(),
    }
}

/// Asks IMDS whether an instance role is available, within `timeout` (use
/// [`DEFAULT_IMDS_TIMEOUT`]). Opt-in: detection ([`crate::detect`]) never calls it.
///
/// Uses aws-config's own IMDSv2 client (token `PUT /latest/api/token`, then
/// `GET /latest/meta-data/iam/security-credentials/` with the token), one attempt, at the
/// endpoint from [`imds_endpoint`]; the whole probe is bounded by `tokio::time::timeout`.
/// Honours `AWS_EC2_METADATA_DISABLED=true` without any network call. Needs a Tokio runtime with
/// time enabled.
pub async fn probe_imds(env: &Env, timeout: Duration) -> ImdsStatus {
    if env.is_true("AWS_EC2_METADATA_DISABLED") {
        return ImdsStatus::Disabled;
    }
    let endpoint = imds_endpoint(env);
    // The client's own timeouts are looser than the outer budget, so the outer one decides and
    // a slow IMDS always reads as `TimedOut`.
    let inner = timeout.saturating_mul(2);
    let builder = match aws_config::imds::Client::builder().endpoint(&endpoint) {
        Ok(builder) => builder,
        Err(_) => {
            return ImdsStatus::Unavailable {
                reason: "AWS_EC2_METADATA_SERVICE_ENDPOINT is not a valid URL".to_string(),
            };
        }
    };
    let client = builder
        .max_attempts(1)
        .connect_timeout(inner)
        .read_timeout(inner)
        .operation_timeout(inner)
        .operation_attempt_timeout(inner)
        .build();
    match tokio::time::timeout(timeout, client.get(ROLE_PATH)).await {
        Err(_) => ImdsStatus::TimedOut { after: timeout },
        Ok(Ok(listing)) => match listing
            .as_ref()
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
        {
            Some(role) => ImdsStatus::RoleAvailable {
                role: role.to_string(),
            },
            None => ImdsStatus::NoRole,
        },
        Ok(Err(err)) => classify(&err),
    }
}

fn classify(err: &aws_config::imds::client::error::ImdsError) -> ImdsStatus {
    use aws_config::imds::client::error::ImdsError;
    let reason = match err {
        ImdsError::ErrorResponse(response) => {
            let status = response.response().status().as_u16();
            if status == 404 {
                return ImdsStatus::NoRole;
            }
            format!("IMDS answered HTTP {status} on the role listing")
        }
        ImdsError::FailedToLoadToken(token) if token.is_dispatch_failure() => {
            "could not connect to the IMDS endpoint".to_string()
        }
        ImdsError::FailedToLoadToken(_) => "IMDS refused an IMDSv2 session token".to_string(),
        ImdsError::IoError(_) => "I/O error talking to IMDS".to_string(),
        _ => "unexpected error talking to IMDS".to_string(),
    };
    ImdsStatus::Unavailable { reason }
}
