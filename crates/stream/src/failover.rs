//! Failover across models and regions before the first token, with a circuit breaker per
//! target.
//!
//! A [`Failover`] is an ordered list of [`Target`]s (the requested model first, then its
//! fallbacks). A call tries them in order and commits to the first one that produces content:
//!
//! - **Only before the first content event.** `start`, `text_start` and `thinking_start` are
//!   held back; the first delta, tool call, block end or `done` commits the call to that
//!   target, and from then on its events (including a later `error`) pass through untouched:
//!   nothing is retried once the caller may have shown output.
//! - **Only failures another target can fix** ([`fails_over`]): throttling (after the
//!   provider SDK's own retries), unavailable, timeouts (the provider's and the
//!   [`FailoverSettings::first_token_timeout`]), 5xx and other upstream failures, "not found"
//!   (model not offered there) and access denied for the model. A validation error (the
//!   request itself is wrong), other authentication failures and aborts end the call as they
//!   are.
//! - **A circuit breaker per target** ([`Breakers`], shared by every call): after
//!   [`FailoverSettings::breaker_failures`] consecutive failover-worthy failures a target is
//!   skipped (without being called) for [`FailoverSettings::breaker_cool_down`], or the
//!   provider's `Retry-After` when longer; then one call probes it: success closes the
//!   breaker, failure opens it again.
//! - **When every target fails** (or is skipped) the terminal error carries the primary's
//!   classification (its HTTP status, so clients see the error of the model they asked for)
//!   and a message listing every attempt with its reason.
//!
//! Replacing the model of a request is all a fallback needs: the Converse request builder
//! replays thinking signatures only to the model family that produced them and places cache
//! points only where the model supports them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use openclaw_config::ModelDefinition;

use crate::{
    ErrorInfo, ErrorKind, EventStream, ModelStream, StreamEvent, StreamOptions, StreamRequest,
};

/// How failover behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverSettings {
    /// Longest wait for the first content event of an attempt (after which the attempt is
    /// abandoned and the next target tried); `None` waits as long as the provider's own
    /// timeouts allow.
    pub first_token_timeout: Option<Duration>,
    /// Consecutive failover-worthy failures after which a target's breaker opens (0: never).
    pub breaker_failures: u32,
    /// How long an open breaker skips its target (at least; a longer `Retry-After` wins).
    pub breaker_cool_down: Duration,
}

impl Default for FailoverSettings {
    fn default() -> Self {
        FailoverSettings {
            first_token_timeout: Some(Duration::from_secs(60)),
            breaker_failures: 3,
            breaker_cool_down: Duration::from_secs(30),
        }
    }
}

/// One model a call may be served by.
#[derive(Clone)]
pub struct Target {
    /// Its name in reports, logs and breaker state, for example
    /// `amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`.
    pub label: String,
    /// The model definition the request is sent with.
    pub model: ModelDefinition,
    /// The stream serving it.
    pub stream: Arc<dyn ModelStream>,
}

impl Target {
    /// A target named `label`.
    pub fn new(
        label: impl Into<String>,
        model: ModelDefinition,
        stream: Arc<dyn ModelStream>,
    ) -> Self {
        Target {
            label: label.into(),
            model,
            stream,
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("label", &self.label)
            .field("model", &self.model.id)
            .finish_non_exhaustive()
    }
}

/// Whether a failure before the first content event is worth trying another target for.
///
/// Yes: throttled, unavailable, timeout, upstream (5xx, dropped connection, corrupt stream),
/// not found (the model is not offered there) and access denied (`AccessDeniedException`:
/// the model or region is not enabled). No: validation (the request is wrong everywhere),
/// other authentication failures (the same credentials would fail again) and aborts.
pub fn fails_over(info: &ErrorInfo) -> bool {
    match info.kind {
        ErrorKind::Throttled
        | ErrorKind::Unavailable
        | ErrorKind::Timeout
        | ErrorKind::Upstream
        | ErrorKind::NotFound => true,
        ErrorKind::Auth => info.code.as_deref() == Some("AccessDeniedException"),
        ErrorKind::Validation | ErrorKind::Aborted => false,
    }
}

/// The global cross-region inference profile of a geographic one (`us.x` -> `global.x`), for
/// region failover; `None` for any other id.
pub fn global_profile(id: &str) -> Option<String> {
    const GEO: [&str; 8] = ["us.", "us-gov.", "eu.", "apac.", "au.", "jp.", "ca.", "ap."];
    GEO.iter()
        .find_map(|p| id.strip_prefix(p))
        .filter(|rest| !rest.is_empty())
        .map(|rest| format!("global.{rest}"))
}

/// What happened to one target of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It produced content: the call is served by it (a later failure is the stream's).
    Served,
    /// It failed before its first content event.
    Failed {
        /// The failure's classification.
        info: ErrorInfo,
        /// The failure's message.
        message: String,
    },
    /// Its breaker was open: not called.
    Skipped,
}

/// One target of a call and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The target's label.
    pub target: String,
    /// What happened.
    pub outcome: Outcome,
}

impl Attempt {
    /// The short reason shown in lists of attempts: `served`, `skipped (circuit open)` or the
    /// failure's kind and code (`throttled (ThrottlingException)`).
    pub fn reason(&self) -> String {
        match &self.outcome {
            Outcome::Served => "served".into(),
            Outcome::Skipped => "skipped (circuit open)".into(),
            Outcome::Failed { info, .. } => match &info.code {
                Some(code) => format!("{} ({code})", info.kind),
                None => info.kind.to_string(),
            },
        }
    }
}

/// What a call did, filled in as it runs: readable while and after the stream is consumed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    inner: Arc<Mutex<ReportState>>,
}

#[derive(Debug, Default)]
struct ReportState {
    attempts: Vec<Attempt>,
    settled: bool,
}

impl Report {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReportState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, attempt: Attempt) {
        self.lock().attempts.push(attempt);
    }

    fn settle(&self) {
        self.lock().settled = true;
    }

    /// Every target considered so far, in order.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.lock().attempts.clone()
    }

    /// The label of the target that served the call, once one did.
    pub fn served(&self) -> Option<String> {
        self.lock()
            .attempts
            .iter()
            .find(|a| a.outcome == Outcome::Served)
            .map(|a| a.target.clone())
    }

    /// Targets actually called (skipped ones not counted).
    pub fn calls(&self) -> usize {
        self.lock()
            .attempts
            .iter()
            .filter(|a| a.outcome != Outcome::Skipped)
            .count()
    }

    /// Whether the call has committed to a target or ended (the first event was delivered).
    pub fn is_settled(&self) -> bool {
        self.lock().settled
    }
}

/// The state of one target's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls skip the target until the cool-down ends.
    Open,
    /// The cool-down ended and one probe call is in flight (others still skip it).
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// 0 closed, 1 open, 2 half-open (a gauge value).
    pub fn gauge(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// One target's breaker, as shown in metrics and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerStatus {
    /// The target's label.
    pub target: String,
    /// Its state now (an open breaker whose cool-down ended shows `half_open`).
    pub state: BreakerState,
    /// Failover-worthy failures in a row.
    pub consecutive_failures: u32,
    /// Times the breaker opened.
    pub opened_total: u64,
    /// Calls that skipped the target while it was open.
    pub skipped_total: u64,
}

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
    opened_total: u64,
    skipped_total: u64,
    /// The last failure, shown when every target is skipped.
    last_failure: Option<ErrorInfo>,
}

/// Whether a call may use a target now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admit {
    Go,
    Probe,
    Skip,
}

/// The circuit breakers of every target, shared by all calls (one per gateway or process).
#[derive(Debug)]
pub struct Breakers {
    settings: FailoverSettings,
    states: Mutex<HashMap<String, Breaker>>,
}

impl Breakers {
    /// Breakers opening after `settings.breaker_failures` failures for
    /// `settings.breaker_cool_down`.
    pub fn new(settings: FailoverSettings) -> Self {
        Breakers {
            settings,
            states: Mutex::new(HashMap::new()),
        }
    }

    /// The settings the breakers (and calls using them) follow.
    pub fn settings(&self) -> FailoverSettings {
        self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Breaker>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn admit(&self, target: &str) -> Admit {
        let mut states = self.lock();
        let Some(b) = states.get_mut(target) else {
            return Admit::Go;
        };
        match b.open_until {
            None => Admit::Go,
            Some(until) if Instant::now() >= until && !b.probing => {
                b.probing = true;
                Admit::Probe
            }
            Some(_) => {
                b.skipped_total += 1;
                Admit::Skip
            }
        }
    }

    fn success(&self, target: &str) {
        if let Some(b) = self.lock().get_mut(target) {
            b.failures = 0;
            b.open_until = None;
            b.probing = false;
        }
    }

    fn failure(&self, target: &str, info: &ErrorInfo) {
        let mut states = self.lock();
        let b = states.entry(target.to_string()).or_default();
        b.failures = b.failures.saturating_add(1);
        b.last_failure = Some(info.clone());
        let open = b.probing
            || (self.settings.breaker_failures > 0 && b.failures >= self.settings.breaker_failures);
        b.probing = false;
        if open {
            let retry_after = Duration::from_secs(info.retry_after_secs.unwrap_or(0));
            let cool_down = self.settings.breaker_cool_down.max(retry_after);
            b.open_until = Some(Instant::now() + cool_down);
            b.opened_total += 1;
        }
    }

    /// An attempt that ended without saying anything about the target (an abort, a
    /// validation error, a dropped call): a probe in flight is given back.
    fn release(&self, target: &str) {
        if let Some(b) = self.lock().get_mut(target) {
            b.probing = false;
        }
    }

    fn last_failure(&self, target: &str) -> Option<(ErrorInfo, Option<Duration>)> {
        let states = self.lock();
        let b = states.get(target)?;
        let remaining = b
            .open_until
            .map(|until| until.saturating_duration_since(Instant::now()));
        Some((b.last_failure.clone()?, remaining))
    }

    /// Every target that has failed at least once, sorted by label.
    pub fn snapshot(&self) -> Vec<BreakerStatus> {
        let now = Instant::now();
        let mut out: Vec<BreakerStatus> = self
            .lock()
            .iter()
            .map(|(target, b)| BreakerStatus {
                target: target.clone(),
                state: match b.open_until {
                    None => BreakerState::Closed,
                    Some(_) if b.probing => BreakerState::HalfOpen,
                    Some(until) if now >= until => BreakerState::HalfOpen,
                    Some(_) => BreakerState::Open,
                },
                consecutive_failures: b.failures,
                opened_total: b.opened_total,
                skipped_total: b.skipped_total,
            })
            .collect();
        out.sort_by(|a, b| a.target.cmp(&b.target));
        out
    }
}

impl Default for Breakers {
    fn default() -> Self {
        Breakers::new(FailoverSettings::default())
    }
}

/// An ordered list of targets tried in turn before the first token (see the module
/// documentation).
#[derive(Clone, Debug)]
pub struct Failover {
    targets: Vec<Target>,
    breakers: Arc<Breakers>,
}

impl Failover {
    /// Tries `targets` in order (the first is the primary), with the shared `breakers` and
    /// their settings.
    pub fn new(targets: Vec<Target>, breakers: Arc<Breakers>) -> Self {
        Failover { targets, breakers }
    }

    /// The targets, in order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Starts a call: `request` is sent to each target in turn with the target's model
    /// definition. The [`Report`] tells which targets were tried and which one served.
    pub fn start(&self, request: StreamRequest, options: StreamOptions) -> (EventStream, Report) {
        let report = Report::default();
        let call = Call {
            targets: self.targets.clone(),
            breakers: self.breakers.clone(),
            request,
            options,
            report: report.clone(),
        };
        let stream = futures::stream::once(call.run()).flat_map(|(held, rest)| {
            let rest: EventStream = match rest {
                Some(rest) => rest,
                None => Box::pin(futures::stream::empty()),
            };
            futures::stream::iter(held).chain(rest)
        });
        (Box::pin(stream), report)
    }
}

impl ModelStream for Failover {
    /// [`Failover::start`] without the report (the request's own model is ignored: each
    /// target's is used).
    fn stream(&self, request: StreamRequest, options: StreamOptions) -> EventStream {
        self.start(request, options).0
    }
}

/// One call's selection of a target.
struct Call {
    targets: Vec<Target>,
    breakers: Arc<Breakers>,
    request: StreamRequest,
    options: StreamOptions,
    report: Report,
}

/// A probe or ordinary attempt's hold on its breaker: a probe abandoned without a verdict
/// (the caller dropped the stream) is given back.
struct Ticket<'a> {
    breakers: &'a Breakers,
    target: &'a str,
    settled: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.breakers.release(self.target);
        }
    }
}

/// Whether an event commits a call to its target: anything but the opening events.
fn commits(event: &StreamEvent) -> bool {
    !matches!(
        event,
        StreamEvent::Start { .. }
            | StreamEvent::TextStart { .. }
            | StreamEvent::ThinkingStart { .. }
    )
}

impl Call {
    /// Finds the serving target: the events held back so far and the rest of its stream, or
    /// a terminal event alone.
    async fn run(self) -> (Vec<StreamEvent>, Option<EventStream>) {
        let settings = self.breakers.settings();
        let mut failures: Vec<(String, ErrorInfo, String)> = Vec::new();
        for target in &self.targets {
            let label = target.label.as_str();
            if self.breakers.admit(label) == Admit::Skip {
                tracing::info!(target: "openclaw_stream::failover", "skipping {label}: circuit open");
                self.report.push(Attempt {
                    target: label.to_string(),
                    outcome: Outcome::Skipped,
                });
                continue;
            }
            let mut ticket = Ticket {
                breakers: &self.breakers,
                target: label,
                settled: false,
            };
            let mut request = self.request.clone();
            request.model = target.model.clone();
            let mut events = target.stream.stream(request, self.options.clone());
            let deadline = settings.first_token_timeout.map(|t| Instant::now() + t);
            let mut held = Vec::new();
            let failure = loop {
                let next = match deadline {
                    Some(deadline) => {
                        match tokio::time::timeout_at(deadline.into(), events.next()).await {
                            Ok(next) => next,
                            Err(_) => {
                                let timeout = settings.first_token_timeout.unwrap_or_default();
                                break (
                                    ErrorInfo::new(ErrorKind::Timeout)
                                        .with_code("first_token_timeout"),
                                    format!("no first token within {timeout:?}"),
                                );
                            }
                        }
                    }
                    None => events.next().await,
                };
                match next {
                    None => {
                        break (
                            ErrorInfo::new(ErrorKind::Upstream),
                            "stream ended without a terminal event".to_string(),
                        );
                    }
                    Some(StreamEvent::Error {
                        info,
                        message,
                        partial,
                        reason,
                    }) => {
                        if !fails_over(&info) {
                            // Not another target's to fix: the call ends with it as it is.
                            ticket.settled = true;
                            self.breakers.release(label);
                            self.report.push(Attempt {
                                target: label.to_string(),
                                outcome: Outcome::Failed {
                                    info: info.clone(),
                                    message: message.clone(),
                                },
                            });
                            self.report.settle();
                            held.push(StreamEvent::Error {
                                reason,
                                message,
                                info,
                                partial,
                            });
                            return (held, None);
                        }
                        break (info, message);
                    }
                    Some(event) if commits(&event) => {
                        ticket.settled = true;
                        self.breakers.success(label);
                        self.report.push(Attempt {
                            target: label.to_string(),
                            outcome: Outcome::Served,
                        });
                        self.report.settle();
                        if !failures.is_empty() {
                            tracing::info!(target: "openclaw_stream::failover", "{label} serves the call after {} failed attempt(s)", failures.len());
                        }
                        held.push(event);
                        return (held, Some(events));
                    }
                    Some(event) => held.push(event),
                }
            };
            drop(events);
            let (info, message) = failure;
            ticket.settled = true;
            self.breakers.failure(label, &info);
            tracing::warn!(target: "openclaw_stream::failover", "{label} failed before its first token ({}): {message}", info.kind);
            self.report.push(Attempt {
                target: label.to_string(),
                outcome: Outcome::Failed {
                    info: info.clone(),
                    message: message.clone(),
                },
            });
            failures.push((label.to_string(), info, message));
        }
        self.report.settle();
        (vec![self.exhausted()], None)
    }

    /// The terminal error when no target served: the primary's classification, every attempt
    /// listed.
    fn exhausted(&self) -> StreamEvent {
        let attempts = self.report.attempts();
        let primary = self
            .targets
            .first()
            .map(|t| t.label.as_str())
            .unwrap_or_default();
        let primary_failure = attempts.iter().find_map(|a| match &a.outcome {
            Outcome::Failed { info, .. } if a.target == primary => Some(info.clone()),
            _ => None,
        });
        let info = match primary_failure {
            Some(info) => info,
            None => match self.breakers.last_failure(primary) {
                Some((mut info, remaining)) => {
                    if let Some(remaining) = remaining {
                        let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
                        info.retry_after_secs = Some(secs.max(1));
                    }
                    info
                }
                None => attempts
                    .iter()
                    .find_map(|a| match &a.outcome {
                        Outcome::Failed { info, .. } => Some(info.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| ErrorInfo::new(ErrorKind::Unavailable)),
            },
        };
        let list: Vec<String> = attempts
            .iter()
            .map(|a| format!("{}: {}", a.target, a.reason()))
            .collect();
        let detail: Vec<String> = attempts
            .iter()
            .filter_map(|a| match &a.outcome {
                Outcome::Failed { message, .. } => Some(format!("{}: {message}", a.target)),
                _ => None,
            })
            .collect();
        let mut message = format!(
            "every model failed ({} attempts: {})",
            attempts.len(),
            list.join("; ")
        );
        if !detail.is_empty() {
            message.push_str(" - ");
            message.push_str(&detail.join("; "));
        }
        tracing::warn!(target: "openclaw_stream::failover", "{message}");
        StreamEvent::Error {
            reason: info.reason(),
            message,
            info,
            partial: None,
        }
    }
}

#[cfg(test)]
mod tests;
