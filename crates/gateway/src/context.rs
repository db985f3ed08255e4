//! What every command gets: the environment snapshot, the file locations and the output.

use std::path::PathBuf;

use openclaw_config::Config;
use openclaw_creds::{Env, RegionSource};
use openclaw_discovery::ModelResolver;

use crate::exit::{CmdResult, ExitKind, Failure};
use crate::output::Out;

/// The process-independent inputs of a command. Built once in `main` from the process
/// environment, or by `demo` from an explicit one: nothing below reads the process environment.
#[derive(Clone, Debug)]
pub struct Context {
    /// The environment snapshot.
    pub env: Env,
    /// The configuration file in use.
    pub config_path: PathBuf,
    /// The state directory (discovery cache), if one is known.
    pub state_dir: Option<PathBuf>,
    /// Terminal output.
    pub out: Out,
}

impl Context {
    /// Resolves the file locations: `--config`, else `OPENCLAW_CONFIG_PATH`, else
    /// `~/.openclaw/openclaw.json`; state: `OPENCLAW_STATE_DIR`, else `~/.openclaw`.
    pub fn new(env: Env, config_flag: Option<PathBuf>, out: Out) -> CmdResult<Self> {
        let lookup = |name: &str| env.get(name).map(str::to_string);
        let config_path = match config_flag {
            Some(path) => path,
            None => openclaw_config::config_path(lookup).ok_or_else(|| {
                Failure::new(
                    ExitKind::Config,
                    "cannot locate the configuration file: expected --config, OPENCLAW_CONFIG_PATH or HOME to be set",
                )
            })?,
        };
        let state_dir = openclaw_config::state_dir(|name: &str| env.get(name).map(str::to_string));
        Ok(Context {
            env,
            config_path,
            state_dir,
            out,
        })
    }

    /// Loads and validates the configuration (a missing file is an empty configuration).
    pub fn load_config(&self) -> CmdResult<Config> {
        Ok(Config::load(&self.config_path)?)
    }

    /// Loads the configuration and resolves its credential source, region and AWS settings
    /// (offline). A bad region set in the file names the file.
    pub fn resolver(&self) -> CmdResult<ModelResolver> {
        let config = self.load_config()?;
        ModelResolver::new(config, &self.env, self.state_dir.as_deref()).map_err(|err| match &err {
            openclaw_discovery::Error::Aws(openclaw_creds::Error::InvalidRegion {
                origin: RegionSource::Config,
                ..
            }) => Failure::new(
                ExitKind::Config,
                format!("{}: {err}", self.config_path.display()),
            ),
            _ => Failure::from(err),
        })
    }
}
