use openclaw_e2e::{
    BEARER_TOKEN, DISCOVERY_CONFIG, FakeProcess, SESSION_TOKEN, Sandbox, leaked_secret,
    recorded_outputs, static_keys,
};

/// Runs the commands that touch credentials with debug logs on, then scans everything every
/// test of this binary has recorded so far (each run is also checked as it happens).
#[test]
fn no_secret_in_any_output_even_with_debug_logs() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    let mut keys = static_keys();
    keys.push(("AWS_SESSION_TOKEN", SESSION_TOKEN));
    let bearer = [("AWS_BEARER_TOKEN_BEDROCK", BEARER_TOKEN)];
    for env in [&keys[..], &bearer[..]] {
        sandbox
            .run(&["-vv", "models", "list", "--refresh"], env, None)
            .ok();
        sandbox.run(&["-vv", "models", "status"], env, None).ok();
        sandbox.run(&["-vv", "chat", "hello"], env, None).ok();
    }
    sandbox
        .run(
            &["config", "set", "gateway.auth.token", BEARER_TOKEN],
            &[],
            None,
        )
        .ok();
    let got = sandbox.run(&["config", "get", "gateway"], &[], None);
    assert!(got.ok().contains("<redacted>"), "{}", got.stdout);
    let all = recorded_outputs();
    assert!(all.len() >= 7);
    for text in &all {
        assert_eq!(leaked_secret(text), None, "{text}");
    }
}
