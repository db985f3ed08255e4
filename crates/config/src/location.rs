//! Where the configuration and state live.

use std::path::PathBuf;

fn var(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

fn expand_home(env: &impl Fn(&str) -> Option<String>, value: String) -> PathBuf {
    if value == "~"
        && let Some(home) = var(env, "HOME")
    {
        return PathBuf::from(home);
    }
    if let Some(rest) = value.strip_prefix("~/")
        && let Some(home) = var(env, "HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(value)
}

/// The configuration file: `OPENCLAW_CONFIG_PATH` (a leading `~/` is expanded), else
/// `$HOME/.openclaw/openclaw.json`. `None` when neither variable is set.
///
/// `env` looks a variable up, so callers and tests decide what the environment is:
/// `config_path(|name| std::env::var(name).ok())`.
pub fn config_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = var(&env, "OPENCLAW_CONFIG_PATH") {
        return Some(expand_home(&env, path));
    }
    state_dir(env).map(|dir| dir.join("openclaw.json"))
}

/// The state directory (caches, such as discovered models): `OPENCLAW_STATE_DIR` (a leading
/// `~/` is expanded), else `$HOME/.openclaw`. `None` when neither variable is set.
pub fn state_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = var(&env, "OPENCLAW_STATE_DIR") {
        return Some(expand_home(&env, dir));
    }
    var(&env, "HOME").map(|home| PathBuf::from(home).join(".openclaw"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn config_path_precedence() {
        assert_eq!(
            config_path(env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.openclaw/openclaw.json"))
        );
        assert_eq!(
            config_path(env(&[
                ("HOME", "/home/u"),
                ("OPENCLAW_CONFIG_PATH", "/etc/oc.json")
            ])),
            Some(PathBuf::from("/etc/oc.json"))
        );
        assert_eq!(
            config_path(env(&[
                ("HOME", "/home/u"),
                ("OPENCLAW_CONFIG_PATH", "~/x.json")
            ])),
            Some(PathBuf::from("/home/u/x.json"))
        );
        assert_eq!(
            config_path(env(&[("HOME", "/home/u"), ("OPENCLAW_CONFIG_PATH", "")])),
            Some(PathBuf::from("/home/u/.openclaw/openclaw.json"))
        );
        assert_eq!(config_path(env(&[])), None);
    }

    #[test]
    fn state_dir_precedence() {
        assert_eq!(
            state_dir(env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.openclaw"))
        );
        assert_eq!(
            state_dir(env(&[("HOME", "/h"), ("OPENCLAW_STATE_DIR", "/var/oc")])),
            Some(PathBuf::from("/var/oc"))
        );
        assert_eq!(state_dir(env(&[])), None);
    }
}
