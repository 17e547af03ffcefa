//! Logs and metrics: the JSON log format, the access log (layer 2) and Prometheus.

mod access;
mod log;
mod metrics;
mod writer;

pub use access::{AccessLogLayer, AccessLogService};
pub use log::{JsonLogLayer, LogGuard, init_logging, init_logging_with};
pub use metrics::{
    MetricsHandle, install_prometheus, metrics_router, render_metrics, serve_metrics,
};
pub use writer::{BatchGuard, BatchWriter};
