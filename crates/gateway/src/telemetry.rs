//! Logs (text or JSON lines on stderr) and traces (OpenTelemetry over OTLP/HTTP): the one
//! place of the workspace that knows OpenTelemetry.
//!
//! `openclaw-serve` opens its request spans with `tracing` (target
//! [`openclaw_serve::SPAN_TARGET`], OpenTelemetry field names); here a `tracing-opentelemetry`
//! layer turns them into OpenTelemetry spans, a batch processor sends them to the collector,
//! and [`W3cPropagation`] joins them to the client's trace and hands the trace on to Bedrock.
//! Traces are off unless `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
//! is set (read from the process environment snapshot, like every other variable).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use openclaw_creds::Env;
use openclaw_serve::TracePropagation;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::cli::LogFormat;

/// The variable choosing the log format when `--log-format` is not given.
pub const LOG_FORMAT_ENV: &str = "OPENCLAW_LOG_FORMAT";

/// The service name when `OTEL_SERVICE_NAME` is unset.
const SERVICE_NAME: &str = "openclaw-gateway";

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where traces go, from the `OTEL_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The full URL spans are posted to (`.../v1/traces`).
    pub endpoint: String,
    /// `service.name` of the resource.
    pub service_name: String,
}

impl OtlpSettings {
    /// The settings, `Ok(None)` when traces are off: no endpoint, `OTEL_SDK_DISABLED=true` or
    /// `OTEL_TRACES_EXPORTER=none`. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used as it is;
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` gets `/v1/traces` appended (the OTLP rules). Only
    /// `http://` endpoints and the `http/protobuf` protocol are supported.
    pub fn from_env(env: &Env) -> Result<Option<Self>, String> {
        if env
            .get_nonempty("OTEL_SDK_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || env
                .get_nonempty("OTEL_TRACES_EXPORTER")
                .is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        let (var, endpoint) =
            if let Some(url) = env.get_nonempty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.trim().to_owned())
            } else if let Some(base) = env.get_nonempty("OTEL_EXPORTER_OTLP_ENDPOINT") {
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("{}/v1/traces", base.trim().trim_end_matches('/')),
                )
            } else {
                return Ok(None);
            };
        if !endpoint.starts_with("http://") {
            return Err(format!(
                "{var}: expected an http:// URL (traces are sent over plain OTLP/HTTP: run a collector agent beside the gateway), found `{endpoint}`"
            ));
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(protocol) = env.get_nonempty(var)
                && protocol != "http/protobuf"
            {
                return Err(format!(
                    "{var}: expected `http/protobuf` (the only OTLP protocol supported), found `{protocol}`"
                ));
            }
        }
        let service_name = env
            .get_nonempty("OTEL_SERVICE_NAME")
            .unwrap_or(SERVICE_NAME)
            .to_owned();
        Ok(Some(OtlpSettings {
            endpoint,
            service_name,
        }))
    }
}

/// What must outlive the program's work: the trace pipeline, flushed by [`Telemetry::shutdown`].
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered and stops the exporter. Call it from outside the async
    /// runtime while the runtime still runs (the exports run on it).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(target: openclaw_serve::LOG_TARGET, "could not flush the traces: {e}");
        }
    }
}

/// Installs the global subscriber: `fmt` lines on stderr (text or JSON) filtered by
/// `directives`, and the OpenTelemetry layer (request spans only) when `otlp` is set. The
/// exporter's HTTP calls run on `runtime`.
pub fn init(
    format: LogFormat,
    directives: &str,
    fallback: &str,
    ansi: bool,
    with_target: bool,
    otlp: Option<&OtlpSettings>,
    runtime: &tokio::runtime::Handle,
) -> Result<Telemetry, String> {
    let filter = || {
        tracing_subscriber::EnvFilter::try_new(directives)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(fallback))
    };
    let fmt = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_target(with_target)
            // The request spans are for traces: text lines stay as they were.
            .with_filter(filter().add_directive(span_off()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
    };
    let (otel, provider) = match otlp {
        Some(settings) => {
            let provider = provider(settings, runtime)?;
            let tracer = provider.tracer("openclaw");
            let only_spans = tracing_subscriber::filter::Targets::new()
                .with_target(openclaw_serve::SPAN_TARGET, tracing::Level::INFO);
            let layer = tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(only_spans);
            (Some(layer), Some(provider))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    Ok(Telemetry { provider })
}

/// `openclaw::gateway::span=off`.
fn span_off() -> tracing_subscriber::filter::Directive {
    format!("{}=off", openclaw_serve::SPAN_TARGET)
        .parse()
        .unwrap_or_else(|_| tracing::Level::INFO.into())
}

fn provider(
    settings: &OtlpSettings,
    runtime: &tokio::runtime::Handle,
) -> Result<SdkTracerProvider, String> {
    let client = OnRuntime {
        client: Arc::new(
            opentelemetry_http::hyper::HyperClient::with_default_connector(EXPORT_TIMEOUT, None),
        ),
        runtime: runtime.clone(),
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.clone())
        .with_timeout(EXPORT_TIMEOUT)
        .with_http_client(client)
        .build()
        .map_err(|e| {
            format!(
                "cannot set up the trace exporter for {}: {e}",
                settings.endpoint
            )
        })?;
    let resource = Resource::builder_empty()
        .with_service_name(settings.service_name.clone())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The exporter's HTTP client (hyper, which needs a Tokio runtime) run on the program's
/// runtime: the batch processor exports from a thread of its own.
#[derive(Debug)]
struct OnRuntime {
    client: Arc<dyn HttpClient>,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.send_bytes(request).await })
            .await?
    }
}

/// W3C Trace Context between the request spans of `openclaw-serve` and OpenTelemetry: the
/// client's `traceparent`/`tracestate` become the request span's parent, and the Bedrock
/// call's span is handed on as a `traceparent`. Without the OpenTelemetry layer (traces off)
/// it does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct W3cPropagation;

impl TracePropagation for W3cPropagation {
    fn set_parent(&self, span: &tracing::Span, headers: &http::HeaderMap) {
        if headers.contains_key("traceparent") {
            let parent = TraceContextPropagator::new()
                .extract(&opentelemetry_http::HeaderExtractor(headers));
            let _ = span.set_parent(parent);
        }
    }

    fn traceparent(&self, span: &tracing::Span) -> Option<String> {
        let mut fields = HashMap::new();
        TraceContextPropagator::new().inject_context(&span.context(), &mut fields);
        fields.remove("traceparent")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn traces_are_off_without_an_endpoint() {
        assert_eq!(OtlpSettings::from_env(&env(&[])), Ok(None));
        let on = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")];
        for off in [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ] {
            assert_eq!(OtlpSettings::from_env(&env(&[on[0], off])), Ok(None));
        }
    }

    #[test]
    fn endpoints_follow_the_otlp_rules() {
        let base = OtlpSettings::from_env(&env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318/",
        )]));
        assert_eq!(
            base,
            Ok(Some(OtlpSettings {
                endpoint: "http://127.0.0.1:4318/v1/traces".into(),
                service_name: "openclaw-gateway".into(),
            }))
        );
        let traces = OtlpSettings::from_env(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom"),
            ("OTEL_SERVICE_NAME", "gw-eu"),
        ]));
        assert_eq!(
            traces,
            Ok(Some(OtlpSettings {
                endpoint: "http://c:4318/custom".into(),
                service_name: "gw-eu".into(),
            }))
        );
    }

    #[test]
    fn unsupported_endpoints_and_protocols_are_refused() {
        let https = OtlpSettings::from_env(&env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector:4318",
        )]));
        assert!(
            https
                .unwrap_err()
                .starts_with("OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// URL")
        );
        let grpc = OtlpSettings::from_env(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]));
        assert_eq!(
            grpc,
            Err("OTEL_EXPORTER_OTLP_PROTOCOL: expected `http/protobuf` (the only OTLP protocol supported), found `grpc`".into())
        );
    }
}
