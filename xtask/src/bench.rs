//! `cargo xtask bench [--quick] [ARGS...]`: builds the release binaries (`openclaw`,
//! `fake-bedrock`, `openclaw-bench`) and runs the harness with their paths.
//!
//! The measuring lives in `crates/bench`; this task only builds and launches, so `xtask` stays
//! light. Every argument is forwarded (`--quick`, `--against URL --model NAME`, `--out DIR`).
//! The open-file limit is raised to the hard limit first (1,000 concurrent streams hold about
//! 4,000 sockets across the client, the gateway and the fake).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The packages the harness needs, built together in one `cargo build --release`.
const PACKAGES: [&str; 3] = ["openclaw-gateway", "fake-bedrock", "openclaw-bench"];

pub(crate) fn run(args: Vec<String>) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return Ok(());
    }
    let root = crate::project_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(&cargo);
    build.current_dir(&root).args(build_args());
    eprintln!("$ cargo {}", build_args().join(" "));
    let status = build.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("the release build failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let (program, argv) = bench_command(&root, &target, &args);
    eprintln!("$ {program} {}", argv.join(" "));
    let status = Command::new(program)
        .args(&argv)
        .current_dir(&root)
        .status()
        .context("cannot run the bench harness")?;
    if !status.success() {
        bail!("the bench harness failed ({status})");
    }
    Ok(())
}

const HELP: &str = "usage: cargo xtask bench [--quick] [--openclaw PATH] [--gateway-env KEY=VALUE]... [--upstream plain|tls|both] [--only STEPS] [--against URL --model NAME] [--out DIR]
       cargo xtask bench --soak MINUTES [--soak-streams N] [--out DIR]

Builds openclaw, fake-bedrock and openclaw-bench in release mode, then measures the
`openclaw gateway` against the direct SDK path on a local fake-bedrock.
Results: target/bench/results.md, results.json and latency.svg (default --out).
--quick runs in about two minutes; the default run takes about ten minutes on 2 cores.
--openclaw PATH measures another `openclaw` binary (an older build, for an A/B comparison);
--gateway-env KEY=VALUE sets a variable in the gateway's environment (repeatable).
--upstream plain|tls|both (default both): the paced step's transport to the fake: plain
HTTP/1.1, or TLS with ALPN h2 as against Bedrock (the gateway trusts the fake's certificate
through AWS_CA_BUNDLE); --upstream-h2-streams N is the TLS fake's stream limit per connection.
--only STEPS runs only these steps (single, c64, c512, open-200, open-1000, search, overload,
idle, cold, list, paced) and --overload-base RATE sets the rate the overload step doubles.
Every figure is printed against its target (met / MISSED) and written to results.md.
--soak MINUTES runs the soak mode instead: N (default 2000) paced streams re-opened as they
end for MINUTES, 5 % cut by the client mid-stream, upstream faults queued on the fake, the
gateway's RSS and open fds sampled every 5 s, and its idle RSS before the load and 30 s after
it (target: within 2x), and its open fds then (target: at most 64 over the count before).
Results: soak.md, soak.json and soak.svg under --out.";

fn build_args() -> Vec<String> {
    let mut args = vec!["build".to_owned(), "--release".to_owned()];
    for p in PACKAGES {
        args.push("-p".to_owned());
        args.push(p.to_owned());
    }
    args
}

/// The harness command: `sh -c` raising the open-file limit, then `exec openclaw-bench` with
/// the binaries' paths, a default `--out` under the target directory, and the user's arguments.
fn bench_command(root: &Path, target: &Path, user: &[String]) -> (String, Vec<String>) {
    let release = target.join("release");
    let path = |name: &str| release.join(name).display().to_string();
    let mut argv = vec![
        "-c".to_owned(),
        r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#.to_owned(),
        path("openclaw-bench"),
    ];
    // `--openclaw PATH` of the user's measures another build (an older commit's, for an A/B).
    if !given(user, "--openclaw") {
        argv.extend(["--openclaw".to_owned(), path("openclaw")]);
    }
    argv.extend(["--fake".to_owned(), path("fake-bedrock")]);
    if !given(user, "--out") {
        let out = target.join("bench");
        let out = out.strip_prefix(root).unwrap_or(&out);
        argv.push("--out".to_owned());
        argv.push(out.display().to_string());
    }
    argv.extend(user.iter().cloned());
    ("sh".to_owned(), argv)
}

/// Whether the user's arguments set `flag` (`--flag VALUE` or `--flag=VALUE`).
fn given(user: &[String], flag: &str) -> bool {
    user.iter()
        .any(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_three_packages_in_release() {
        assert_eq!(
            build_args().join(" "),
            "build --release -p openclaw-gateway -p fake-bedrock -p openclaw-bench"
        );
    }

    #[test]
    fn forwards_arguments_with_binary_paths() {
        let root = Path::new("/w");
        let (program, argv) = bench_command(root, &root.join("target"), &["--quick".to_owned()]);
        assert_eq!(program, "sh");
        assert_eq!(
            argv[2..].join(" "),
            "/w/target/release/openclaw-bench --openclaw /w/target/release/openclaw \
             --fake /w/target/release/fake-bedrock --out target/bench --quick"
        );
        let user = ["--out".to_owned(), "/tmp/x".to_owned()];
        let (_, argv) = bench_command(root, Path::new("/elsewhere"), &user);
        assert_eq!(argv.iter().filter(|a| *a == "--out").count(), 1);
        assert!(argv.contains(&"/elsewhere/release/fake-bedrock".to_owned()));
        let user = ["--openclaw=/old/openclaw".to_owned()];
        let (_, argv) = bench_command(root, &root.join("target"), &user);
        assert_eq!(
            argv[2..].join(" "),
            "/w/target/release/openclaw-bench --fake /w/target/release/fake-bedrock \
             --out target/bench --openclaw=/old/openclaw"
        );
    }

    #[test]
    fn forwards_the_soak_flags() {
        let root = Path::new("/w");
        let user = ["--soak".to_owned(), "10".to_owned()];
        let (_, argv) = bench_command(root, &root.join("target"), &user);
        assert_eq!(
            argv[argv.len() - 4..].join(" "),
            "--out target/bench --soak 10"
        );
    }

    #[test]
    fn the_shell_wrapper_runs_the_binary_with_its_arguments() {
        let out = Command::new("sh")
            .args([
                "-c",
                r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#,
                "echo",
                "a b",
                "c",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b c\n");
    }
}
