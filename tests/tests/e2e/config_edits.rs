use std::os::unix::fs::PermissionsExt;

use openclaw_e2e::Sandbox;

/// Twenty `config set` processes on one file at once: every one that said "Updated" is in
/// the file, and the file is valid.
#[test]
fn parallel_config_sets_keep_every_key() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config("// mine\n{ agents: { defaults: {} } }\n");
    let n = 20;
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let sandbox = &sandbox;
                scope.spawn(move || {
                    let key = format!("agents.defaults.key_{i:02}");
                    let value = format!("v{i:02}");
                    sandbox.run(&["config", "set", &key, &value], &[], None)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in &outputs {
        assert!(
            out.ok().starts_with("Updated agents.defaults.key_"),
            "{out:?}"
        );
    }
    let text = sandbox.read_config();
    assert!(text.starts_with("// mine\n"), "{text}");
    sandbox.run(&["config", "validate"], &[], None).ok();
    for i in 0..n {
        let got = sandbox.run(
            &["config", "get", &format!("agents.defaults.key_{i:02}")],
            &[],
            None,
        );
        assert_eq!(
            got.ok().trim(),
            format!("v{i:02}"),
            "key_{i:02} lost:\n{text}"
        );
    }
    let temps: Vec<_> = std::fs::read_dir(sandbox.home())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn a_read_only_config_is_refused_and_kept() {
    let sandbox = Sandbox::new(None);
    let path = sandbox.config_path();
    sandbox.write_config("{}\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = sandbox.run(&["config", "set", "gateway.port", "18790"], &[], None);
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains(&path.display().to_string()) && out.stderr.contains("read-only"),
        "{out:?}"
    );
    assert_eq!(sandbox.read_config(), "{}\n");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444, "{mode:o}");
}

#[test]
fn a_dangling_symlink_config_is_refused_and_kept() {
    let sandbox = Sandbox::new(None);
    let link = sandbox.config_path();
    let target = sandbox.home().join("elsewhere/openclaw.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = sandbox.run(&["config", "set", "gateway.port", "18790"], &[], None);
    assert_ne!(out.code, Some(0), "{out:?}");
    for named in [&link, &target] {
        assert!(
            out.stderr.contains(&named.display().to_string()),
            "{} not named: {out:?}",
            named.display()
        );
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!target.exists());
}

#[test]
fn a_device_is_not_a_config_file() {
    let sandbox = Sandbox::new(None);
    let out = sandbox.run(
        &["config", "validate"],
        &[("OPENCLAW_CONFIG_PATH", "/dev/zero")],
        None,
    );
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("/dev/zero") && out.stderr.contains("character device"),
        "{out:?}"
    );
}
