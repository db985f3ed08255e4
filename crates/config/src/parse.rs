//! JSON5 text → `serde_json::Value` with positions → typed, validated [`Config`].
//!
//! jsonc-parser's AST gives byte ranges for every key and value; we keep them in a map from
//! key path to position, deserialize with `serde_path_to_error` to learn *where* serde failed,
//! and look the path up. serde's error texts have fixed shapes (`invalid type: X, expected Y`,
//! `unknown field `x`, expected one of ...`), so we reword them into our
//! "expected ..., found ..." style and add "did you mean" suggestions.

use std::collections::HashMap;

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions};
use serde_json::Value;

use crate::Error;
use crate::error::Diagnostic;
use crate::model_ref::ModelRef;
use crate::path::{KeyPath, Segment};
use crate::types::{BedrockDiscoveryConfig, Config};

/// The JSON5 dialect we accept: comments, unquoted keys, single-quoted strings, trailing
/// commas, hexadecimal and `+`/`.5` numbers, JSON5 escapes. Not accepted: `NaN`/`Infinity`
/// (no configuration value needs them and JSON cannot hold them) and missing commas (not JSON5).
pub(crate) fn parse_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: true,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: true,
        allow_hexadecimal_numbers: true,
        allow_unary_plus_numbers: true,
        allow_bare_decimal_point_numbers: true,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: true,
    }
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LineCol {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// Where a key path sits in the text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Position {
    /// The key of an object property (`None` for array elements and the root).
    pub(crate) key: Option<LineCol>,
    /// The value.
    pub(crate) value: LineCol,
}

/// A parsed text: its value and the position of every key path in it.
pub(crate) struct Parsed {
    pub(crate) value: Value,
    pub(crate) positions: HashMap<KeyPath, Position>,
}

struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn at(&self, offset: usize) -> LineCol {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        LineCol { line, column }
    }
}

/// Parses JSON5 text. An empty (or comment-only) text is an empty object.
pub(crate) fn parse(text: &str, file: &str) -> Result<Parsed, Error> {
    let result = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &parse_options())
        .map_err(|e| syntax_error(&e, text, file))?;
    let index = LineIndex::new(text);
    let mut positions = HashMap::new();
    let value = match &result.value {
        None => Value::Object(serde_json::Map::new()),
        Some(value) => {
            let root = KeyPath::root();
            positions.insert(
                root.clone(),
                Position {
                    key: None,
                    value: index.at(range_start(value)),
                },
            );
            convert(value, &root, &index, &mut positions, file)?
        }
    };
    Ok(Parsed { value, positions })
}

pub(crate) fn syntax_error(e: &jsonc_parser::errors::ParseError, text: &str, file: &str) -> Error {
    // JSON5 allows `Infinity` and `NaN`; we do not (see `parse_options`), so say so rather than
    // the parser's "unexpected word".
    let at = text.get(e.range().start..).unwrap_or_default();
    let word = at.trim_start_matches(['+', '-']);
    let message = if word.starts_with("Infinity") || word.starts_with("NaN") {
        let shown: String = at
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']'))
            .collect();
        format!("`{shown}` is not supported here: expected a finite number")
    } else {
        lowercase_first(&e.kind().to_string())
    };
    Error::Syntax {
        file: file.to_string(),
        line: e.line_display(),
        column: e.column_display(),
        message,
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn range_start(value: &ast::Value<'_>) -> usize {
    match value {
        ast::Value::StringLit(v) => v.range.start,
        ast::Value::NumberLit(v) => v.range.start,
        ast::Value::BooleanLit(v) => v.range.start,
        ast::Value::Object(v) => v.range.start,
        ast::Value::Array(v) => v.range.start,
        ast::Value::NullKeyword(v) => v.range.start,
    }
}

fn convert(
    value: &ast::Value<'_>,
    path: &KeyPath,
    index: &LineIndex<'_>,
    positions: &mut HashMap<KeyPath, Position>,
    file: &str,
) -> Result<Value, Error> {
    Ok(match value {
        ast::Value::StringLit(s) => Value::String(s.value.to_string()),
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::NumberLit(n) => match number(n.value) {
            Some(number) => Value::Number(number),
            None => {
                let at = index.at(n.range.start);
                return Err(Error::Syntax {
                    file: file.to_string(),
                    line: at.line,
                    column: at.column,
                    message: format!("number `{}` is out of range", n.value),
                });
            }
        },
        ast::Value::Array(array) => {
            let mut out = Vec::with_capacity(array.elements.len());
            for (i, element) in array.elements.iter().enumerate() {
                let child = path.index(i);
                positions.insert(
                    child.clone(),
                    Position {
                        key: None,
                        value: index.at(range_start(element)),
                    },
                );
                out.push(convert(element, &child, index, positions, file)?);
            }
            Value::Array(out)
        }
        ast::Value::Object(object) => {
            let mut out = serde_json::Map::new();
            for prop in &object.properties {
                let name = prop.name.as_str().to_string();
                let child = path.key(name.clone());
                positions.insert(
                    child.clone(),
                    Position {
                        key: Some(index.at(prop.range.start)),
                        value: index.at(range_start(&prop.value)),
                    },
                );
                let converted = convert(&prop.value, &child, index, positions, file)?;
                out.insert(name, converted);
            }
            Value::Object(out)
        }
    })
}

/// A JSON5 number literal as a JSON number: decimal, `+`-prefixed, `.5`, `5.` and hexadecimal.
pub(crate) fn number(raw: &str) -> Option<serde_json::Number> {
    let (negative, unsigned) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        let magnitude = u64::from_str_radix(hex, 16).ok()?;
        return if negative {
            i64::try_from(magnitude)
                .ok()
                .map(|m| serde_json::Number::from(-m))
        } else {
            Some(serde_json::Number::from(magnitude))
        };
    }
    let is_integer = unsigned.bytes().all(|b| b.is_ascii_digit()) && !unsigned.is_empty();
    if is_integer {
        if negative {
            if let Ok(n) = format!("-{unsigned}").parse::<i64>() {
                return Some(n.into());
            }
        } else if let Ok(n) = unsigned.parse::<u64>() {
            return Some(n.into());
        }
    }
    let float: f64 = unsigned.parse().ok()?;
    serde_json::Number::from_f64(if negative { -float } else { float })
}

/// Parses and validates a configuration text.
pub(crate) fn load(text: &str, file: &str) -> Result<Config, Error> {
    let parsed = parse(text, file)?;
    validate(&parsed, file)
}

/// Deserializes and checks a parsed text.
pub(crate) fn validate(parsed: &Parsed, file: &str) -> Result<Config, Error> {
    check_arrays(&parsed.value, &mut KeyPath::root(), parsed, file)?;
    check_lenient_typos(parsed, file)?;
    let value = with_model_aliases_resolved(&parsed.value);
    let config: Config = match serde_path_to_error::deserialize(value.as_ref()) {
        Ok(config) => config,
        Err(err) => {
            let path = key_path_of(err.path());
            let message = err.into_inner().to_string();
            return Err(serde_diagnostic(parsed, file, path, &message));
        }
    };
    semantic_checks(&config, parsed, file)?;
    Ok(config)
}

/// The configuration with an alias of `agents.defaults.models` written where a model is named
/// in `agents.defaults.model` (the primary, or a fallback) replaced by its model, as OpenClaw
/// resolves it there: a name without `/`, trimmed, matched without regard to case. Anything
/// else is left for the typed model to check (a name without `/` that is no alias stays an
/// error). Positions are unchanged: errors are located in the text by key path.
fn with_model_aliases_resolved(value: &Value) -> std::borrow::Cow<'_, Value> {
    let defaults = &value["agents"]["defaults"];
    let Some(entries) = defaults["models"].as_object() else {
        return std::borrow::Cow::Borrowed(value);
    };
    let aliases: Vec<(String, String)> = entries
        .iter()
        .filter_map(|(key, entry)| {
            let alias = entry["alias"].as_str()?.trim().to_lowercase();
            let model = ModelRef::parse_or_default_provider(key).ok()?;
            (!alias.is_empty()).then(|| (alias, model.to_string()))
        })
        .collect();
    let target = |name: &Value| -> Option<Value> {
        let name = name.as_str()?.trim();
        if name.contains('/') {
            return None;
        }
        let name = name.to_lowercase();
        aliases
            .iter()
            .find(|(alias, _)| *alias == name)
            .map(|(_, model)| Value::String(model.clone()))
    };
    let model = &defaults["model"];
    let in_object = |key: &str| match &model[key] {
        Value::Array(items) => items.iter().any(|n| target(n).is_some()),
        other => target(other).is_some(),
    };
    if target(model).is_none() && !in_object("primary") && !in_object("fallbacks") {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut value = value.clone();
    let Some(model) = value.pointer_mut("/agents/defaults/model") else {
        return std::borrow::Cow::Owned(value);
    };
    if let Some(resolved) = target(model) {
        *model = resolved;
    } else if let Some(object) = model.as_object_mut() {
        if let Some(resolved) = object.get("primary").and_then(&target) {
            object.insert("primary".to_string(), resolved);
        }
        if let Some(Value::Array(items)) = object.get_mut("fallbacks") {
            for item in items {
                if let Some(resolved) = target(item) {
                    *item = resolved;
                }
            }
        }
    }
    std::borrow::Cow::Owned(value)
}

/// The objects of the typed model (`*`: any key, `#`: any array index). serde's derived
/// structs also accept an array (as a tuple of their fields), which a config file never means:
/// `models: []` must be an error, as the schema says.
const OBJECT_PATHS: &[&[&str]] = &[
    &[],
    &["models"],
    &["models", "providers"],
    &["models", "providers", "*"],
    &["models", "providers", "*", "models", "#"],
    &["models", "providers", "*", "models", "#", "cost"],
    &["models", "bedrockDiscovery"],
    &["agents"],
    &["agents", "defaults"],
    &["agents", "defaults", "model"],
    &["agents", "defaults", "models"],
    &["agents", "defaults", "models", "*"],
    &["plugins"],
    &["plugins", "entries"],
    &["plugins", "entries", "amazon-bedrock"],
    &["plugins", "entries", "amazon-bedrock", "config"],
    &[
        "plugins",
        "entries",
        "amazon-bedrock",
        "config",
        "discovery",
    ],
    &["gateway"],
    &["gateway", "auth"],
];

/// The lenient sections (unknown keys allowed) and the keys we model in each; a unit test
/// checks this table against the generated schema.
pub(crate) const LENIENT_SECTIONS: &[(&[&str], &[&str])] = &[
    (&[], &["$schema", "models", "agents", "plugins", "gateway"]),
    (&["models"], &["mode", "providers", "bedrockDiscovery"]),
    (&["agents"], &["defaults"]),
    (&["agents", "defaults"], &["model", "models"]),
    (&["plugins"], &["entries"]),
    (&["plugins", "entries"], &["amazon-bedrock"]),
    (
        &["plugins", "entries", "amazon-bedrock"],
        &["enabled", "config"],
    ),
    (
        &["plugins", "entries", "amazon-bedrock", "config"],
        &["discovery", "failover"],
    ),
    (
        &["gateway"],
        &[
            "port",
            "bind",
            "auth",
            "limits",
            "timeouts",
            "allowedHosts",
            "corsAllowOrigins",
            "readyAfterDiscovery",
            "workers",
        ],
    ),
];

/// Keys at least this long are also matched within two edits by [`check_lenient_typos`].
const LONG_KEY: usize = 12;

/// An unknown key of a lenient section is someone else's setting and is kept, except when it
/// is a likely misspelling of a key we model, which would otherwise be silently ignored: the
/// same key in another case (`bedrockdiscovery`), with two neighbouring letters swapped
/// (`modles`), or within two edits of a long key (`bedrockDiscvery`, `amazon_bedrock`). Short
/// keys match no other edit: OpenClaw has real keys one letter away from ours (the legacy root
/// `agent` beside `agents`).
/// `a` and `b` differ only by two neighbouring characters swapped (`models`, `modles`).
fn swapped_neighbours(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() != b.len() {
        return false;
    }
    let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    matches!(differ[..], [i, j] if j == i + 1 && a[i] == b[j] && a[j] == b[i])
}

fn check_lenient_typos(parsed: &Parsed, file: &str) -> Result<(), Error> {
    for (section, known) in LENIENT_SECTIONS {
        let path = section
            .iter()
            .fold(KeyPath::root(), |path, key| path.key(*key));
        let found = section
            .iter()
            .try_fold(&parsed.value, |value, key| value.get(*key));
        let Some(Value::Object(map)) = found else {
            continue;
        };
        for key in map.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let close = known.iter().find(|k| {
                k.eq_ignore_ascii_case(key)
                    || swapped_neighbours(k, key)
                    || (k.len() >= LONG_KEY && strsim::damerau_levenshtein(k, key) <= 2)
            });
            if let Some(close) = close {
                let message = if close.eq_ignore_ascii_case(key) {
                    format!("unknown key `{key}` (keys are case-sensitive)")
                } else {
                    format!("unknown key `{key}` (as written it would be ignored)")
                };
                return Err(diagnostic(
                    parsed,
                    file,
                    &path.key(key.clone()),
                    true,
                    message,
                    Some((*close).to_string()),
                ));
            }
        }
    }
    Ok(())
}

fn expects_object(path: &KeyPath) -> bool {
    OBJECT_PATHS.iter().any(|pattern| {
        pattern.len() == path.segments().len()
            && pattern.iter().zip(path.segments()).all(|(p, s)| match s {
                Segment::Key(k) => *p == "*" || p == k,
                Segment::Index(_) => *p == "#",
            })
    })
}

fn check_arrays(
    value: &Value,
    path: &mut KeyPath,
    parsed: &Parsed,
    file: &str,
) -> Result<(), Error> {
    match value {
        Value::Array(items) => {
            if expects_object(path) {
                return Err(diagnostic(
                    parsed,
                    file,
                    path,
                    false,
                    "expected an object, found an array".to_string(),
                    None,
                ));
            }
            for (i, item) in items.iter().enumerate() {
                check_arrays(item, &mut path.index(i), parsed, file)?;
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                check_arrays(item, &mut path.key(key.clone()), parsed, file)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn key_path_of(path: &serde_path_to_error::Path) -> KeyPath {
    let mut out = KeyPath::root();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => out.push(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => {
                out.push(Segment::Key(variant.clone()))
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// The position of `path` (its key when `prefer_key`), else of its nearest ancestor in the text.
fn locate(parsed: &Parsed, path: &KeyPath, prefer_key: bool) -> LineCol {
    let mut current = Some(path.clone());
    while let Some(p) = current {
        if let Some(pos) = parsed.positions.get(&p) {
            return match (prefer_key, pos.key) {
                (true, Some(key)) => key,
                _ => pos.value,
            };
        }
        current = p.parent();
    }
    LineCol { line: 1, column: 1 }
}

fn diagnostic(
    parsed: &Parsed,
    file: &str,
    path: &KeyPath,
    prefer_key: bool,
    message: String,
    suggestion: Option<String>,
) -> Error {
    let at = locate(parsed, path, prefer_key);
    Error::Invalid(Box::new(Diagnostic {
        file: file.to_string(),
        line: at.line,
        column: at.column,
        key_path: path.to_string(),
        message,
        suggestion,
    }))
}

/// The backticked names in `expected one of `a`, `b`` / `expected `a``.
fn backticked(list: &str) -> Vec<String> {
    list.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// The closest known name to an unknown one, if close enough to be a likely typo.
pub(crate) fn suggest(unknown: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| {
            let score = if k.eq_ignore_ascii_case(unknown) {
                1.0
            } else {
                strsim::jaro_winkler(&unknown.to_lowercase(), &k.to_lowercase())
            };
            (score, k)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

fn reword_expected(expected: &str) -> String {
    match expected {
        "u16" => "an integer from 0 to 65535".to_string(),
        "u8" | "u32" | "u64" | "usize" => "a non-negative integer".to_string(),
        "i32" | "i64" => "an integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a sequence" => "an array".to_string(),
        "a map" => "an object".to_string(),
        other if other.starts_with("struct ") => "an object".to_string(),
        other => other.to_string(),
    }
}

fn reword_found(found: &str) -> String {
    let found = found.replace('`', "");
    match found.as_str() {
        "map" => "an object".to_string(),
        "sequence" => "an array".to_string(),
        "unit value" => "null".to_string(),
        _ => found.replace("floating point", "number"),
    }
}

fn is_secret_path(path: &KeyPath) -> bool {
    // A token written one level too high (`gateway: { auth: "<token>" }`) is a secret too.
    matches!(path.last(), Some(Segment::Key(k)) if k == "apiKey" || k == "token")
        || path.segments() == KeyPath::root().key("gateway").key("auth").segments()
}

fn serde_diagnostic(parsed: &Parsed, file: &str, path: KeyPath, message: &str) -> Error {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        // serde_path_to_error already records the unknown key as the last segment.
        let child = match path.last() {
            Some(Segment::Key(last)) if last == name => path.clone(),
            _ => path.key(name),
        };
        let expected_text = if known.is_empty() {
            "no keys are allowed here".to_string()
        } else {
            format!("expected one of {}", quote_list(&known))
        };
        let suggestion = suggest(name, &known);
        return diagnostic(
            parsed,
            file,
            &child,
            true,
            format!("unknown key `{name}` ({expected_text})"),
            suggestion,
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let suggestion = suggest(name, &known);
        return diagnostic(
            parsed,
            file,
            &path,
            false,
            format!("expected one of {}, found `{name}`", quote_list(&known)),
            suggestion,
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.trim_end_matches('`');
        let child = path.key(name);
        let at = locate(parsed, &path, false);
        return Error::Invalid(Box::new(Diagnostic {
            file: file.to_string(),
            line: at.line,
            column: at.column,
            key_path: child.to_string(),
            message: format!("missing required key `{name}`"),
            suggestion: None,
        }));
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            let expected = reword_expected(expected);
            let text = if is_secret_path(&path) {
                format!("expected {expected}")
            } else {
                format!("expected {expected}, found {}", reword_found(found))
            };
            return diagnostic(parsed, file, &path, false, text, None);
        }
    }
    // Our own messages (model references, bind addresses) are already worded for users.
    diagnostic(parsed, file, &path, false, message.to_string(), None)
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const DISCOVERY_MODELS: &str = "models.bedrockDiscovery";

pub(crate) fn plugin_discovery_path() -> KeyPath {
    KeyPath::root()
        .key("plugins")
        .key("entries")
        .key("amazon-bedrock")
        .key("config")
        .key("discovery")
}

/// Checks serde cannot express: non-empty ids, non-negative prices, positive limits, URLs,
/// and agreement of the two discovery blocks.
fn semantic_checks(config: &Config, parsed: &Parsed, file: &str) -> Result<(), Error> {
    let fail =
        |path: KeyPath, message: String| Err(diagnostic(parsed, file, &path, false, message, None));
    let providers = KeyPath::root().key("models").key("providers");
    for (id, provider) in &config.models.providers {
        let base = providers.key(id.clone());
        if id.trim().is_empty() {
            return fail(base, "expected a non-empty provider id".to_string());
        }
        if id.contains('/') {
            return fail(base, "provider ids may not contain `/` (it separates provider and model in model references)".to_string());
        }
        if let Some(url) = &provider.base_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
            let problem = match host {
                None => Some("expected a URL starting with http:// or https://"),
                Some(h) if h.is_empty() || h.starts_with(':') => {
                    Some("expected a host after http:// or https://")
                }
                Some(_) => None,
            };
            if let Some(problem) = problem {
                return fail(base.key("baseUrl"), format!("{problem}, found {url:?}"));
            }
        }
        if let Some(region) = &provider.region
            && region.trim().is_empty()
        {
            return fail(
                base.key("region"),
                "expected a non-empty AWS region".to_string(),
            );
        }
        for (i, model) in provider.models.iter().enumerate() {
            let at = base.key("models").index(i);
            if model.id.trim().is_empty() {
                return fail(at.key("id"), "expected a non-empty model id".to_string());
            }
            if model.name.trim().is_empty() {
                return fail(at.key("name"), "expected a non-empty name".to_string());
            }
            if model.input.is_empty() {
                return fail(
                    at.key("input"),
                    "expected at least one input modality (`text`, `image`)".to_string(),
                );
            }
            for (field, price) in [
                ("input", model.cost.input),
                ("output", model.cost.output),
                ("cacheRead", model.cost.cache_read),
                ("cacheWrite", model.cost.cache_write),
            ] {
                if price < 0.0 || price.is_nan() {
                    return fail(
                        at.key("cost").key(field),
                        format!(
                            "expected a non-negative price in USD per million tokens, found {price}"
                        ),
                    );
                }
            }
            if model.context_window == 0 {
                return fail(
                    at.key("contextWindow"),
                    "expected a positive integer, found 0".to_string(),
                );
            }
            if model.max_tokens == 0 {
                return fail(
                    at.key("maxTokens"),
                    "expected a positive integer, found 0".to_string(),
                );
            }
        }
    }
    check_model_aliases(config, parsed, file)?;
    let models_path: KeyPath = KeyPath::root().key("models").key("bedrockDiscovery");
    let plugin_path = plugin_discovery_path();
    for (block, path) in [
        (config.models.bedrock_discovery.as_ref(), &models_path),
        (config.plugin_discovery(), &plugin_path),
    ] {
        if let Some(block) = block {
            check_discovery(block, path, parsed, file)?;
        }
    }
    if let (Some(a), Some(b)) = (
        config.models.bedrock_discovery.as_ref(),
        config.plugin_discovery(),
    ) {
        let differing = discovery_differences(&a.normalized(), &b.normalized());
        if !differing.is_empty() {
            let first = locate(parsed, &models_path, true);
            return Err(diagnostic(
                parsed,
                file,
                &plugin_path,
                true,
                format!(
                    "conflicts with `{DISCOVERY_MODELS}` (line {}): both configure Bedrock discovery and they differ in {}; keep only one of them",
                    first.line,
                    quote_list(&differing)
                ),
                None,
            ));
        }
    }
    Ok(())
}

/// `agents.defaults.models`: keys are model references, aliases are non-empty and each names
/// one model.
fn check_model_aliases(config: &Config, parsed: &Parsed, file: &str) -> Result<(), Error> {
    let base = KeyPath::root().key("agents").key("defaults").key("models");
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (key, entry) in &config.agents.defaults.models {
        let at = base.key(key.clone());
        if let Err(err) = ModelRef::parse_or_default_provider(key) {
            let reason = match err {
                Error::InvalidModelRef { reason, .. } => reason.to_string(),
                other => other.to_string(),
            };
            return Err(diagnostic(
                parsed,
                file,
                &at,
                true,
                format!("expected a model reference `<provider>/<modelId>` as the key: {reason}"),
                None,
            ));
        }
        let Some(alias) = entry.alias.as_deref() else {
            continue;
        };
        let alias_at = at.key("alias");
        let alias = alias.trim();
        if alias.is_empty() {
            return Err(diagnostic(
                parsed,
                file,
                &alias_at,
                false,
                "expected a non-empty alias".to_string(),
                None,
            ));
        }
        // Aliases are matched without regard to case (`Config::alias_target`).
        if let Some((_, other)) = seen
            .iter()
            .find(|(a, _)| a.to_lowercase() == alias.to_lowercase())
        {
            // Reported at the later of the two in the file, naming the earlier.
            let other_at = base.key(other.to_string()).key("alias");
            let position = |path: &KeyPath| {
                let at = locate(parsed, path, false);
                (at.line, at.column)
            };
            let (here, there, there_key) = if position(&other_at) > position(&alias_at) {
                (&other_at, &alias_at, key.as_str())
            } else {
                (&alias_at, &other_at, *other)
            };
            let line = locate(parsed, there, false).line;
            return Err(diagnostic(
                parsed,
                file,
                here,
                false,
                format!(
                    "alias `{alias}` is also the alias of `{there_key}` (line {line}); expected each alias to name one model"
                ),
                None,
            ));
        }
        seen.push((alias, key));
    }
    Ok(())
}

fn check_discovery(
    block: &BedrockDiscoveryConfig,
    path: &KeyPath,
    parsed: &Parsed,
    file: &str,
) -> Result<(), Error> {
    let fail = |path: KeyPath, message: &str| {
        Err(diagnostic(
            parsed,
            file,
            &path,
            false,
            message.to_string(),
            None,
        ))
    };
    if block.region.as_ref().is_some_and(|r| r.trim().is_empty()) {
        return fail(path.key("region"), "expected a non-empty AWS region");
    }
    Ok(())
}

/// The camelCase names of the fields that differ between two discovery blocks.
fn discovery_differences(a: &BedrockDiscoveryConfig, b: &BedrockDiscoveryConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, differs: bool| {
        if differs {
            out.push(name.to_string());
        }
    };
    field("enabled", a.enabled != b.enabled);
    field("region", a.region != b.region);
    field("providerFilter", a.provider_filter != b.provider_filter);
    field("refreshInterval", a.refresh_interval != b.refresh_interval);
    field(
        "defaultContextWindow",
        a.default_context_window != b.default_context_window,
    );
    field(
        "defaultMaxTokens",
        a.default_max_tokens != b.default_max_tokens,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json5_numbers() {
        for (raw, json) in [
            ("42", "42"),
            ("-42", "-42"),
            ("+42", "42"),
            ("0x1F", "31"),
            ("-0x10", "-16"),
            (".5", "0.5"),
            ("5.", "5.0"),
            ("1e3", "1000.0"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            assert_eq!(
                number(raw).map(|n| n.to_string()).as_deref(),
                Some(json),
                "{raw}"
            );
        }
        assert_eq!(number("0xZZ"), None);
    }

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let parsed = parse("{\n  a: { b: [1, 'x'] },\n}", "f").unwrap();
        let b1: KeyPath = "a.b[1]".parse().unwrap();
        let pos = parsed.positions[&b1];
        assert_eq!(
            pos.value,
            LineCol {
                line: 2,
                column: 15
            }
        );
        let a: KeyPath = "a".parse().unwrap();
        assert_eq!(
            parsed.positions[&a].key,
            Some(LineCol { line: 2, column: 3 })
        );
    }

    #[test]
    fn suggestions_need_a_close_match() {
        let known = ["enabled".to_string(), "refreshInterval".to_string()];
        assert_eq!(
            suggest("refreshInteval", &known).as_deref(),
            Some("refreshInterval")
        );
        assert_eq!(suggest("Enabled", &known).as_deref(), Some("enabled"));
        assert_eq!(suggest("zzz", &known), None);
    }
}
