//! The `anthropic-beta` header: which betas Bedrock has, and what happens to the others.
//!
//! Bedrock takes Claude's beta flags in the request body, as
//! `additionalModelRequestFields.anthropic_beta`. The flags below are the ones Bedrock
//! documents for Claude; they are passed on. Every other flag (Claude Code's own
//! `claude-code-20250219`, `oauth-2025-04-20`, features that are generally available such as
//! `prompt-caching-2024-07-31`, or features Bedrock does not have) is accepted and not sent:
//! Bedrock answers a flag it does not know with a 400, so passing them would break clients
//! that send them by default.

/// Betas passed to Bedrock.
pub(crate) const PASSED: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
    "fine-grained-tool-streaming-2025-05-14",
];

/// Splits the `anthropic-beta` header values into the betas to pass on and the ignored ones.
pub(crate) fn split<'a>(values: impl Iterator<Item = &'a str>) -> (Vec<String>, Vec<String>) {
    let mut passed = Vec::new();
    let mut ignored = Vec::new();
    for flag in values
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        let list = if PASSED.contains(&flag) {
            &mut passed
        } else {
            &mut ignored
        };
        if !list.iter().any(|f| f == flag) {
            list.push(flag.to_string());
        }
    }
    (passed, ignored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_betas_pass_and_others_are_ignored() {
        let (passed, ignored) = split(
            [
                "claude-code-20250219,interleaved-thinking-2025-05-14",
                " context-1m-2025-08-07 , oauth-2025-04-20,interleaved-thinking-2025-05-14",
            ]
            .into_iter(),
        );
        assert_eq!(
            passed,
            ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]
        );
        assert_eq!(ignored, ["claude-code-20250219", "oauth-2025-04-20"]);
    }
}
