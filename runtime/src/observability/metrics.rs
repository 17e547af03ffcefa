//! Prometheus metrics through the `metrics` facade.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets (seconds) for every `*_duration_seconds` and `*_wait_seconds` histogram
/// (`http_request_duration_seconds`, `db_query_duration_seconds`, `rampart_password_hash_wait_seconds`, ...);
/// p50/p95/p99 are derived from them with `histogram_quantile`.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A handle to render the process's metrics.
pub type MetricsHandle = PrometheusHandle;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle; `None` when
/// another recorder was installed first (then `/metrics` says so instead of lying).
pub fn install_prometheus() -> Option<MetricsHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Suffix("wait_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(error = %error, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// Renders the Prometheus text exposition of everything recorded so far.
pub fn render_metrics() -> Option<String> {
    install_prometheus().map(|handle| handle.render())
}
