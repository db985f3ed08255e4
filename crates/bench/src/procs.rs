//! Child processes (fake-bedrock, `openclaw gateway`) and their resource use from `/proc`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::client::{ACCESS_KEY, REGION, SECRET_KEY};

/// A child process that printed `listening on http://...`; killed on drop.
pub struct Server {
    child: Child,
    /// The URL it printed.
    pub url: String,
    /// From spawn to the `listening on` line.
    pub startup: Duration,
    /// When it was spawned.
    pub spawned: Instant,
}

impl Server {
    /// Spawns `command` (stdout piped) and waits up to `wait` for its `listening on` line.
    pub async fn spawn(mut command: Command, what: &str, wait: Duration) -> Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(wait, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.trim().strip_prefix("listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await;
        let startup = spawned.elapsed();
        let url = match url {
            Ok(Some(url)) => url,
            Ok(None) => bail!("{what} exited before printing `listening on <url>`"),
            Err(_) => bail!("{what} printed no `listening on <url>` within {wait:?}"),
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            url,
            startup,
            spawned,
        })
    }

    /// The process id (0 when it already exited).
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Stops the process (SIGKILL) and reaps it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `fake-bedrock` on `listen` with the given pacing.
pub fn fake_command(
    fake: &Path,
    listen: &str,
    pace_first_ms: u64,
    pace_ms: u64,
    chunk: usize,
) -> Command {
    let mut c = Command::new(fake);
    c.args([
        "--listen",
        listen,
        "--access-key",
        ACCESS_KEY,
        "--secret-key",
        SECRET_KEY,
    ])
    .arg("--pace-first-ms")
    .arg(pace_first_ms.to_string())
    .arg("--pace-ms")
    .arg(pace_ms.to_string())
    .arg("--chunk-size")
    .arg(chunk.to_string())
    .stderr(Stdio::null());
    c
}

/// A sandbox for `openclaw`: HOME, configuration and state in a temporary directory.
pub struct Sandbox {
    dir: tempfile::TempDir,
    extra: Vec<(String, String)>,
}

impl Sandbox {
    /// A sandbox whose configuration lists `model` under `amazon-bedrock` with discovery
    /// off (no control-plane call at start-up), or on when `discovery` is true.
    pub fn new(model: &str, discovery: bool) -> Result<Self> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let config = if discovery {
            format!(
                "{{ models: {{ bedrockDiscovery: {{ enabled: true, region: \"{REGION}\" }} }} }}\n"
            )
        } else {
            format!(
                "{{\n  // written by openclaw-bench\n  models: {{\n    bedrockDiscovery: {{ enabled: false }},\n    providers: {{ \"amazon-bedrock\": {{ models: [{{ id: \"{model}\", name: \"bench\" }}] }} }},\n  }},\n}}\n"
            )
        };
        std::fs::write(dir.path().join("openclaw.json"), config)
            .context("cannot write the bench configuration")?;
        Ok(Sandbox {
            dir,
            extra: Vec::new(),
        })
    }

    /// The sandbox directory (the gateway's HOME).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds `extra` variables to every command's environment (the bench's `--gateway-env`).
    pub fn with_env(mut self, extra: &[(String, String)]) -> Self {
        self.extra.extend_from_slice(extra);
        self
    }

    /// The environment of an `openclaw` run against the fake at `endpoint`.
    pub fn env(&self, endpoint: &str) -> Vec<(String, String)> {
        let home = self.dir.path();
        let p = |x: PathBuf| x.display().to_string();
        let mut env = vec![
            ("HOME", p(home.to_path_buf())),
            ("OPENCLAW_CONFIG_PATH", p(home.join("openclaw.json"))),
            ("OPENCLAW_STATE_DIR", p(home.join("state"))),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", p(home.join("aws-config"))),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                p(home.join("aws-credentials")),
            ),
            ("AWS_ENDPOINT_URL_BEDROCK", endpoint.to_owned()),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
        ];
        if let Ok(path) = std::env::var("PATH") {
            env.push(("PATH", path));
        }
        let mut env: Vec<(String, String)> =
            env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        env.extend(self.extra.iter().cloned());
        env
    }

    /// `openclaw <args>` with the sandbox environment only; stderr goes to `gateway.log`.
    pub fn command(&self, openclaw: &Path, endpoint: &str, args: &[String]) -> Command {
        let mut c = Command::new(openclaw);
        c.args(args).env_clear().envs(self.env(endpoint));
        match std::fs::File::create(self.dir.path().join("gateway.log")) {
            Ok(f) => c.stderr(f),
            Err(_) => c.stderr(Stdio::null()),
        };
        c
    }

    /// The last lines of the gateway log (for error messages).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("gateway.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }
}

/// Resource use of a process at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Usage {
    /// Resident set size, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set size, KiB (`VmHWM`).
    pub hwm_kib: u64,
    /// User plus system CPU time, seconds.
    pub cpu_s: f64,
}

impl Usage {
    /// Reads `/proc/<pid>/status` and `/proc/<pid>/stat` (zeros when unreadable).
    pub fn of(pid: u32) -> Usage {
        if pid == 0 {
            return Usage::default();
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let (rss_kib, hwm_kib) = parse_status(&status);
        Usage {
            rss_kib,
            hwm_kib,
            cpu_s: parse_stat_ticks(&stat) as f64 / clock_ticks() as f64,
        }
    }

    /// Resets the peak RSS (`VmHWM`) to the current RSS; false when the kernel refuses.
    pub fn reset_peak(pid: u32) -> bool {
        pid != 0 && std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
    }
}

/// `(VmRSS, VmHWM)` in KiB from a `/proc/<pid>/status` text.
pub fn parse_status(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `utime + stime` in clock ticks from a `/proc/<pid>/stat` text.
pub fn parse_stat_ticks(stat: &str) -> u64 {
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// `getconf CLK_TCK`, else 100 (the Linux value on every common architecture).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status_and_stat() {
        let status = "Name:\topenclaw\nVmHWM:\t   12345 kB\nVmRSS:\t    9876 kB\nThreads:\t3\n";
        assert_eq!(parse_status(status), (9876, 12345));
        assert_eq!(parse_status(""), (0, 0));
        let stat = "4242 (open claw) S 1 4242 4242 0 -1 4194304 500 0 0 0 150 25 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_stat_ticks(stat), 175);
        assert_eq!(parse_stat_ticks("garbage"), 0);
    }

    #[test]
    fn reads_this_process() {
        let me = Usage::of(std::process::id());
        assert!(me.rss_kib > 0 && me.hwm_kib >= me.rss_kib, "{me:?}");
        assert_eq!(Usage::of(0), Usage::default());
    }
}
