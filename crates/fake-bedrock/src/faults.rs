//! Rule matching (which queued fault or turn takes a request) and the error answers of the
//! HTTP-level faults.

use crate::control::Ctx;
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
/// the names the request's model goes by, from [`model_names`]). A `{"model": ..}` target given
/// as an ARN matches by the id the ARN names.
pub(crate) fn target_matches(target: &Target, runtime: bool, model_names: &[String]) -> bool {
    match target {
        Target::Any => true,
        Target::ControlPlane => !runtime,
        Target::Runtime => runtime,
        Target::Model(m) => {
            let m = arn_resource_id(m).unwrap_or(m);
            runtime && model_names.iter().any(|n| n == m)
        }
    }
}

/// `us.anthropic.x` of `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.x`
/// (any Bedrock ARN: the part after the resource type).
fn arn_resource_id(identifier: &str) -> Option<&str> {
    identifier
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, id)| id)
}

/// The names a runtime request's model goes by, which a `{"model": ..}` target can name: the
/// identifier as sent, the id inside it when it is an ARN, the inference profile it goes
/// through and the foundation model it resolves to.
pub(crate) fn model_names(ctx: &Ctx<'_>, identifier: &str) -> Vec<String> {
    let mut names = vec![identifier.to_owned()];
    if let Some(id) = arn_resource_id(identifier) {
        names.push(id.to_owned());
    }
    if let Ok(resolved) = ctx.resolve(identifier) {
        if let Some(profile) = resolved.profile {
            names.push(profile.inference_profile_id.clone());
        }
        names.push(resolved.model.model_id.clone());
    }
    names.dedup();
    names
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn model_targets_match_ids_profiles_and_arns() {
        let catalog = Catalog::default_catalog();
        let ctx = Ctx {
            catalog: &catalog,
            region: "us-east-1",
            account: "123456789012",
            extra: &[],
        };
        let model = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        let us = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
        let us_arn = format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/{us}");
        let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
        let hits = |target: &str, sent: &str| {
            target_matches(
                &Target::Model(target.to_owned()),
                true,
                &model_names(&ctx, sent),
            )
        };
        assert!(hits(model, us) && hits(model, global) && hits(model, &us_arn));
        assert!(hits(us, us) && hits(us, &us_arn) && hits(&us_arn, us));
        assert!(!hits(us, global) && !hits(us, model));
        let model_arn = format!("arn:aws:bedrock:us-east-1::foundation-model/{model}");
        assert!(hits(&model_arn, global));
        assert!(!hits("anthropic.claude-3-haiku-20240307-v1:0", us));
        // Control-plane requests never match a model target.
        assert!(!target_matches(
            &Target::Model(model.to_owned()),
            false,
            &[model.to_owned()]
        ));
    }
}
