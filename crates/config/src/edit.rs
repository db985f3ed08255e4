//! Comment-preserving edits of the configuration file (`config get/set/unset`).
//!
//! Edits go through jsonc-parser's concrete syntax tree, so comments, key order, quoting and
//! layout of everything not edited stay as they were. Every edit is validated as a whole
//! typed configuration before it is accepted; a refused edit changes nothing.
//!
//! Writes are serialised by a lock (see `file.rs`): [`ConfigDocument::edit`] holds it from the
//! read to the write; [`ConfigDocument::save`] takes it and, when another process changed the
//! file since [`ConfigDocument::load`], applies this document's edits again to the file as it
//! is now, so no acknowledged edit of either process is lost.

use std::path::{Path, PathBuf};

use jsonc_parser::cst::{
    CstArray, CstContainerNode, CstInputValue, CstLeafNode, CstNode, CstObject, CstObjectProp,
    CstRootNode, ObjectPropName,
};
use serde_json::Value;

use crate::parse::{self, parse_options, syntax_error};
use crate::path::{KeyPath, Segment};
use crate::types::Config;
use crate::{Error, file};

/// How [`ConfigDocument::set`] reads the value text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValueMode {
    /// Parse as JSON5 (`true`, `3600`, `["anthropic"]`, `{a: 1}`); if that fails, use the text
    /// as a plain string (`us-east-1`). What `openclaw config set` does by default.
    #[default]
    Json5WithStringFallback,
    /// The text must be a JSON5 value (`--strict-json`).
    StrictJson,
}

/// A configuration file's text, edited in place.
#[derive(Clone, Debug)]
pub struct ConfigDocument {
    path: Option<PathBuf>,
    /// The text as read from `path` (empty for a missing file), before any edit.
    base: String,
    text: String,
    value: Value,
    /// The accepted edits, in order, to apply again when the file changed before the save.
    edits: Vec<Edit>,
}

/// One accepted edit.
#[derive(Clone, Debug)]
enum Edit {
    Set(String, Value),
    Unset(String),
}

const TEXT_NAME: &str = "<text>";

impl ConfigDocument {
    /// Reads a file. A missing file is an empty document. The text must be JSON5; it need not
    /// be a valid configuration (so that a broken file can be repaired by edits), see
    /// [`ConfigDocument::config`].
    ///
    /// A file larger than [`crate::MAX_CONFIG_BYTES`] or that is not a regular file is
    /// refused.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = file::read_text(path)?.unwrap_or_default();
        Self::from_file_text(path, text)
    }

    fn from_file_text(path: &Path, text: String) -> Result<Self, Error> {
        let value = parse::parse(&text, &path.display().to_string())?.value;
        Ok(ConfigDocument {
            path: Some(path.to_path_buf()),
            base: text.clone(),
            text,
            value,
            edits: Vec::new(),
        })
    }

    /// Edits the file at `path` under its write lock: reads it, runs `edit` on the document
    /// and, when `edit` succeeds and changed something, writes the result atomically, all
    /// before another process may edit the file. When `edit` fails nothing is written.
    ///
    /// Waits at most [`crate::LOCK_TIMEOUT`] for another process's edit to finish. Refuses to
    /// replace a read-only file, a file of another user or a dangling symlink.
    ///
    /// ```
    /// use openclaw_config::{ConfigDocument, ValueMode};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("openclaw.json");
    /// ConfigDocument::edit(&path, |doc| {
    ///     doc.set("gateway.port", "18790", ValueMode::Json5WithStringFallback)
    /// })?;
    /// assert!(std::fs::read_to_string(&path)?.contains("18790"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn edit<T, E: From<Error>>(
        path: impl AsRef<Path>,
        edit: impl FnOnce(&mut ConfigDocument) -> Result<T, E>,
    ) -> Result<T, E> {
        let path = path.as_ref();
        let lock = file::lock(path, file::LOCK_TIMEOUT)?;
        let mut doc = Self::load(path)?;
        let out = edit(&mut doc)?;
        if !doc.edits.is_empty() {
            file::write_locked(&lock, &doc.text)?;
            doc.base = doc.text.clone();
            doc.edits.clear();
        }
        Ok(out)
    }

    /// A document over a text that is not tied to a file ([`ConfigDocument::save`] then fails;
    /// use [`ConfigDocument::save_to`]).
    pub fn from_text(text: impl Into<String>) -> Result<Self, Error> {
        let text = text.into();
        let value = parse::parse(&text, TEXT_NAME)?.value;
        Ok(ConfigDocument {
            path: None,
            base: text.clone(),
            text,
            value,
            edits: Vec::new(),
        })
    }

    /// The file this document was loaded from.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The current text, with every edit applied.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn file_name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| TEXT_NAME.to_string(), |p| p.display().to_string())
    }

    /// The typed, validated configuration of the current text.
    pub fn config(&self) -> Result<Config, Error> {
        parse::load(&self.text, &self.file_name())
    }

    /// The value at a key path, or `None` when nothing is there.
    /// A key of the discovery settings is read where the document keeps them (see
    /// [`ConfigDocument::edit_paths`]).
    pub fn get(&self, path: &str) -> Result<Option<Value>, Error> {
        let path: KeyPath = path.parse()?;
        Ok(self
            .targets(&path, true)
            .iter()
            .find_map(|target| self.get_at(target))
            .cloned())
    }

    fn get_at(&self, path: &KeyPath) -> Option<&Value> {
        let mut current = &self.value;
        for segment in path.segments() {
            let next = match (segment, current) {
                (Segment::Key(key), Value::Object(map)) => map.get(key),
                (Segment::Key(key), Value::Array(items)) => {
                    key.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                (Segment::Index(i), Value::Array(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(next) => current = next,
                None => return None,
            }
        }
        Some(current)
    }

    /// Sets the value at a key path from its text, creating missing parent objects.
    ///
    /// The edited text must be a valid configuration, otherwise the edit is refused with the
    /// validation error and the document is unchanged.
    pub fn set(&mut self, path: &str, raw_value: &str, mode: ValueMode) -> Result<(), Error> {
        let value = match parse::parse(raw_value, "<value>") {
            Ok(parsed) if !raw_value.trim().is_empty() => parsed.value,
            Ok(_) | Err(_) if mode == ValueMode::Json5WithStringFallback => {
                Value::String(raw_value.to_string())
            }
            Ok(_) => {
                return Err(Error::InvalidValue {
                    path: path.to_string(),
                    message: "the value is empty".to_string(),
                });
            }
            Err(err) => {
                let message = match err {
                    Error::Syntax { message, .. } => message,
                    other => other.to_string(),
                };
                return Err(Error::InvalidValue {
                    path: path.to_string(),
                    message,
                });
            }
        };
        self.set_value(path, value)
    }

    /// Sets the value at a key path, creating missing parent objects. Validated like
    /// [`ConfigDocument::set`].
    pub fn set_value(&mut self, path: &str, value: Value) -> Result<(), Error> {
        let key_path: KeyPath = path.parse()?;
        check_model_key_not_split(&key_path, path)?;
        let root = self.cst()?;
        let unquoted = prefers_unquoted_keys(&root);
        for target in self.targets(&key_path, false) {
            set_in(&root, &target, &to_input(&value), path, unquoted)?;
        }
        self.commit(root)?;
        self.edits.push(Edit::Set(path.to_string(), value));
        Ok(())
    }

    /// Where an edit of `path` goes in this document (see [`ConfigDocument::set`]): a key inside
    /// `models.bedrockDiscovery` goes to `plugins.entries.amazon-bedrock.config.discovery` when
    /// the document keeps its discovery settings only there, and the other way round; when the
    /// document has both blocks, to both, so they never disagree (a file that configures
    /// discovery in two places that differ is refused). A path naming a block itself is not
    /// routed.
    pub fn edit_paths(&self, path: &str) -> Result<Vec<String>, Error> {
        let key_path: KeyPath = path.parse()?;
        Ok(self
            .targets(&key_path, false)
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// The paths an edit (or, `reading`, a read) of `path` acts on (see
    /// [`ConfigDocument::edit_paths`]); a read of a block itself is routed too.
    fn targets(&self, path: &KeyPath, reading: bool) -> Vec<KeyPath> {
        let models = KeyPath::root().key("models").key("bedrockDiscovery");
        let plugin = parse::plugin_discovery_path();
        let segments = path.segments();
        let rest = [&models, &plugin].into_iter().find_map(|block| {
            segments
                .starts_with(block.segments())
                .then(|| &segments[block.segments().len()..])
        });
        // An edit of a path that names a block itself acts on that block (moving the settings
        // from one place to the other stays possible); only keys inside a block are routed.
        let Some(rest) = rest.filter(|rest| reading || !rest.is_empty()) else {
            return vec![path.clone()];
        };
        let at = |block: &KeyPath| {
            let mut target = block.clone();
            for segment in rest {
                target.push(segment.clone());
            }
            target
        };
        let has = |block: &KeyPath| self.get_at(block).is_some();
        match (has(&models), has(&plugin)) {
            (true, true) => vec![at(&models), at(&plugin)],
            (true, false) => vec![at(&models)],
            (false, true) => vec![at(&plugin)],
            (false, false) => vec![path.clone()],
        }
    }

    /// Removes the value at a key path. Returns whether something was removed (removing a
    /// missing key is not an error). Validated like [`ConfigDocument::set`].
    pub fn unset(&mut self, path: &str) -> Result<bool, Error> {
        let key_path: KeyPath = path.parse()?;
        if key_path.is_root() {
            return Err(edit_error(path, "the path is empty"));
        }
        let root = self.cst()?;
        let mut removed = false;
        for target in self.targets(&key_path, false) {
            removed |= unset_in(&root, &target);
        }
        if removed {
            self.commit(root)?;
            self.edits.push(Edit::Unset(path.to_string()));
        }
        Ok(removed)
    }

    /// Writes the edits back to the file the document was loaded from, atomically and under
    /// the file's write lock (see [`ConfigDocument::save_to`]).
    ///
    /// When another process changed the file since [`ConfigDocument::load`], this document's
    /// edits are applied again, in order, to the file as it is now (and validated again), so
    /// both processes' edits are kept; the document then holds the text written. Prefer
    /// [`ConfigDocument::edit`], which holds the lock from the read on.
    pub fn save(&mut self) -> Result<(), Error> {
        let Some(path) = self.path.clone() else {
            return Err(Error::Edit {
                path: String::new(),
                reason: "the document was not loaded from a file; use save_to".to_string(),
            });
        };
        let lock = file::lock(&path, file::LOCK_TIMEOUT)?;
        let now = file::read_text(&path)?.unwrap_or_default();
        if now != self.base {
            let mut fresh = Self::from_file_text(&path, now)?;
            for edit in &self.edits {
                match edit {
                    Edit::Set(key, value) => fresh.set_value(key, value.clone())?,
                    Edit::Unset(key) => {
                        fresh.unset(key)?;
                    }
                }
            }
            *self = fresh;
        }
        file::write_locked(&lock, &self.text)?;
        self.base = self.text.clone();
        self.edits.clear();
        Ok(())
    }

    /// Writes the text to `path` atomically, under its write lock: a temporary file (mode
    /// 0600) in the same directory, fsync, rename. An existing file keeps its permissions; a
    /// new file is created with mode 0600 (and its directory with 0700). Refuses to replace a
    /// read-only file, a file of another user or a dangling symlink.
    pub fn save_to(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        file::atomic_write(path.as_ref(), &self.text)
    }

    fn cst(&self) -> Result<CstRootNode, Error> {
        CstRootNode::parse(&self.text, &parse_options())
            .map_err(|e| syntax_error(&e, &self.text, &self.file_name()))
    }

    /// Validates the edited tree and, only if valid, makes it the document's text.
    fn commit(&mut self, root: CstRootNode) -> Result<(), Error> {
        let mut text = root.to_string();
        if self.text.trim().is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let file = self.file_name();
        let parsed = parse::parse(&text, &file)?;
        parse::validate(&parsed, &file).map_err(|err| self.located_before_the_edit(err))?;
        self.text = text;
        self.value = parsed.value;
        Ok(())
    }
}

/// Refuses a path under `agents.defaults.models` whose model reference was split at its dots
/// (`agents.defaults.models.amazon-bedrock/us.amazon.nova-pro-v1:0.alias`): as written it
/// would create nested objects that configure nothing. Model ids contain dots, so the key goes
/// in brackets, which this check never refuses. Unbracketed, the model key runs up to the
/// first key of a model entry (`alias`, `fallbacks`, `params`), or to the end when the path
/// names a whole entry; more than one segment there is a split.
fn check_model_key_not_split(key_path: &KeyPath, path: &str) -> Result<(), Error> {
    /// The keys of a model entry (ours, and OpenClaw's `params`).
    const ENTRY_KEYS: [&str; 3] = ["alias", "fallbacks", "params"];
    const MODELS: &str = "agents.defaults.models";
    let [Segment::Key(a), Segment::Key(d), Segment::Key(m), rest @ ..] = key_path.segments() else {
        return Ok(());
    };
    if (a.as_str(), d.as_str(), m.as_str()) != ("agents", "defaults", "models")
        || rest.is_empty()
        || !path.trim_start().starts_with(&format!("{MODELS}."))
    {
        return Ok(());
    }
    let id_len = rest
        .iter()
        .position(|s| matches!(s, Segment::Key(k) if ENTRY_KEYS.contains(&k.as_str())))
        .unwrap_or(rest.len());
    if id_len <= 1 {
        return Ok(());
    }
    let mut whole = Vec::new();
    for part in &rest[..id_len] {
        match part {
            Segment::Key(k) => whole.push(k.as_str()),
            // An index inside what would be a model id: not a split id, let the edit explain.
            Segment::Index(_) => return Ok(()),
        }
    }
    let whole = whole.join(".");
    let tail = KeyPath::from(rest[id_len..].to_vec()).to_string();
    let tail = if tail.is_empty() || tail.starts_with('[') {
        tail
    } else {
        format!(".{tail}")
    };
    Err(edit_error(
        path,
        &format!(
            "model ids contain dots, so this path splits `{whole}` into nested keys; put the model in brackets: {MODELS}[\"{whole}\"]{tail}"
        ),
    ))
}

/// Sets `key_path` to `input` in the tree, creating missing parent objects (`path`, the path
/// as the user wrote it, names errors).
fn set_in(
    root: &CstRootNode,
    key_path: &KeyPath,
    input: &CstInputValue,
    path: &str,
    unquoted: bool,
) -> Result<(), Error> {
    let input = input.clone();
    let Some((last, parents)) = key_path.segments().split_last() else {
        return Err(edit_error(path, "the path is empty"));
    };
    let mut container = root_container(root, path)?;
    let mut walked = KeyPath::root();
    for (i, segment) in parents.iter().enumerate() {
        let next_is_index = matches!(key_path.segments().get(i + 1), Some(Segment::Index(_)));
        container = child_container(&container, segment, &walked, path, next_is_index, unquoted)?;
        walked.push(segment.clone());
    }
    match (&container, last) {
        (Container::Object(object), Segment::Key(key)) => {
            let prop = match object.get(key) {
                Some(prop) => {
                    prop.set_value(input);
                    prop
                }
                None => {
                    let prop = object.append(key, input);
                    match_key_style(&prop, unquoted);
                    prop
                }
            };
            if let Some(value) = prop.value() {
                match_nested_key_style(&value, unquoted);
            }
        }
        (Container::Array(array), segment) => {
            let index = array_index(segment, &walked, path)?;
            let elements = array.elements();
            if index < elements.len() {
                replace_node(&elements[index], input.clone());
            } else if index == elements.len() {
                let had_comma = elements.last().map(|e| e.trailing_comma().is_some());
                let appended = array.append(input);
                if let (Some(previous), Some(had_comma)) = (elements.last(), had_comma) {
                    align_appended(previous, had_comma, &appended);
                }
            } else {
                return Err(edit_error(
                    path,
                    &format!(
                        "index {index} is out of range (`{walked}` has {} elements)",
                        elements.len()
                    ),
                ));
            }
            if let Some(node) = array.elements().get(index) {
                match_nested_key_style(node, unquoted);
            }
        }
        (Container::Object(_), Segment::Index(_)) => {
            return Err(edit_error(
                path,
                &format!("`{}` is an object, not an array", display_or_root(&walked)),
            ));
        }
    }
    Ok(())
}

/// Removes `key_path` from the tree; whether something was there.
fn unset_in(root: &CstRootNode, key_path: &KeyPath) -> bool {
    let Some((last, parents)) = key_path.segments().split_last() else {
        return false;
    };
    let Some(mut node) = root.value() else {
        return false;
    };
    for segment in parents {
        match child_node(&node, segment) {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (node.as_object(), node.as_array(), last) {
        (Some(object), _, Segment::Key(key)) => match object.get(key) {
            Some(prop) => {
                prop.remove();
                true
            }
            None => false,
        },
        (_, Some(array), segment) => {
            let index = match segment {
                Segment::Index(i) => Some(*i),
                Segment::Key(k) => k.parse().ok(),
            };
            match index.and_then(|i| array.elements().into_iter().nth(i)) {
                Some(element) => {
                    element.remove();
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

impl ConfigDocument {
    /// A validation error of an edited text, placed in the text before the edit: the same
    /// problem there keeps its position in it (an edit may move lines); a problem the edit
    /// brought in (its own key or value) has no position in the file, only its key path.
    fn located_before_the_edit(&self, err: Error) -> Error {
        let Error::Invalid(mut found) = err else {
            return err;
        };
        let file = self.file_name();
        let before = parse::parse(&self.text, &file)
            .and_then(|parsed| parse::validate(&parsed, &file))
            .err();
        match before {
            // The message (the value found, the suggestion) is the edited text's; the position
            // is the file's.
            Some(Error::Invalid(was)) if was.key_path == found.key_path => {
                found.line = was.line;
                found.column = was.column;
                Error::Invalid(found)
            }
            _ => {
                found.line = 0;
                found.column = 0;
                Error::Invalid(found)
            }
        }
    }
}

enum Container {
    Object(CstObject),
    Array(CstArray),
}

fn edit_error(path: &str, reason: &str) -> Error {
    Error::Edit {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

fn display_or_root(path: &KeyPath) -> String {
    if path.is_root() {
        "the document".to_string()
    } else {
        path.to_string()
    }
}

fn kind_of(node: &CstNode) -> &'static str {
    match node {
        CstNode::Container(CstContainerNode::Object(_)) => "an object",
        CstNode::Container(CstContainerNode::Array(_)) => "an array",
        CstNode::Leaf(CstLeafNode::StringLit(_)) => "a string",
        CstNode::Leaf(CstLeafNode::NumberLit(_)) => "a number",
        CstNode::Leaf(CstLeafNode::BooleanLit(_)) => "a boolean",
        CstNode::Leaf(CstLeafNode::NullKeyword(_)) => "null",
        _ => "not a value",
    }
}

fn root_container(root: &CstRootNode, path: &str) -> Result<Container, Error> {
    match root.value() {
        None => Ok(Container::Object(root.object_value_or_set())),
        Some(node) => match (node.as_object(), node.as_array()) {
            (Some(object), _) => Ok(Container::Object(object)),
            (_, Some(array)) => Ok(Container::Array(array)),
            _ => Err(edit_error(
                path,
                &format!("the document is {}, not an object", kind_of(&node)),
            )),
        },
    }
}

fn array_index(segment: &Segment, walked: &KeyPath, path: &str) -> Result<usize, Error> {
    match segment {
        Segment::Index(i) => Ok(*i),
        Segment::Key(key) => key.parse().map_err(|_| {
            edit_error(
                path,
                &format!("`{}` is an array, not an object", display_or_root(walked)),
            )
        }),
    }
}

fn container_of(node: &CstNode) -> Option<Container> {
    node.as_object()
        .map(Container::Object)
        .or_else(|| node.as_array().map(Container::Array))
}

/// The object or array at `segment` under `container`, created (empty) when missing.
fn child_container(
    container: &Container,
    segment: &Segment,
    walked: &KeyPath,
    path: &str,
    next_is_index: bool,
    unquoted: bool,
) -> Result<Container, Error> {
    let here = {
        let mut p = walked.clone();
        p.push(segment.clone());
        p
    };
    let empty = || {
        if next_is_index {
            CstInputValue::Array(Vec::new())
        } else {
            CstInputValue::Object(Vec::new())
        }
    };
    let not_container = |node: &CstNode| {
        edit_error(
            path,
            &format!("`{here}` is {}, not an object or array", kind_of(node)),
        )
    };
    match (container, segment) {
        (Container::Object(object), Segment::Key(key)) => match object.get(key) {
            Some(prop) => match prop.value() {
                Some(node) => container_of(&node).ok_or_else(|| not_container(&node)),
                None => Err(edit_error(path, &format!("`{here}` has no value"))),
            },
            None => {
                let prop = object.append(key, empty());
                match_key_style(&prop, unquoted);
                prop.value()
                    .as_ref()
                    .and_then(container_of)
                    .ok_or_else(|| edit_error(path, "cannot create a parent object"))
            }
        },
        (Container::Object(_), Segment::Index(_)) => Err(edit_error(
            path,
            &format!("`{}` is an object, not an array", display_or_root(walked)),
        )),
        (Container::Array(array), segment) => {
            let index = array_index(segment, walked, path)?;
            let elements = array.elements();
            if let Some(node) = elements.get(index) {
                container_of(node).ok_or_else(|| not_container(node))
            } else if index == elements.len() {
                let node = array.append(empty());
                container_of(&node).ok_or_else(|| edit_error(path, "cannot create a parent object"))
            } else {
                Err(edit_error(
                    path,
                    &format!(
                        "index {index} is out of range (`{}` has {} elements)",
                        display_or_root(walked),
                        elements.len()
                    ),
                ))
            }
        }
    }
}

/// The node at `segment` under `node`, without creating anything.
fn child_node(node: &CstNode, segment: &Segment) -> Option<CstNode> {
    if let Some(object) = node.as_object() {
        return match segment {
            Segment::Key(key) => object.get(key)?.value(),
            Segment::Index(_) => None,
        };
    }
    let array = node.as_array()?;
    let index = match segment {
        Segment::Index(i) => *i,
        Segment::Key(k) => k.parse().ok()?,
    };
    array.elements().into_iter().nth(index)
}

fn replace_node(node: &CstNode, input: CstInputValue) {
    match node.clone() {
        CstNode::Container(CstContainerNode::Object(n)) => drop(n.replace_with(input)),
        CstNode::Container(CstContainerNode::Array(n)) => drop(n.replace_with(input)),
        CstNode::Leaf(CstLeafNode::StringLit(n)) => drop(n.replace_with(input)),
        CstNode::Leaf(CstLeafNode::NumberLit(n)) => drop(n.replace_with(input)),
        CstNode::Leaf(CstLeafNode::BooleanLit(n)) => drop(n.replace_with(input)),
        CstNode::Leaf(CstLeafNode::NullKeyword(n)) => drop(n.replace_with(input)),
        CstNode::Leaf(CstLeafNode::WordLit(n)) => drop(n.replace_with(input)),
        _ => {}
    }
}

/// Re-indents an element jsonc-parser appended after `previous` so that it lines up with it.
///
/// jsonc-parser indents from the first element's column; when that element opens on the `[`
/// line (`models: [{` ... `}]`) the new element comes out several levels too deep. Its lines
/// are moved to the indentation of the line where `previous` ends (its closing bracket, or its
/// own line), keeping their relative indentation. The appended element is not followed by a
/// trailing comma when `previous` was not (`}]`, not `},]`).
fn align_appended(previous: &CstNode, previous_had_comma: bool, appended: &CstNode) {
    let closing = match previous {
        CstNode::Container(container) => container
            .children()
            .last()
            .filter(|c| matches!(c.token_char(), Some('}' | ']')))
            .and_then(|c| c.indent_text()),
        CstNode::Leaf(_) => None,
    };
    let Some(target) = closing.or_else(|| previous.indent_text()) else {
        return;
    };
    if let Some(current) = appended.indent_text()
        && current != target
    {
        reindent(appended, &current, &target);
        // The whitespace in front of the element itself.
        if let Some(CstNode::Leaf(CstLeafNode::Whitespace(ws))) = appended.previous_sibling() {
            ws.set_value(target.clone());
        }
    }
    if !previous_had_comma && let Some(comma) = appended.trailing_comma() {
        comma.remove();
    }
}

/// Replaces the `from` prefix of every line-leading whitespace inside `node` by `to`.
fn reindent(node: &CstNode, from: &str, to: &str) {
    let CstNode::Container(container) = node else {
        return;
    };
    let mut after_newline = false;
    for child in container.children() {
        match &child {
            CstNode::Leaf(CstLeafNode::Whitespace(ws)) if after_newline => {
                let value = ws.value();
                if let Some(rest) = value.strip_prefix(from) {
                    ws.set_value(format!("{to}{rest}"));
                }
            }
            CstNode::Container(_) => reindent(&child, from, to),
            _ => {}
        }
        after_newline = child.is_newline();
    }
}

fn to_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

/// Whether the file mostly writes keys without quotes (JSON5 style). A new or empty file is
/// written as plain JSON (quoted keys), readable by every JSON tool.
fn prefers_unquoted_keys(root: &CstRootNode) -> bool {
    fn count(node: &CstNode, words: &mut usize, strings: &mut usize) {
        if let Some(object) = node.as_object() {
            for prop in object.properties() {
                match prop.name() {
                    Some(ObjectPropName::Word(_)) => *words += 1,
                    Some(ObjectPropName::String(_)) => *strings += 1,
                    None => {}
                }
                if let Some(value) = prop.value() {
                    count(&value, words, strings);
                }
            }
        } else if let Some(array) = node.as_array() {
            for element in array.elements() {
                count(&element, words, strings);
            }
        }
    }
    let (mut words, mut strings) = (0, 0);
    if let Some(value) = root.value() {
        count(&value, &mut words, &mut strings);
    }
    words > strings
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// jsonc-parser writes new keys quoted; in a file that writes them bare, write ours bare too
/// (when the key is an identifier).
fn match_key_style(prop: &CstObjectProp, unquoted: bool) {
    if !unquoted {
        return;
    }
    if let (Some(ObjectPropName::String(lit)), Some(name)) = (prop.name(), prop.decoded_name())
        && is_identifier(&name)
    {
        lit.set_raw_value(name);
    }
}

fn match_nested_key_style(node: &CstNode, unquoted: bool) {
    if !unquoted {
        return;
    }
    if let Some(object) = node.as_object() {
        for prop in object.properties() {
            match_key_style(&prop, unquoted);
            if let Some(value) = prop.value() {
                match_nested_key_style(&value, unquoted);
            }
        }
    } else if let Some(array) = node.as_array() {
        for element in array.elements() {
            match_nested_key_style(&element, unquoted);
        }
    }
}
