//! The provider filter (`providerFilter`).

use std::collections::BTreeSet;

use serde::Serialize;

/// A normalised provider filter.
///
/// Each entry is trimmed and lowercased, then reduced to its ASCII letters and digits
/// (`" Mistral AI "`, `"mistral-ai"` and `"MistralAI"` all become `mistralai`); entries that are
/// empty afterwards are dropped and duplicates removed. A model matches when an entry equals the
/// same reduction of either its `providerName` (`Mistral AI` → `mistralai`) **or** its id prefix
/// before the first `.` (`mistral.mistral-large…` → `mistral`). So `"mistral"` matches the
/// provider `Mistral AI` (OpenClaw compares with the lowercased provider name only and misses it)
/// and `"meta"` matches `meta.llama3-…`. An empty filter keeps every provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ProviderFilter {
    entries: BTreeSet<String>,
}

impl ProviderFilter {
    /// Normalises the configured entries.
    pub fn new<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries = entries
            .into_iter()
            .map(|e| compact(e.as_ref()))
            .filter(|e| !e.is_empty())
            .collect();
        Self { entries }
    }

    /// Whether the filter keeps every provider.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The normalised entries, sorted.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }

    /// Whether a model with this provider name and model id passes the filter.
    pub fn matches(&self, provider_name: Option<&str>, model_id: &str) -> bool {
        if self.entries.is_empty() {
            return true;
        }
        let by_name = provider_name
            .map(compact)
            .is_some_and(|name| self.entries.contains(&name));
        by_name || self.entries.contains(&compact(id_prefix(model_id)))
    }
}

/// The part of a model id before its first `.` (the whole id when it has none).
pub(crate) fn id_prefix(model_id: &str) -> &str {
    model_id
        .split_once('.')
        .map_or(model_id, |(prefix, _)| prefix)
}

/// Lowercase, ASCII letters and digits only.
fn compact(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_trimmed_lowercased_deduplicated() {
        let f = ProviderFilter::new([" Anthropic ", "anthropic", "AMAZON", "", "  ", "-"]);
        assert_eq!(f.entries().collect::<Vec<_>>(), ["amazon", "anthropic"]);
    }

    #[test]
    fn empty_filter_keeps_everything() {
        let f = ProviderFilter::new(Vec::<String>::new());
        assert!(f.is_empty());
        assert!(f.matches(None, "whatever"));
    }

    #[test]
    fn matches_provider_name_or_id_prefix() {
        let mistral = ProviderFilter::new(["mistral"]);
        assert!(mistral.matches(Some("Mistral AI"), "mistral.mistral-large-2402-v1:0"));
        // The id prefix alone is enough, even when the provider name differs.
        assert!(mistral.matches(Some("Something Else"), "mistral.x"));
        assert!(!mistral.matches(Some("Meta"), "meta.llama3-1-8b-instruct-v1:0"));

        let spaced = ProviderFilter::new(["Mistral AI"]);
        assert!(spaced.matches(Some("Mistral AI"), "mistral.x"));
        let dashed = ProviderFilter::new(["mistral-ai"]);
        assert!(dashed.matches(Some("Mistral AI"), "other.x"));

        let meta = ProviderFilter::new(["meta"]);
        assert!(meta.matches(None, "meta.llama3-1-8b-instruct-v1:0"));
        assert!(!meta.matches(None, "metal.x"));
    }

    #[test]
    fn id_prefix_of_an_id_without_dot_is_the_id() {
        assert_eq!(id_prefix("abc"), "abc");
        assert_eq!(id_prefix("us.anthropic.x"), "us");
    }
}
