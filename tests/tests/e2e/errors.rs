use openclaw_e2e::{
    DISCOVERY_CONFIG, FakeProcess, SECRET_KEY, Sandbox, WRONG_BEARER_TOKEN, static_keys,
};

#[test]
fn bad_config_exits_3_with_file_line_and_suggestion() {
    let sandbox = Sandbox::new(None);
    sandbox
        .write_config("{\n  models: {\n    bedrockDiscovery: { refreshInteval: 60 },\n  },\n}\n");
    for args in [
        &["config", "validate"][..],
        &["models", "list"],
        &["chat", "hi"],
    ] {
        let out = sandbox.run(args, &[], None);
        assert_eq!(out.code, Some(3), "{args:?}: {out:?}");
        let path = sandbox.config_path().display().to_string();
        assert!(out.stderr.contains(&format!("{path}:3:")), "{}", out.stderr);
        assert!(
            out.stderr.contains("did you mean `refreshInterval`"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn missing_credentials_exit_4_with_openclaw_message() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config(
        r#"{ models: { providers: { "amazon-bedrock": { models: [{ id: "us.anthropic.claude-opus-4-6-v1", name: "Opus" }] } } },
           agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1" } } } }"#,
    );
    let out = sandbox.run(&["chat", "hi"], &[], None);
    assert_eq!(out.code, Some(4), "{out:?}");
    assert!(
        out.stderr.contains(
            "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, checked: aws-sdk default chain)."
        ),
        "{}",
        out.stderr
    );
    // A discovered-only model without credentials: the same message, not "unknown model".
    let out = sandbox.run(
        &[
            "chat",
            "--model",
            "amazon-bedrock/us.anthropic.claude-sonnet-4-6",
            "hi",
        ],
        &[],
        None,
    );
    assert_eq!(out.code, Some(4), "{out:?}");
    assert!(out.stderr.contains("No API key resolved"), "{}", out.stderr);
}

#[test]
fn access_denied_exits_4() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true },
             providers: { "amazon-bedrock": { models: [{ id: "anthropic.claude-3-haiku-20240307-v1:0", name: "Haiku" }] } } } }"#,
    );
    let env = [("AWS_BEARER_TOKEN_BEDROCK", WRONG_BEARER_TOKEN)];
    // The runtime refuses the call.
    let chat = sandbox.run(
        &[
            "chat",
            "--model",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "hi",
        ],
        &env,
        None,
    );
    assert_eq!(chat.code, Some(4), "{chat:?}");
    assert!(
        chat.stderr.contains("HTTP 403, AccessDeniedException"),
        "{}",
        chat.stderr
    );
    // A model that needs discovery: the control plane refuses, same exit code.
    let chat = sandbox.run(
        &["chat", "--model", "us.anthropic.claude-sonnet-4-6", "hi"],
        &env,
        None,
    );
    assert_eq!(chat.code, Some(4), "{chat:?}");
    assert!(
        chat.stderr
            .contains("access denied calling bedrock ListFoundationModels"),
        "{}",
        chat.stderr
    );
    // models list degrades to configured models with a warning, and still succeeds.
    let list = sandbox.run(&["models", "list", "--plain"], &env, None);
    list.ok();
    assert!(
        list.stderr.contains("warning: bedrock discovery failed"),
        "{}",
        list.stderr
    );
    assert!(
        list.stderr.contains("bedrock:ListFoundationModels"),
        "{}",
        list.stderr
    );
}

#[test]
fn unknown_model_exits_6() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    let out = sandbox.run(
        &["chat", "--model", "amazon-bedrock/no.such-model-v1:0", "hi"],
        &static_keys(),
        None,
    );
    assert_eq!(out.code, Some(6), "{out:?}");
    assert!(
        out.stderr
            .contains("unknown model `amazon-bedrock/no.such-model-v1:0`"),
        "{}",
        out.stderr
    );
    // A near miss names the model meant.
    let out = sandbox.run(
        &[
            "chat",
            "--model",
            "us.anthropic.claude-haiku-4-5-20251001-v2:0",
            "hi",
        ],
        &static_keys(),
        None,
    );
    assert_eq!(out.code, Some(6), "{out:?}");
    assert!(
        out.stderr
            .contains("did you mean `amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn config_typos_and_bad_regions_are_named() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config("{ models: { bedrockDiscovery: { region: 'us-east-1' } } }");
    let out = sandbox.run(
        &["config", "get", "models.bedrockDiscovery.regoin"],
        &[],
        None,
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("did you mean `models.bedrockDiscovery.region`?"),
        "{}",
        out.stderr
    );
    let out = sandbox.run(
        &["config", "set", "models.bedrockDiscovery.region", "us-east"],
        &[],
        None,
    );
    assert_eq!(out.code, Some(3), "{out:?}");
    assert!(sandbox.read_config().contains("'us-east-1'"), "not saved");
    sandbox.write_config("{ models: { bedrockDiscovery: { region: 'us-east' } } }");
    let out = sandbox.run(&["models", "status"], &[], None);
    assert_eq!(out.code, Some(3), "{out:?}");
    let path = sandbox.config_path().display().to_string();
    assert!(
        out.stderr.contains(&format!("{path}: invalid region")),
        "{}",
        out.stderr
    );
    let out = sandbox.run(&["config", "validate"], &[], None);
    assert_eq!(out.code, Some(3), "{out:?}");
    assert!(
        out.stderr
            .contains("`models.bedrockDiscovery.region`: invalid region \"us-east\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    for args in [&["models", "list"][..], &["completions", "bash"]] {
        // `openclaw models list | head -0`: the reader is gone before the first write.
        let mut child = std::process::Command::new(&openclaw_e2e::binaries().openclaw)
            .args(args)
            .env_clear()
            .envs(sandbox.base_env())
            .envs(static_keys())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_codes() {
    let sandbox = Sandbox::new(None);
    assert_eq!(
        sandbox.run(&["models", "list", "--bogus"], &[], None).code,
        Some(2)
    );
    assert_eq!(
        sandbox
            .run(&["chat", "--thinking", "huge", "x"], &[], None)
            .code,
        Some(2)
    );
    assert_eq!(sandbox.run(&["chat"], &[], Some("  \n")).code, Some(2));
    let help = sandbox.run(&["--help"], &[], None);
    assert!(
        help.ok().contains("4  authentication error"),
        "{}",
        help.stdout
    );
    let completions = sandbox.run(&["completions", "bash"], &[], None);
    assert!(completions.ok().contains("openclaw"));
}

#[test]
fn an_unknown_provider_filter_says_so_and_names_the_one_meant() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    let out = sandbox.run(
        &["models", "list", "--plain", "--provider", "bedrock"],
        &static_keys(),
        None,
    );
    assert_eq!(out.ok(), "", "nothing listed");
    assert!(
        out.stderr.contains("no provider `bedrock`")
            && out.stderr.contains("did you mean `amazon-bedrock`?"),
        "{}",
        out.stderr
    );
    let out = sandbox.run(
        &["models", "list", "--plain", "--provider", "amazon-bedrock"],
        &static_keys(),
        None,
    );
    assert!(out.ok().contains("amazon-bedrock/"), "{}", out.stdout);
    assert!(!out.stderr.contains("no provider"), "{}", out.stderr);
}

#[test]
fn unsetting_a_mistyped_key_names_the_key_meant() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let out = sandbox.run(
        &["config", "unset", "models.bedrockDiscovery.enabeld"],
        &[],
        None,
    );
    assert!(out.ok().contains("was not set"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("did you mean `models.bedrockDiscovery.enabled`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_refuses_the_gateway_settings_the_gateway_refuses() {
    let sandbox = Sandbox::new(None);
    let path = sandbox.config_path().display().to_string();
    for (text, wanted) in [
        (
            "{ gateway: { timeouts: { headerRead: 0 } } }",
            "invalid gateway.timeouts.headerRead `0`: expected a positive number of seconds",
        ),
        (
            "{ gateway: { limits: { maxBodyBytes: 0 } } }",
            "invalid gateway.limits.maxBodyBytes `0`: expected at least 1",
        ),
        (
            "{ gateway: { timeouts: { queueWait: -1 } } }",
            "invalid gateway.timeouts.queueWait `-1`",
        ),
        (
            "{ gateway: { workers: 5000 } }",
            "invalid gateway.workers `5000`",
        ),
    ] {
        sandbox.write_config(text);
        let validate = sandbox.run(&["config", "validate"], &[], None);
        assert_eq!(validate.code, Some(3), "{text}: {validate:?}");
        assert!(
            validate.stderr.contains(&format!("{path}: {wanted}")),
            "{text}: {}",
            validate.stderr
        );
    }
    // The gateway itself names the file too (and refuses before listening).
    sandbox.write_config("{ gateway: { timeouts: { headerRead: 0 } } }");
    let gateway = sandbox.run(&["gateway", "--port", "0"], &[], None);
    assert_eq!(gateway.code, Some(3), "{gateway:?}");
    assert!(
        gateway
            .stderr
            .contains(&format!("{path}: invalid gateway.timeouts.headerRead `0`")),
        "{}",
        gateway.stderr
    );
    // A flag's bad value is the flag's, not the file's: a usage error, as clap's own are.
    sandbox.write_config("{}");
    let flag = sandbox.run(
        &["gateway", "--port", "0", "--header-read-timeout", "0"],
        &[],
        None,
    );
    assert_eq!(flag.code, Some(2), "{flag:?}");
    assert!(
        flag.stderr.contains("invalid --header-read-timeout `0`") && !flag.stderr.contains(&path),
        "{}",
        flag.stderr
    );
}

#[test]
fn a_broken_aws_credentials_file_is_named_with_its_line() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    // Line 3 has no `=`: what is on it (here a secret key) must not be printed.
    std::fs::write(
        sandbox.aws_credentials_file(),
        format!("[default]\naws_access_key_id = AKIDEXAMPLE\n{SECRET_KEY}\n"),
    )
    .unwrap();
    let file = sandbox.aws_credentials_file().display().to_string();
    for args in [&["models", "list"][..], &["chat", "hi"]] {
        let out = sandbox.run(args, &[("AWS_PROFILE", "default")], None);
        assert!(
            out.stderr.contains(&format!(
                "error parsing {file} on line 3: expected an '=' sign"
            )),
            "{args:?}: {}",
            out.stderr
        );
    }
}
