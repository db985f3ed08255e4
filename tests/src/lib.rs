//! End-to-end tests for openclaw-bedrock.
//!
//! The tests in `tests/e2e/` run the built binaries (`openclaw`, `fake-bedrock`) as separate
//! processes, talking real HTTP on loopback, exactly as a user would. This library holds the shared
//! helpers: locating (and, once per test run, building) the binaries, a `fake-bedrock` child
//! process, and a [`Sandbox`] that runs `openclaw` with a cleared environment pointing into a
//! temporary directory and at the fake.
//!
//! Cargo sets `CARGO_BIN_EXE_<name>` only for binaries of the package under test, so the binaries
//! are found beside the test executable (`target/<profile>/`) after one
//! `cargo build -p openclaw-gateway -p fake-bedrock --bins` (a no-op when they are fresh).
//!
//! Every output of every `openclaw` run is recorded ([`recorded_outputs`]) and checked against the
//! test secrets ([`SECRETS`]) as it is produced, so a leak fails the test that caused it.
#![deny(missing_docs)]
// Test support only: a helper that cannot set up its fixture fails the test loudly.
#![allow(clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The fake's default SigV4 access key id (the AWS documentation's example).
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
/// The fake's default secret key.
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The bearer token (Bedrock API key) the fake is started with.
pub const BEARER_TOKEN: &str = "test-bedrock-api-key-e2e-0123456789";
/// A session token value sent with static keys (the fake ignores its content).
pub const SESSION_TOKEN: &str = "test-session-token-e2e-FwoGZXIvYXdzEJr";
/// A bearer token the fake does not accept (AccessDenied).
pub const WRONG_BEARER_TOKEN: &str = "wrong-bedrock-api-key-e2e-9876543210";

/// Values that must never appear in anything the binary prints.
pub const SECRETS: &[&str] = &[SECRET_KEY, BEARER_TOKEN, SESSION_TOKEN, WRONG_BEARER_TOKEN];

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Paths of the built binaries.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// `openclaw`.
    pub openclaw: PathBuf,
    /// `fake-bedrock`.
    pub fake_bedrock: PathBuf,
}

/// Builds (once per process) and locates `openclaw` and `fake-bedrock` for the profile the tests
/// were built with.
///
/// # Panics
///
/// When the build fails or the binaries cannot be found (a test helper: failing loudly is right).
pub fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let exe = std::env::current_exe().unwrap_or_default();
        // target/<profile>/deps/e2e-<hash>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target_dir = profile_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let exe_name =
            |name: &str| profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let binaries = Binaries {
            openclaw: exe_name("openclaw"),
            fake_bedrock: exe_name("fake-bedrock"),
        };
        // `cargo test --workspace` has just built both binaries with the workspace's feature set.
        // Building them again with `-p` would resolve features differently and recompile much of
        // the dependency graph, so the build below only runs when a binary is missing or older
        // than a source file (e.g. under `cargo test -p openclaw-e2e`).
        if binaries_are_fresh(&binaries) {
            return binaries;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace_root())
            .args([
                "build",
                "--quiet",
                "-p",
                "openclaw-gateway",
                "-p",
                "fake-bedrock",
                "--bins",
            ])
            .arg("--target-dir")
            .arg(&target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let status = command.status();
        assert!(
            status.as_ref().is_ok_and(|s| s.success()),
            "building the binaries failed: {status:?}"
        );
        assert!(
            binaries.openclaw.is_file(),
            "{:?} missing",
            binaries.openclaw
        );
        assert!(
            binaries.fake_bedrock.is_file(),
            "{:?} missing",
            binaries.fake_bedrock
        );
        binaries
    })
}

/// Whether both binaries exist and are newer than every source and manifest they are built from.
fn binaries_are_fresh(binaries: &Binaries) -> bool {
    let built = [&binaries.openclaw, &binaries.fake_bedrock]
        .iter()
        .map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
        .collect::<Option<Vec<_>>>()
        .and_then(|times| times.into_iter().min());
    let Some(built) = built else {
        return false;
    };
    let root = workspace_root();
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut stack = vec![
        root.join("crates"),
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
    ];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            let skip = path
                .file_name()
                .is_some_and(|n| n == "tests" || n == "benches");
            if !skip && let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if let Ok(modified) = meta.modified() {
            newest = newest.max(modified);
        }
    }
    built >= newest
}

/// A `fake-bedrock` child process, killed on drop.
pub struct FakeProcess {
    child: Child,
    url: String,
}

impl FakeProcess {
    /// Starts the fake on `127.0.0.1:0`, accepting the default SigV4 pair and [`BEARER_TOKEN`],
    /// and waits for its `listening on <url>` line.
    ///
    /// # Panics
    ///
    /// When the process cannot start or does not announce its address.
    pub fn start() -> Self {
        let mut child = Command::new(&binaries().fake_bedrock)
            .args(["--listen", "127.0.0.1:0", "--bearer-token", BEARER_TOKEN])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start fake-bedrock: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from fake-bedrock: {line:?}"))
            .to_string();
        FakeProcess { child, url }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one `openclaw` run produced.
#[derive(Clone, Debug)]
pub struct Output {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Asserts success and returns stdout.
    ///
    /// # Panics
    ///
    /// When the run failed.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "openclaw failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }
}

fn outputs() -> &'static Mutex<Vec<String>> {
    static OUTPUTS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    OUTPUTS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Everything every `openclaw` run of this process printed so far (stdout and stderr).
pub fn recorded_outputs() -> Vec<String> {
    outputs()
        .lock()
        .map(|o| o.clone())
        .unwrap_or_else(|p| p.into_inner().clone())
}

/// Which secret, if any, `text` contains.
pub fn leaked_secret(text: &str) -> Option<&'static str> {
    SECRETS.iter().copied().find(|s| text.contains(s))
}

/// A temporary home for one test: config file, state directory, AWS shared files.
pub struct Sandbox {
    dir: tempfile::TempDir,
    endpoint: Option<String>,
}

impl Sandbox {
    /// A sandbox whose AWS endpoints point at `fake` (or nowhere when `None`).
    ///
    /// # Panics
    ///
    /// When the temporary directory cannot be created.
    pub fn new(fake: Option<&FakeProcess>) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Sandbox {
            dir,
            endpoint: fake.map(|f| f.url().to_string()),
        }
    }

    /// The temporary directory (HOME).
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration file (`OPENCLAW_CONFIG_PATH`).
    pub fn config_path(&self) -> PathBuf {
        self.home().join("openclaw.json")
    }

    /// `AWS_CONFIG_FILE`.
    pub fn aws_config_file(&self) -> PathBuf {
        self.home().join("aws-config")
    }

    /// `AWS_SHARED_CREDENTIALS_FILE`.
    pub fn aws_credentials_file(&self) -> PathBuf {
        self.home().join("aws-credentials")
    }

    /// Writes the configuration file.
    ///
    /// # Panics
    ///
    /// When the file cannot be written.
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap_or_else(|e| panic!("write config: {e}"));
    }

    /// Reads the configuration file.
    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// The environment every run starts from (after `env_clear`): HOME, config and state in the
    /// sandbox, IMDS off, AWS shared files in the sandbox, endpoints at the fake.
    pub fn base_env(&self) -> Vec<(String, String)> {
        let path = |p: PathBuf| p.display().to_string();
        let mut env = vec![
            ("HOME".to_string(), path(self.home().to_path_buf())),
            ("OPENCLAW_CONFIG_PATH".to_string(), path(self.config_path())),
            (
                "OPENCLAW_STATE_DIR".to_string(),
                path(self.home().join("state")),
            ),
            ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
            ("AWS_CONFIG_FILE".to_string(), path(self.aws_config_file())),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                path(self.aws_credentials_file()),
            ),
        ];
        if let Some(url) = &self.endpoint {
            env.push(("AWS_ENDPOINT_URL_BEDROCK".to_string(), url.clone()));
            env.push(("AWS_ENDPOINT_URL_BEDROCK_RUNTIME".to_string(), url.clone()));
        }
        env
    }

    /// Runs `openclaw args...` with the base environment plus `extra`, optional stdin; records
    /// and secret-checks the output.
    ///
    /// # Panics
    ///
    /// When the binary cannot run, or when its output contains a test secret.
    pub fn run(&self, args: &[&str], extra: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut command = Command::new(&binaries().openclaw);
        command
            .args(args)
            .env_clear()
            .envs(self.base_env())
            .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run openclaw: {e}"));
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let _ = pipe.write_all(text.as_bytes());
        }
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("openclaw did not finish: {e}"));
        let out = Output {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for text in [&out.stdout, &out.stderr] {
            if let Some(secret) = leaked_secret(text) {
                panic!("openclaw {args:?} printed the test secret {secret:?}:\n{text}");
            }
        }
        if let Ok(mut all) = outputs().lock() {
            // The output only: the arguments are the test's own input.
            all.push(format!("{}\n{}", out.stdout, out.stderr));
        }
        out
    }
}

/// Environment pairs for static keys.
pub fn static_keys() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
    ]
}

/// A configuration with discovery on (anthropic models) and the Sonnet 4.5 profile as default.
pub const DISCOVERY_CONFIG: &str = r#"{
  // e2e: discovery of Anthropic models
  models: { bedrockDiscovery: { enabled: true, region: "us-east-1", providerFilter: ["anthropic"] } },
  agents: { defaults: { model: {
    primary: "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    fallbacks: ["amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"],
  } } },
}
"#;
