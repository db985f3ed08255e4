//! Anthropic's model names and the Bedrock models behind them.
//!
//! Claude Code and the Anthropic SDKs name models the way Anthropic's API does
//! (`claude-sonnet-4-5-20250929`, `claude-sonnet-4-5`, `claude-3-5-haiku-latest`). Bedrock
//! serves the same models under its own ids (`anthropic.claude-sonnet-4-5-20250929-v1:0`),
//! mostly through cross-region inference profiles whose prefix follows the region
//! (`us.`, `eu.`, `apac.`, `au.`, `jp.`, `global.`). The table below gives the base id; the
//! candidates are tried in order: the region's geography profile, the global profile, the bare
//! id. The ids come from the Bedrock model catalog (`ListFoundationModels` /
//! `ListInferenceProfiles`); names without a date point at the newest snapshot, as Anthropic's
//! aliases do.

/// Anthropic model name (with and without date, `-latest` aliases) -> Bedrock base model id.
const TABLE: &[(&[&str], &str)] = &[
    (&["claude-opus-4-7"], "anthropic.claude-opus-4-7"),
    (&["claude-opus-4-6"], "anthropic.claude-opus-4-6-v1"),
    (&["claude-sonnet-4-6"], "anthropic.claude-sonnet-4-6"),
    (
        &["claude-opus-4-5", "claude-opus-4-5-20251101"],
        "anthropic.claude-opus-4-5-20251101-v1:0",
    ),
    (
        &["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"],
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
    ),
    (
        &["claude-haiku-4-5", "claude-haiku-4-5-20251001"],
        "anthropic.claude-haiku-4-5-20251001-v1:0",
    ),
    (
        &["claude-opus-4-1", "claude-opus-4-1-20250805"],
        "anthropic.claude-opus-4-1-20250805-v1:0",
    ),
    (
        &["claude-opus-4-0", "claude-opus-4", "claude-opus-4-20250514"],
        "anthropic.claude-opus-4-20250514-v1:0",
    ),
    (
        &[
            "claude-sonnet-4-0",
            "claude-sonnet-4",
            "claude-sonnet-4-20250514",
        ],
        "anthropic.claude-sonnet-4-20250514-v1:0",
    ),
    (
        &["claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"],
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
    ),
    (
        &["claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022"],
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
    ),
    (
        &["claude-3-5-sonnet-20240620"],
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
    ),
    (
        &["claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"],
        "anthropic.claude-3-5-haiku-20241022-v1:0",
    ),
    (
        &["claude-3-haiku-20240307"],
        "anthropic.claude-3-haiku-20240307-v1:0",
    ),
];

/// Every Anthropic name the table knows (for did-you-mean).
pub(crate) fn known_names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().flat_map(|(names, _)| names.iter().copied())
}

/// The Bedrock base id of an Anthropic model name. Claude Code's context-window suffix
/// (`[1m]`) is not part of the name.
pub(crate) fn base_id(name: &str) -> Option<&'static str> {
    let name = name.trim();
    let name = name.strip_suffix("[1m]").unwrap_or(name);
    TABLE
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, id)| *id)
}

/// The inference-profile prefix of the geography a region belongs to.
pub(crate) fn geography(region: &str) -> Option<&'static str> {
    Some(match region {
        r if r.starts_with("us-gov-") => "us-gov",
        r if r.starts_with("us-") || r.starts_with("ca-") => "us",
        r if r.starts_with("eu-") => "eu",
        "ap-southeast-2" | "ap-southeast-4" => "au",
        "ap-northeast-1" | "ap-northeast-3" => "jp",
        r if r.starts_with("ap-") => "apac",
        _ => return None,
    })
}

/// The Bedrock ids to try for an Anthropic model name, in order.
pub(crate) fn candidates(name: &str, region: &str) -> Vec<String> {
    let Some(base) = base_id(name) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(geo) = geography(region) {
        out.push(format!("{geo}.{base}"));
    }
    out.push(format!("global.{base}"));
    out.push(base.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_names_map_to_regional_profiles_first() {
        assert_eq!(
            candidates("claude-sonnet-4-5-20250929", "us-east-1"),
            [
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
            ]
        );
        assert_eq!(
            candidates("claude-haiku-4-5", "eu-west-1")[0],
            "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
        );
        assert_eq!(
            candidates("claude-opus-4-6[1m]", "ap-southeast-2")[0],
            "au.anthropic.claude-opus-4-6-v1"
        );
        assert_eq!(
            candidates("claude-3-5-haiku-latest", "ap-south-1")[0],
            "apac.anthropic.claude-3-5-haiku-20241022-v1:0"
        );
        assert!(candidates("gpt-4o", "us-east-1").is_empty());
        assert!(candidates("anthropic.claude-opus-4-7", "us-east-1").is_empty());
    }

    #[test]
    fn every_name_is_unique() {
        let names: Vec<_> = known_names().collect();
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(names.len(), unique.len());
    }
}
