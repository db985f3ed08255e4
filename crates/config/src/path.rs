//! Key paths into the configuration: `models.bedrockDiscovery.enabled`,
//! `models.providers["my.provider"].models[0].id`.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// One step of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object key. A key made of digits also selects an array element when the value at
    /// that point is an array (`models.0.id`).
    Key(String),
    /// An array index, written `[0]`.
    Index(usize),
}

/// A path to a value in the configuration.
///
/// Written with dots between keys; a key containing characters other than ASCII letters,
/// digits, `_` and `-` is written in brackets with quotes (`["my.provider"]` or
/// `['my.provider']`); array elements as `[0]` or `.0`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The empty path (the whole document).
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// The segments of the path.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether this is the empty path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path with one more key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut out = self.clone();
        out.0.push(Segment::Key(key.into()));
        out
    }

    /// This path with one more array index.
    pub fn index(&self, index: usize) -> Self {
        let mut out = self.clone();
        out.0.push(Segment::Index(index));
        out
    }

    /// The path without its last segment.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(KeyPath(rest.to_vec()))
    }

    /// The last segment.
    pub fn last(&self) -> Option<&Segment> {
        self.0.last()
    }

    pub(crate) fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }
}

impl From<Vec<Segment>> for KeyPath {
    fn from(value: Vec<Segment>) -> Self {
        KeyPath(value)
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if is_plain_key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => {
                    // serde_json's string escaping is exactly what a quoted segment needs.
                    let quoted = serde_json::Value::String(key.clone()).to_string();
                    write!(f, "[{quoted}]")?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl FromStr for KeyPath {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &'static str| Error::InvalidKeyPath {
            path: s.to_string(),
            reason,
        };
        let chars: Vec<char> = s.chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        // After a segment we expect `.`, `[` or the end.
        let mut expect_separator = false;
        while i < chars.len() {
            let c = chars[i];
            if expect_separator {
                match c {
                    '.' => {
                        i += 1;
                        if i == chars.len() {
                            return Err(bad("it ends with `.`"));
                        }
                        expect_separator = false;
                        continue;
                    }
                    '[' => {}
                    _ => return Err(bad("expected `.` or `[` after a segment")),
                }
            }
            if c == '[' {
                i += 1;
                match chars.get(i) {
                    Some(&quote @ ('"' | '\'')) => {
                        i += 1;
                        let mut key = String::new();
                        loop {
                            match chars.get(i) {
                                None => return Err(bad("unterminated quoted key")),
                                Some('\\') => {
                                    let Some(&next) = chars.get(i + 1) else {
                                        return Err(bad("unterminated quoted key"));
                                    };
                                    key.push(next);
                                    i += 2;
                                }
                                Some(&ch) if ch == quote => {
                                    i += 1;
                                    break;
                                }
                                Some(&ch) => {
                                    key.push(ch);
                                    i += 1;
                                }
                            }
                        }
                        if chars.get(i) != Some(&']') {
                            return Err(bad("expected `]` after a quoted key"));
                        }
                        i += 1;
                        segments.push(Segment::Key(key));
                    }
                    _ => {
                        let start = i;
                        while i < chars.len() && chars[i] != ']' {
                            i += 1;
                        }
                        if i == chars.len() {
                            return Err(bad("unterminated `[`"));
                        }
                        let inner: String = chars[start..i].iter().collect();
                        let index = inner
                            .trim()
                            .parse::<usize>()
                            .map_err(|_| bad("expected an array index or a quoted key in `[]`"))?;
                        i += 1;
                        segments.push(Segment::Index(index));
                    }
                }
            } else {
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                if i == start {
                    return Err(bad("empty key (two dots in a row or a leading dot)"));
                }
                segments.push(Segment::Key(chars[start..i].iter().collect()));
            }
            expect_separator = true;
        }
        if segments.is_empty() {
            return Err(bad("the path is empty"));
        }
        Ok(KeyPath(segments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &str) -> Vec<Segment> {
        path.parse::<KeyPath>().unwrap().0
    }

    fn k(s: &str) -> Segment {
        Segment::Key(s.to_string())
    }

    #[test]
    fn parses_dots_brackets_and_indices() {
        assert_eq!(
            keys("models.bedrockDiscovery.enabled"),
            [k("models"), k("bedrockDiscovery"), k("enabled")]
        );
        assert_eq!(
            keys("plugins.entries.amazon-bedrock.config.discovery"),
            [
                k("plugins"),
                k("entries"),
                k("amazon-bedrock"),
                k("config"),
                k("discovery")
            ]
        );
        assert_eq!(
            keys(r#"models.providers["my.provider"].models[0].id"#),
            [
                k("models"),
                k("providers"),
                k("my.provider"),
                k("models"),
                Segment::Index(0),
                k("id")
            ]
        );
        assert_eq!(keys("a['b\\'c']"), [k("a"), k("b'c")]);
        assert_eq!(keys("a.0.b"), [k("a"), k("0"), k("b")]);
        assert_eq!(keys("[2]"), [Segment::Index(2)]);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "", ".a", "a..b", "a.", "a[", "a[x]", "a[\"b]", "a[\"b\"c", "a[0]b",
        ] {
            let err = bad.parse::<KeyPath>().unwrap_err().to_string();
            assert!(err.contains("invalid key path"), "{bad}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for path in [
            "models.bedrockDiscovery.refreshInterval",
            r#"models.providers["my.provider"].models[0].id"#,
            "plugins.entries.amazon-bedrock.config.discovery",
            "$schema",
        ] {
            assert_eq!(path.parse::<KeyPath>().unwrap().to_string(), path);
        }
    }
}
