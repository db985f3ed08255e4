//! Rule matching (which queued fault or turn takes a request) and the error answers of the
//! HTTP-level faults.

use crate::error::ApiError;
use crate::script::{Fault, Rule, Target};

/// The error answer of an HTTP-level fault (`None` for stream faults and hangs).
pub(crate) fn fault_error(fault: &Fault, action: &str, account: &str) -> Option<ApiError> {
    Some(match fault {
        Fault::Throttle => ApiError::new(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ),
        Fault::InternalError => ApiError::new(
            500,
            "InternalServerException",
            "The server encountered an internal error while processing the request.",
        ),
        Fault::ServiceUnavailable => ApiError::new(
            503,
            "ServiceUnavailableException",
            "The service is currently unavailable. Please try again later.",
        ),
        Fault::AccessDenied => ApiError::new(
            403,
            "AccessDeniedException",
            &format!(
                "User: arn:aws:iam::{account}:user/fake-bedrock is not authorized to perform: bedrock:{action} because no identity-based policy allows the bedrock:{action} action"
            ),
        ),
        Fault::Error {
            status,
            error_type,
            message,
        } => ApiError::new(*status, error_type, message),
        _ => return None,
    })
}

/// True when a rule's target covers a request (`runtime`: a `/model/...` route; `model_names`:
/// the names the request's model goes by).
pub(crate) fn target_matches(target: &Target, runtime: bool, model_names: &[String]) -> bool {
    match target {
        Target::Any => true,
        Target::ControlPlane => !runtime,
        Target::Runtime => runtime,
        Target::Model(m) => model_names.iter().any(|n| n == m),
    }
}

/// Takes the first matching rule, decrementing (and dropping when exhausted) its count.
pub(crate) fn take_rule<T: Clone>(
    rules: &mut Vec<Rule<T>>,
    matches: impl Fn(&Rule<T>) -> bool,
) -> Option<T> {
    let index = rules.iter().position(matches)?;
    let item = rules[index].item.clone();
    match &mut rules[index].remaining {
        Some(n) if *n <= 1 => {
            rules.remove(index);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    Some(item)
}
