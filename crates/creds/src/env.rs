//! An explicit snapshot of environment variables.

use std::collections::BTreeMap;
use std::fmt;

/// A snapshot of environment variables, passed explicitly to everything in this crate.
///
/// [`Env::from_process`] is the single place the crate reads the process environment; tests build
/// an `Env` from pairs and never mutate the real one.
/// `Debug` lists variable names only: values may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// An empty environment.
    pub fn empty() -> Self {
        Self::default()
    }

    /// An environment from `(name, value)` pairs; a later pair overrides an earlier one.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// An environment from a map.
    pub fn from_map(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self::from_pairs(vars)
    }

    /// A snapshot of the current process environment (variables that are not valid UTF-8 are
    /// skipped).
    pub fn from_process() -> Self {
        Self::from_pairs(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// The raw value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name` trimmed of surrounding whitespace, or `None` when unset or blank.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Whether `name` is set to `true` (case-insensitive, surrounding whitespace ignored), the way
    /// the AWS SDKs read boolean settings.
    pub fn is_true(&self, name: &str) -> bool {
        self.get_nonempty(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The home directory: `HOME` (then `USERPROFILE`, for Windows).
    pub fn home(&self) -> Option<&str> {
        self.get_nonempty("HOME")
            .or_else(|| self.get_nonempty("USERPROFILE"))
    }

    /// Returns a copy with `name` set to `value`.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The variable names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    /// The same variables as the AWS SDK's environment shim, so SDK providers read this snapshot
    /// instead of the process environment.
    pub(crate) fn to_aws(&self) -> aws_types::os_shim_internal::Env {
        aws_types::os_shim_internal::Env::from(
            self.vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<std::collections::HashMap<_, _>>(),
        )
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
