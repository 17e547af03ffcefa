//! OpenTelemetry export (the `otel` feature): the tracer provider and the `tracing` layer that
//! turns rampart's spans (`crate::spans`) into OpenTelemetry spans, exported over OTLP
//! HTTP/protobuf in batches by the SDK's own thread, off the request path.
//!
//! Configured by the standard variables only: export is on when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and
//! `OTEL_SDK_DISABLED` is not `true`; `OTEL_SERVICE_NAME` names the service (else the app's
//! service name); `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` choose the sampler (the SDK
//! reads them; the default follows the caller's decision and samples new traces);
//! `OTEL_BSP_*` size the batches. The queue is bounded (2048 spans by default): when the
//! collector is slow or down, spans are dropped, never requests slowed; each failed export is
//! counted in `rampart_otel_export_errors_total`.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithHttpConfig as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter};

/// The layer [`layer`] gives: spans only. Events (log lines) never reach a span: they are
/// rampart's JSON lines, redacted there, and a span exported elsewhere carries no copy.
pub(super) type SpanLayer<S> = Filtered<OpenTelemetryLayer<S, SdkTracer>, SpansOnly, S>;

/// The filter directive that lets rampart's spans (`crate::spans`, which logs no event) through
/// the subscriber's level filter.
pub(super) const SPANS_DIRECTIVE: &str = "rampart_runtime::spans=info";

/// Lets every span through and no event. Events are refused in `event_enabled`, when they
/// are dispatched, never in `enabled`: a per-layer `enabled` verdict is kept per thread until
/// the next event or span consumes it, and code that asks `enabled` without dispatching (the
/// access line's shortcut, `tracing::enabled!`) would leave a refusal for the next span,
/// which the layer would then never see.
#[derive(Debug, Clone, Copy)]
pub(super) struct SpansOnly;

impl<S> Filter<S> for SpansOnly {
    fn enabled(&self, _metadata: &tracing::Metadata<'_>, _context: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, _event: &tracing::Event<'_>, _context: &Context<'_, S>) -> bool {
        false
    }
}

/// The exporter, counting what it sends and what fails.
#[derive(Debug)]
struct Counted<E>(E);

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.0.export(batch).await;
        match &result {
            Ok(()) => metrics::counter!("rampart_otel_spans_exported_total").increment(spans),
            Err(_) => {
                metrics::counter!("rampart_otel_export_errors_total").increment(1);
                metrics::counter!("rampart_otel_spans_dropped_total").increment(spans);
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.0.set_resource(resource);
    }
}

fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Whether the environment asks for export.
fn configured() -> bool {
    let disabled =
        variable("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let endpoint = variable("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || variable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
    endpoint && !disabled
}

/// Keeps the provider; dropping it flushes and stops the export.
#[derive(Debug)]
pub(super) struct Export {
    provider: SdkTracerProvider,
}

impl Drop for Export {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            // The last spans could not be sent; nothing else is lost.
            tracing::warn!(error = %error, "the OpenTelemetry export did not shut down cleanly");
        }
    }
}

/// The export of a subscriber installed without a guard (`init_logging_with`): dropping it
/// would shut the provider down at once, and every span after would be empty.
static KEPT: std::sync::OnceLock<Export> = std::sync::OnceLock::new();

/// Keeps `export` running until the process ends.
pub(super) fn keep_for_the_process(export: Export) {
    let _ = KEPT.set(export);
}

/// The layer of spans for the subscriber `S`, and what keeps its export running; `None` when
/// the environment does not ask for export or the exporter cannot be built (logged).
pub(super) fn layer<S>(service: &str) -> Option<(SpanLayer<S>, Export)>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    if !configured() {
        return None;
    }
    // Built on a thread of its own: a blocking client cannot be made inside an async runtime,
    // and `init_logging` may be called inside one.
    let http = std::thread::spawn(|| {
        let tls = crate::tls::client_config().map_err(|error| error.to_string())?;
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| error.to_string())
    })
    .join()
    .unwrap_or_else(|_| Err("the thread building the HTTP client panicked".to_owned()));
    let http = match http {
        Ok(http) => http,
        Err(error) => {
            eprintln!("OpenTelemetry export is off: its HTTP client could not be built: {error}");
            return None;
        }
    };
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(http)
        .build()
    {
        Ok(exporter) => exporter,
        Err(error) => {
            // Logged once the subscriber exists (see `init_logging_with`): no export.
            eprintln!("OpenTelemetry export is off: the OTLP exporter could not be built: {error}");
            return None;
        }
    };
    let mut resource = opentelemetry_sdk::Resource::builder();
    if variable("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service.to_owned());
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Counted(exporter))
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("rampart");
    crate::spans::enable();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_filter(SpansOnly);
    Some((layer, Export { provider }))
}
