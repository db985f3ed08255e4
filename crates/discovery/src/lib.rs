//! Amazon Bedrock model discovery for OpenClaw.
//!
//! Discovery lists what a Bedrock account can chat with and turns it into the implicit
//! `amazon-bedrock` provider: the same [`openclaw_config::ModelDefinition`]s a user writes by
//! hand, merged with the user's explicit providers.
//!
//! # What it does
//!
//! - **Listing** ([`SdkControlPlane`]): `ListFoundationModels` once (no server-side filter) and
//!   every page of `ListInferenceProfiles` for `SYSTEM_DEFINED` and for `APPLICATION`,
//!   concurrently, through `aws-sdk-bedrock` configured by `openclaw-creds`, in the requested
//!   region.
//! - **Application inference profiles** (the ARNs enterprises split cost by team with): listed
//!   by ARN under their own name, resolved to their base model (`models[].modelArn`, else
//!   `GetInferenceProfile`), whose traits and prices they inherit, with `baseModel` set;
//!   filtered by the base model's provider. A denied `APPLICATION` listing is a warning, not a
//!   failure. [`Discovery::describe`] gives a definition for any Bedrock ARN discovery did not
//!   list (`GetInferenceProfile` for profile ARNs).
//! - **Rules** ([`build_models`], pure): keep models that stream, output TEXT and are ACTIVE;
//!   provider filter matches the normalised provider name *or* the id prefix ([`ProviderFilter`]);
//!   a model that cannot be invoked ON_DEMAND is never listed by its bare id (OpenClaw lists it
//!   and the call then fails), it is reachable through its inference profiles, which inherit the
//!   base model's name, input, reasoning and limits; ids de-duplicated case-insensitively; sorted
//!   by name, ties by id.
//! - **Known models** ([`known`]): a table of well-known models (embedded
//!   `data/bedrock-known-models.json`, from pi-ai 0.73.1's public registry) gives context window,
//!   max tokens, reasoning and on-demand list prices per million tokens (AWS's public prices,
//!   which may differ from what an account pays); the configured defaults (floored: 0 → 32000 /
//!   4096) and a zero cost are the fallback; explicit user model entries, their `cost`
//!   included, always win ([`resolve_providers`]).
//! - **Merging** ([`resolve_providers`], [`should_discover`], [`Discovery::providers_or_explicit`]):
//!   explicit fields and model lists win over discovered ones; a failed discovery serves the
//!   explicit providers alone.
//! - **Cache** ([`Discovery`]): in memory with TTL = `refreshInterval` (0 = none), single-flight
//!   (concurrent callers share one in-flight discovery), stale-on-error, a bounded timeout (30 s
//!   by default), typed errors naming the AWS failure (AccessDenied names the missing IAM action),
//!   and an optional on-disk cache under the state directory, written atomically.
//! - **Resolving a configuration's models** ([`ModelResolver`]): from a configuration and an
//!   environment, offline, the credential source, region and AWS settings; whether discovery
//!   runs and why; the explicit providers merged with the discovered ones
//!   ([`ModelResolver::resolve`]); the rows of a listing ([`ModelRow`], OpenClaw's
//!   `models list --json`); a model reference resolved to a definition and the settings to call
//!   it with ([`ModelResolver::target`], with "did you mean" suggestions for an unknown model)
//!   and its fallbacks.
//! - **Degraded listing**: when IAM denies only `bedrock:ListInferenceProfiles` (a policy
//!   granting just `bedrock:ListFoundationModels`), the on-demand models are still
//!   discovered and [`Catalog::warnings`] names the missing action.
//!
//! # Design choices
//!
//! - The raw listings ([`Listing`]) are what is cached, keyed on region and the control plane's
//!   identity (endpoint override, credential source, profile name, and for static keys a SHA-256
//!   of the access key id); filter and defaults are applied per request, so changing them never
//!   calls AWS. [`Discovery::disk_status`] reads the disk entry's age without calling AWS.
//! - A `refresh` request never gets a cached listing: it calls AWS, or joins an in-flight call
//!   to AWS, never a flight that may answer from the disk.
//! - [`ControlPlane`] is the seam to AWS; [`SdkControlPlane`] is the only implementation that
//!   talks to it. The crate's tests run the real SDK against `fake-bedrock` over HTTP.
//! - Time comes from an injectable [`Clock`] so TTLs are testable without sleeping; the
//!   `test-util` feature adds `ManualClock`, a clock that only moves when told to (for tests,
//!   not part of the default API).
//! - Discovered models carry the table's list prices (OpenClaw reports zero for all of them);
//!   a model the table does not know costs zero, the "unknown" OpenClaw uses. They are list
//!   prices: an account with a discount writes its own `cost` in an explicit model entry.
//!
//! # Example
//!
//! ```no_run
//! use openclaw_discovery::{Discovery, DiscoveryOptions, DiscoveryRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = openclaw_config::Config::default();
//! let env = openclaw_creds::Env::from_process();
//! let region = openclaw_creds::resolve_region(None, None, &env)?;
//! let settings = openclaw_creds::AwsSettings::from_env(&env, &region, None)?;
//! let discovery = Discovery::from_settings(
//!     &settings,
//!     DiscoveryOptions::default().with_state_dir("/home/me/.openclaw"),
//! );
//! let request = DiscoveryRequest::from_config(&config.bedrock_discovery(), &region.region);
//! let resolved = discovery
//!     .providers_or_explicit(&request, &config.models.providers)
//!     .await;
//! if let Err(err) = &resolved.catalog {
//!     eprintln!("bedrock discovery failed ({:?}), configured models only: {err}", err.kind());
//! }
//! for (provider, config) in &resolved.providers {
//!     for model in &config.models {
//!         println!("{provider}/{} ({})", model.id, model.name);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod clock;
mod discovery;
mod disk;
mod error;
mod filter;
pub mod known;
mod listing;
mod map;
mod merge;
mod plane;
mod resolver;
mod rows;

#[cfg(any(test, feature = "test-util"))]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use discovery::{
    CacheStatus, Catalog, DEFAULT_TIMEOUT, Discovery, DiscoveryOptions, DiscoveryRequest,
    DiskCacheStatus, ProvidersOrExplicit,
};
pub use error::{Error, ErrorKind, Operation};
pub use filter::ProviderFilter;
pub use listing::{FoundationModel, InferenceProfile, Listing};
pub use map::{MappingOptions, build_models, invocable_on_demand, sort_models, usable};
pub use merge::{
    PROVIDER_ID, implicit_provider, resolve_providers, runtime_base_url, should_discover,
};
pub use plane::{ControlPlane, SdkControlPlane};
pub use resolver::{
    DiscoveryDecision, DiscoveryOutcome, Fallbacks, ModelResolver, ModelTarget, ResolvedModels,
};
pub use rows::ModelRow;
