//! Lenient parsing of the incomplete JSON a model streams as tool-call arguments.
//!
//! Written by hand: the job is small (close open strings and containers, drop a dangling
//! token) and no maintained Rust crate does exactly this; pi-ai uses the `partial-json` npm
//! package for the same purpose. Cost is O(n) per call, so O(n²) over a call whose arguments
//! arrive in n pieces, as in pi-ai; argument JSON is small.

use serde_json::{Map, Value};

/// Parses `text`, a prefix of a JSON document, into the most complete value it determines:
/// open strings and containers are closed, and a trailing incomplete member (a key without a
/// value, a half-written literal) is dropped. Empty or unusable input gives an empty object.
pub fn parse_partial(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Object(Map::new());
    }
    if let Ok(v) = serde_json::from_str(text) {
        return v;
    }
    let scan = scan(text);
    if let Some(v) = try_close(text) {
        return v;
    }
    // Cut back, one boundary at a time, to a prefix that closes into valid JSON.
    for &cut in scan.boundaries.iter().rev() {
        if let Some(v) = try_close(&text[..cut]) {
            return v;
        }
    }
    Value::Object(Map::new())
}

/// Parses the complete argument text of a tool call: `Ok` for valid JSON (an empty text is an
/// empty object), `Err` with the raw text otherwise.
pub fn parse_final(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_str(text).map_err(|_| text.to_owned())
}

struct Scan {
    /// Byte offsets where the text may be cut: just after `{`/`[` and just before `,`.
    boundaries: Vec<usize>,
}

/// Where a string-aware walk over JSON text ended: inside a string, and right after a `\\`.
struct StringState {
    in_string: bool,
    escaped: bool,
}

/// Calls `structural` with each byte (and its index) that is outside every string, the opening
/// `"` of a string included, and reports whether the text ends inside a string.
fn walk_outside_strings(text: &str, mut structural: impl FnMut(usize, u8)) -> StringState {
    let mut state = StringState {
        in_string: false,
        escaped: false,
    };
    for (i, b) in text.bytes().enumerate() {
        if state.in_string {
            if state.escaped {
                state.escaped = false;
            } else if b == b'\\' {
                state.escaped = true;
            } else if b == b'"' {
                state.in_string = false;
            }
            continue;
        }
        if b == b'"' {
            state.in_string = true;
        }
        structural(i, b);
    }
    state
}

fn scan(text: &str) -> Scan {
    let mut boundaries = Vec::new();
    walk_outside_strings(text, |i, b| match b {
        b'{' | b'[' => boundaries.push(i + 1),
        b',' => boundaries.push(i),
        _ => {}
    });
    Scan { boundaries }
}

/// Closes an open string (dropping a dangling escape) and the open containers of `prefix`,
/// then parses it.
fn try_close(prefix: &str) -> Option<Value> {
    let mut stack = Vec::new();
    let StringState { in_string, escaped } = walk_outside_strings(prefix, |_, b| match b {
        b'{' => stack.push(b'}'),
        b'[' => stack.push(b']'),
        b'}' | b']' => {
            stack.pop();
        }
        _ => {}
    });
    let mut closed = String::with_capacity(prefix.len() + stack.len() + 2);
    closed.push_str(prefix);
    if in_string {
        if escaped {
            closed.pop();
        }
        closed.push('"');
    }
    let trimmed = closed.trim_end().len();
    closed.truncate(trimmed);
    while closed.ends_with(',') {
        closed.pop();
    }
    while let Some(c) = stack.pop() {
        closed.push(c as char);
    }
    serde_json::from_str(&closed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn complete_and_empty() {
        assert_eq!(parse_partial(""), json!({}));
        assert_eq!(parse_partial(r#"{"a":1}"#), json!({"a": 1}));
    }

    #[test]
    fn closes_strings_and_containers() {
        assert_eq!(parse_partial(r#"{"city": "Par"#), json!({"city": "Par"}));
        assert_eq!(parse_partial(r#"{"a": [1, 2"#), json!({"a": [1, 2]}));
        assert_eq!(
            parse_partial(r#"{"a": {"b": "x\"#),
            json!({"a": {"b": "x"}})
        );
        assert_eq!(parse_partial(r#"{"a": 1,"#), json!({"a": 1}));
    }

    #[test]
    fn drops_dangling_members() {
        assert_eq!(parse_partial(r#"{"a": 1, "b"#), json!({"a": 1}));
        assert_eq!(parse_partial(r#"{"a": 1, "b":"#), json!({"a": 1}));
        assert_eq!(parse_partial(r#"{"a": 1, "b": tr"#), json!({"a": 1}));
        assert_eq!(parse_partial(r#"{"a": tr"#), json!({}));
        assert_eq!(parse_partial(r#"{"#), json!({}));
        assert_eq!(parse_partial("nonsense"), json!({}));
    }

    #[test]
    fn every_prefix_parses_to_an_object() {
        let full =
            r#"{"path": "/tmp/a \"b\"", "lines": [1, 2.5, -3], "opts": {"deep": true, "n": null}}"#;
        for end in 0..=full.len() {
            if !full.is_char_boundary(end) {
                continue;
            }
            assert!(
                parse_partial(&full[..end]).is_object(),
                "prefix {:?}",
                &full[..end]
            );
        }
        assert_eq!(parse_final(full).ok(), serde_json::from_str(full).ok());
    }

    #[test]
    fn final_parse_keeps_invalid_text() {
        assert_eq!(parse_final(""), Ok(json!({})));
        assert_eq!(parse_final(r#"{"a": "#), Err(r#"{"a": "#.to_owned()));
    }
}
