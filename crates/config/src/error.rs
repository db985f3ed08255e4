//! The crate's one error type.

use std::fmt;
use std::path::PathBuf;

/// A problem in a configuration text, with where it is.
///
/// Displayed as ``<file>:<line>:<column>: <keyPath>: <message>[, did you mean `<key>`?]``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (or `<text>` for a text that did not come from a file).
    pub file: String,
    /// 1-based line; 0 when the problem is in no text on disk (a refused edit's own value).
    pub line: usize,
    /// 1-based column (in characters); 0 with `line`.
    pub column: usize,
    /// The key path of the offending value or key, for example
    /// `models.bedrockDiscovery.refreshInterval` (empty for the whole document).
    pub key_path: String,
    /// What is wrong and what was expected, for example
    /// ``expected a boolean, found string "yes"``.
    pub message: String,
    /// A known key close to an unknown one.
    pub suggestion: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        if !self.key_path.is_empty() {
            write!(f, "`{}`: ", self.key_path)?;
        }
        f.write_str(&self.message)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, ", did you mean `{suggestion}`?")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid JSON5.
    #[error("{file}:{line}:{column}: syntax error: {message}")]
    Syntax {
        /// The file (or `<text>`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The text is JSON5 but not a valid configuration.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file cannot be read or replaced safely: not a regular file, larger than
    /// [`crate::MAX_CONFIG_BYTES`], read-only, owned by another user, or a dangling symlink.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file (or symlink).
        path: PathBuf,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// Another process held the configuration's write lock for longer than the wait allows.
    #[error(
        "timed out after {} s waiting for the lock on {}: another process is editing the configuration",
        waited.as_secs_f64(),
        lock.display()
    )]
    LockTimeout {
        /// The lock file.
        lock: PathBuf,
        /// How long the write waited.
        waited: std::time::Duration,
    },
    /// A `provider/modelId` reference is malformed.
    #[error("invalid model reference `{input}`: {reason} (expected `<provider>/<modelId>`)")]
    InvalidModelRef {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `gateway.bind` value is not `loopback`, `lan` or an IP address.
    #[error("invalid bind address `{input}`: expected `loopback`, `lan` or an IP address")]
    InvalidBind {
        /// The text given.
        input: String,
    },
    /// A key path given to the editor is malformed.
    #[error("invalid key path `{path}`: {reason}")]
    InvalidKeyPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A value given to [`crate::ConfigDocument::set`] in strict mode is not JSON5.
    #[error("invalid value for `{path}`: expected a JSON5 value ({message})")]
    InvalidValue {
        /// The key path being set.
        path: String,
        /// The parser's message (never the value itself: it may be a secret).
        message: String,
    },
    /// An edit cannot be applied to the document's shape.
    #[error("cannot edit `{path}`: {reason}")]
    Edit {
        /// The key path being edited.
        path: String,
        /// Why, for example "`models` is a string, not an object".
        reason: String,
    },
}

impl Error {
    /// The diagnostic of an [`Error::Invalid`].
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            Error::Invalid(d) => Some(d),
            _ => None,
        }
    }

    /// The 1-based line of a syntax or validation error.
    pub fn line(&self) -> Option<usize> {
        match self {
            Error::Syntax { line, .. } => Some(*line),
            Error::Invalid(d) if d.line > 0 => Some(d.line),
            _ => None,
        }
    }
}
