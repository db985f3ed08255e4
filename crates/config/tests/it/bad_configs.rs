use openclaw_config::{Config, Error};

/// (name, text, key path the error must name, line it must name, text the message must contain)
const CASES: &[(&str, &str, &str, usize, &str)] = &[
    (
        "syntax error",
        "{\n  models: {\n    bedrockDiscovery: { enabled: true,, }\n  }\n}",
        "",
        3,
        "syntax error",
    ),
    (
        "unterminated object",
        "{\n  models: {\n",
        "",
        2,
        "syntax error",
    ),
    (
        "wrong type: boolean as string",
        "{\n  models: {\n    bedrockDiscovery: {\n      enabled: \"yes\",\n    },\n  },\n}",
        "models.bedrockDiscovery.enabled",
        4,
        "expected a boolean, found string \"yes\"",
    ),
    (
        "unknown key with suggestion",
        "{\n  models: {\n    bedrockDiscovery: {\n      refreshInteval: 60,\n    },\n  },\n}",
        "models.bedrockDiscovery.refreshInteval",
        4,
        "did you mean `refreshInterval`?",
    ),
    (
        "unknown key in a model definition",
        "{ models: { providers: { p: { baseUrl: 'https://x.example', models: [\n  { id: 'a', name: 'A', contextWindw: 1 },\n] } } } }",
        "models.providers.p.models[0].contextWindw",
        2,
        "did you mean `contextWindow`?",
    ),
    (
        "unknown key without a close match",
        "{\n gateway: { auth: {\n  token: 't', banana: 1 } } }",
        "gateway.auth.banana",
        3,
        "unknown key `banana` (expected one of `token`)",
    ),
    (
        "bad model ref: no slash",
        "{\n  agents: { defaults: { model: {\n    primary: \"claude-opus\",\n  } } },\n}",
        "agents.defaults.model.primary",
        3,
        "no `/` between provider and model id",
    ),
    (
        "bad model ref: empty model id in fallbacks",
        "{\n  agents: { defaults: { model: {\n    fallbacks: [\n      'amazon-bedrock/',\n    ],\n  } } },\n}",
        "agents.defaults.model.fallbacks[0]",
        4,
        "model id after `/` is empty",
    ),
    (
        "conflicting discovery blocks",
        "{\n  models: { bedrockDiscovery: { region: 'us-east-1' } },\n  plugins: { entries: { 'amazon-bedrock': { config: {\n    discovery: { region: 'eu-west-1' },\n  } } } },\n}",
        "plugins.entries.amazon-bedrock.config.discovery",
        4,
        "conflicts with `models.bedrockDiscovery` (line 2)",
    ),
    (
        "negative number",
        "{\n  models: { bedrockDiscovery: {\n    refreshInterval: -5,\n  } },\n}",
        "models.bedrockDiscovery.refreshInterval",
        3,
        "expected a non-negative integer, found integer -5",
    ),
    (
        "negative price",
        "{ models: { providers: { p: { baseUrl: 'https://x.example', models: [{ id: 'a', name: 'A',\n  cost: { input: -1.5 } }] } } } }",
        "models.providers.p.models[0].cost.input",
        2,
        "expected a non-negative price",
    ),
    (
        "bad enum value",
        "{\n  models: { providers: { 'amazon-bedrock': {\n    api: 'bedrock-converse',\n  } } },\n}",
        "models.providers.amazon-bedrock.api",
        3,
        "did you mean `bedrock-converse-stream`?",
    ),
    (
        "bad auth value",
        "{\n  models: { providers: { 'amazon-bedrock': {\n    auth: 'aws',\n  } } },\n}",
        "models.providers.amazon-bedrock.auth",
        3,
        "found `aws`",
    ),
    (
        "bad input modality",
        "{ models: { providers: { p: { models: [{ id: 'a', name: 'A',\n  input: ['text', 'video'] }] } } } }",
        "models.providers.p.models[0].input[1]",
        2,
        "expected one of `text`, `image`, found `video`",
    ),
    (
        "missing model id",
        "{ models: { providers: { p: { models: [\n  { name: 'A' },\n] } } } }",
        "models.providers.p.models[0].id",
        2,
        "missing required key `id`",
    ),
    (
        "empty model id",
        "{ models: { providers: { p: { models: [\n  { id: ' ', name: 'A' },\n] } } } }",
        "models.providers.p.models[0].id",
        2,
        "expected a non-empty model id",
    ),
    (
        "port out of range",
        "{\n  gateway: {\n    port: 70000,\n  },\n}",
        "gateway.port",
        3,
        "expected an integer from 0 to 65535, found integer 70000",
    ),
    (
        "bad bind address",
        "{\n  gateway: {\n    bind: 'tailnet',\n  },\n}",
        "gateway.bind",
        3,
        "expected `loopback`, `lan` or an IP address",
    ),
    (
        "float where an integer is expected",
        "{\n  models: { bedrockDiscovery: {\n    refreshInterval: 1.5 } } }",
        "models.bedrockDiscovery.refreshInterval",
        3,
        "found number 1.5",
    ),
    (
        "discovery default that is not a number",
        "{\n  models: { bedrockDiscovery: {\n    defaultContextWindow: 'big' } } }",
        "models.bedrockDiscovery.defaultContextWindow",
        3,
        "expected a number, found string \"big\"",
    ),
    (
        "providerFilter not an array",
        "{\n  models: { bedrockDiscovery: {\n    providerFilter: 'anthropic' } } }",
        "models.bedrockDiscovery.providerFilter",
        3,
        "expected an array, found string \"anthropic\"",
    ),
    (
        "section of the wrong type",
        "{\n  models: [],\n}",
        "models",
        2,
        "expected an object, found an array",
    ),
    (
        "base URL that is not a URL",
        "{ models: { providers: { p: {\n  baseUrl: 'bedrock.example' } } } }",
        "models.providers.p.baseUrl",
        2,
        "expected a URL starting with http:// or https://",
    ),
    (
        "unknown key in the plugin discovery block",
        "{ plugins: { entries: { 'amazon-bedrock': { config: { discovery: {\n  Region: 'us-east-1' } } } } } }",
        "plugins.entries.amazon-bedrock.config.discovery.Region",
        2,
        "did you mean `region`?",
    ),
    (
        "misspelt modelled key in a lenient section (case)",
        "{\n  models: {\n    bedrockdiscovery: { enabled: true },\n  },\n}",
        "models.bedrockdiscovery",
        3,
        "unknown key `bedrockdiscovery` (keys are case-sensitive), did you mean `bedrockDiscovery`?",
    ),
    (
        "misspelt modelled key in a lenient section (letters)",
        "{\n  models: {\n    bedrockDiscvery: { enabled: true },\n  },\n}",
        "models.bedrockDiscvery",
        3,
        "did you mean `bedrockDiscovery`?",
    ),
    (
        "misspelt modelled key in a lenient section (two letters swapped)",
        "{\n  modles: { bedrockDiscovery: { enabled: true } },\n}",
        "modles",
        2,
        "unknown key `modles` (as written it would be ignored), did you mean `models`?",
    ),
    (
        "non-finite number",
        "{\n  models: { bedrockDiscovery: {\n    refreshInterval: Infinity } } }",
        "",
        3,
        "syntax error: `Infinity` is not supported here: expected a finite number",
    ),
];

fn check(name: &str, text: &str, key_path: &str, line: usize, needle: &str) -> String {
    let err = Config::from_text(text).expect_err(name);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("<text>:{line}:")),
        "{name}: {shown}"
    );
    assert_eq!(err.line(), Some(line), "{name}: {shown}");
    assert!(shown.contains(needle), "{name}: {shown}");
    match &err {
        Error::Invalid(d) => {
            assert_eq!(d.key_path, key_path, "{name}: {shown}");
            assert!(shown.contains(&format!("`{key_path}`")), "{name}: {shown}");
        }
        Error::Syntax { .. } => assert!(key_path.is_empty(), "{name}: {shown}"),
        other => panic!("{name}: unexpected error kind {other:?}"),
    }
    shown
}

#[test]
fn every_bad_config_names_key_path_and_line() {
    assert!(CASES.len() >= 15);
    let mut report = String::new();
    for (name, text, key_path, line, needle) in CASES {
        let shown = check(name, text, key_path, *line, needle);
        report.push_str(&format!("{name}:\n  {shown}\n"));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn the_file_name_appears_in_errors() {
    let err = Config::from_text_at(
        "{ gateway: { port: 'x' } }",
        std::path::Path::new("/etc/oc.json"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/etc/oc.json:1:20: `gateway.port`: "),
        "{err}"
    );
}

#[test]
fn secrets_are_not_quoted_in_errors() {
    let err = Config::from_text("{ gateway: { auth: { token: 123456789 } } }").unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("`gateway.auth.token`: expected a string"),
        "{shown}"
    );
    assert!(!shown.contains("123456789"), "{shown}");
    // A token written one level too high is not quoted either.
    let err = Config::from_text("{ gateway: { auth: \"GwTokenPLUGH\" } }").unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("`gateway.auth`: expected an object"),
        "{shown}"
    );
    assert!(!shown.contains("GwTokenPLUGH"), "{shown}");
}

#[test]
fn unknown_sections_are_accepted() {
    let config = Config::from_text(
        r#"{
          "$schema": "./schemas/openclaw.schema.json",
          channels: { telegram: { botToken: "x" } },
          tools: { exec: true },
          agents: { defaults: { workspace: "~/w", model: { primary: "a/b" } }, list: [] },
          plugins: { entries: { other: { enabled: true }, "amazon-bedrock": { enabled: true, config: { extra: 1 } } } },
          models: { mode: "merge", other: 1 },
          gateway: { mode: "local", port: 1234, Mode: "x" },
          agent: { model: "legacy/singular" },
          Channels: {},
        }"#,
    )
    .unwrap();
    assert_eq!(config.gateway.port, 1234);
    assert_eq!(
        config.schema.as_deref(),
        Some("./schemas/openclaw.schema.json")
    );
}

#[test]
fn discovery_defaults_are_read_as_openclaw_reads_them() {
    // Rounded down; below 1 (zero, negative, a fraction) the default (32000 / 4096); blank
    // provider filter entries are dropped by the filter, not refused.
    for (text, window, tokens) in [
        (
            "defaultContextWindow: 100000.9, defaultMaxTokens: 8192",
            100_000,
            8192,
        ),
        (
            "defaultContextWindow: 0, defaultMaxTokens: -5",
            32_000,
            4096,
        ),
        ("defaultContextWindow: 0.5, defaultMaxTokens: 1", 32_000, 1),
        ("defaultContextWindow: 1e12", u32::MAX, 4096),
    ] {
        let config = Config::from_text(&format!(
            "{{ models: {{ bedrockDiscovery: {{ {text}, providerFilter: ['anthropic', ' '] }} }} }}"
        ))
        .unwrap_or_else(|e| panic!("{text}: {e}"));
        let discovery = config.bedrock_discovery();
        assert_eq!(discovery.default_context_window, window, "{text}");
        assert_eq!(discovery.default_max_tokens, tokens, "{text}");
    }
}
