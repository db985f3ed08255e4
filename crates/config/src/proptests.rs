//! Property tests of the parser and the editor: arbitrary text never panics, an edit under a
//! lenient section round-trips and leaves the rest of the text as it was, a refused edit
//! leaves the file byte-identical.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;

/// A configuration with comments, both key styles and sections of every kind around the
/// edited one (`agents.defaults.x_0`).
const BASE: &str = r#"// OpenClaw configuration
{
  "$schema": "./openclaw.schema.json",
  models: {
    /* discovery */ bedrockDiscovery: { enabled: true, region: 'us-east-1' }, // trailing
  },
  agents: {
    defaults: {
      workspace: "~/work", // kept
      x_0: 1, // old value
    },
  },
  channels: { telegram: { enabled: false, } }, // not ours
}
"#;

/// Where the value of `x_0` starts and ends in [`BASE`].
fn old_value_span() -> (usize, usize) {
    let start = BASE.find("x_0: ").unwrap() + "x_0: ".len();
    (start, start + 1)
}

/// Any JSON value, bounded in depth and size. Floats are finite (JSON has no others).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Text that looks like JSON5 often enough to reach the typed checks.
fn json5ish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just(":".to_string()),
            Just(",".to_string()),
            Just("//c\n".to_string()),
            Just("/*c*/".to_string()),
            Just("models".to_string()),
            Just("bedrockDiscovery".to_string()),
            Just("providers".to_string()),
            Just("agents".to_string()),
            Just("defaults".to_string()),
            Just("gateway".to_string()),
            Just("\"refreshInterval\"".to_string()),
            Just("'x'".to_string()),
            Just("0x1F".to_string()),
            Just("-1e400".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            "[ a-z0-9\"'\\\\.\n]{0,6}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

/// A path under the lenient `agents.defaults` to a key not in [`BASE`]: a first key that
/// cannot be taken for a modelled one, then up to two keys of any text.
fn new_path() -> impl Strategy<Value = String> {
    (
        "new_[a-z0-9_]{1,8}",
        prop::collection::vec(any::<String>(), 0..3),
    )
        .prop_map(|(first, rest)| {
            let mut segments = vec![
                Segment::Key("agents".into()),
                Segment::Key("defaults".into()),
                Segment::Key(first),
            ];
            segments.extend(rest.into_iter().map(Segment::Key));
            KeyPath::from(segments).to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Config::from_text(&text);
        let _ = ConfigDocument::from_text(text);
    }

    #[test]
    fn json5_like_text_never_panics(text in json5ish()) {
        let _ = Config::from_text(&text);
        if let Ok(mut doc) = ConfigDocument::from_text(text.clone()) {
            let _ = doc.config();
            let _ = doc.get("models.bedrockDiscovery");
            // Whatever happens, a refused edit leaves the text as it was.
            if doc.set("agents.defaults.x_1", "2", ValueMode::StrictJson).is_err() {
                prop_assert_eq!(doc.text(), text.as_str());
            }
        }
    }

    #[test]
    fn any_json_in_a_modelled_section_never_panics(
        section in prop::sample::select(vec![
            "models", "models.bedrockDiscovery", "models.providers", "agents",
            "agents.defaults", "agents.defaults.model", "agents.defaults.models", "gateway",
            "gateway.auth", "plugins.entries.amazon-bedrock.config",
        ]),
        value in json_value(),
    ) {
        let mut doc = ConfigDocument::from_text("{}").unwrap();
        let before = doc.text().to_string();
        match doc.set_value(section, value.clone()) {
            // Accepted: the typed configuration loads and the value reads back.
            Ok(()) => {
                prop_assert!(doc.config().is_ok());
                prop_assert_eq!(doc.get(section).unwrap(), Some(value));
            }
            Err(_) => prop_assert_eq!(doc.text(), before.as_str()),
        }
    }

    #[test]
    fn key_paths_print_and_parse_back(
        segments in prop::collection::vec(
            prop_oneof![
                any::<String>().prop_map(Segment::Key),
                "[a-zA-Z_$-][a-zA-Z0-9_$-]{0,6}".prop_map(Segment::Key),
                (0usize..1000).prop_map(Segment::Index),
            ],
            1..5,
        ),
    ) {
        let path = KeyPath::from(segments);
        let text = path.to_string();
        let parsed: KeyPath = text.parse().map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(parsed, path, "{}", text);
    }

    #[test]
    fn arbitrary_paths_and_values_never_panic(
        path in "[a-zA-Z0-9_.\\[\\]'\"-]{0,24}",
        raw in any::<String>(),
        strict in any::<bool>(),
    ) {
        let mut doc = ConfigDocument::from_text(BASE).unwrap();
        let mode = if strict { ValueMode::StrictJson } else { ValueMode::Json5WithStringFallback };
        let _ = doc.get(&path);
        if doc.set(&path, &raw, mode).is_err() {
            prop_assert_eq!(doc.text(), BASE);
        }
        let before = doc.text().to_string();
        if doc.unset(&path).is_err() {
            prop_assert_eq!(doc.text(), before.as_str());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Replacing a value changes exactly the value's text.
    #[test]
    fn replacing_a_value_round_trips_and_changes_only_it(value in json_value()) {
        let mut doc = ConfigDocument::from_text(BASE).unwrap();
        doc.set_value("agents.defaults.x_0", value.clone()).unwrap();
        prop_assert_eq!(doc.get("agents.defaults.x_0").unwrap(), Some(value.clone()));
        let (start, end) = old_value_span();
        let text = doc.text();
        prop_assert!(text.starts_with(&BASE[..start]), "{}", text);
        prop_assert!(text.ends_with(&BASE[end..]), "{}", text);
        // The same through the text of the value, as `config set --strict-json` reads it.
        let mut doc = ConfigDocument::from_text(BASE).unwrap();
        doc.set("agents.defaults.x_0", &value.to_string(), ValueMode::StrictJson).unwrap();
        prop_assert_eq!(doc.get("agents.defaults.x_0").unwrap(), Some(value));
    }

    /// A new key lands inside its object; everything before the last property and after the
    /// object is byte-identical, every other value reads the same.
    #[test]
    fn adding_a_key_round_trips_and_keeps_the_rest(path in new_path(), value in json_value()) {
        let mut doc = ConfigDocument::from_text(BASE).unwrap();
        doc.set_value(&path, value.clone()).unwrap();
        prop_assert_eq!(doc.get(&path).unwrap(), Some(value));
        let text = doc.text();
        let keep_before = BASE.find("x_0: 1,").unwrap() + "x_0: 1,".len();
        let keep_after = BASE.find("\n  },\n  channels").unwrap();
        prop_assert!(text.starts_with(&BASE[..keep_before]), "{}", text);
        prop_assert!(text.ends_with(&BASE[keep_after..]), "{}", text);
        let before = ConfigDocument::from_text(BASE).unwrap();
        for other in ["$schema", "models", "agents.defaults.workspace", "agents.defaults.x_0", "channels"] {
            prop_assert_eq!(doc.get(other).unwrap(), before.get(other).unwrap());
        }
        // The edited text loads again as a valid configuration.
        prop_assert!(Config::from_text(text).is_ok());
    }

    /// A refused edit (here the last of several in one `edit`) writes nothing: the file stays
    /// byte-identical and no temporary file is left behind.
    #[test]
    fn a_refused_edit_leaves_the_file_byte_identical(
        value in json_value(),
        bad in prop_oneof![
            Just(("models.bedrockDiscovery.refreshInterval", "\"x\"")),
            Just(("models.bedrockDiscovery.enabled", "\"yes\"")),
            Just(("models.bedrockDiscovery.refreshInteval", "60")),
            Just(("gateway.port", "-1")),
            Just(("agents.defaults.workspace.deeper", "1")),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        std::fs::write(&path, BASE).unwrap();
        let result = ConfigDocument::edit(&path, |doc| {
            doc.set_value("agents.defaults.x_1", value.clone())?;
            doc.set(bad.0, bad.1, ValueMode::StrictJson)
        });
        prop_assert!(result.is_err());
        prop_assert_eq!(std::fs::read_to_string(&path).unwrap(), BASE);

        // The same with load, a refused set and a save.
        let mut doc = ConfigDocument::load(&path).unwrap();
        prop_assert!(doc.set(bad.0, bad.1, ValueMode::StrictJson).is_err());
        prop_assert_eq!(doc.text(), BASE);
        doc.save().unwrap();
        prop_assert_eq!(std::fs::read_to_string(&path).unwrap(), BASE);

        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        prop_assert!(leftovers.is_empty(), "{:?}", leftovers);
    }
}
