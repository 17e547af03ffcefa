//! Logs and metrics: the JSON log format, the panic hook and Prometheus. The access log itself
//! is written by the pipeline's edge service (the `pipeline` module).

mod access_line;
mod json;
mod log;
mod metrics;
#[cfg(feature = "otel")]
mod otel;
mod panic_hook;
mod redact;
mod writer;

pub use access_line::RequestStartLevel;
pub(crate) use access_line::{log_access, log_request_start};
pub use log::{JsonLogLayer, LogGuard, init_logging, init_logging_with, record_trace_on_span};
pub use metrics::{MetricsHandle, install_prometheus, render_metrics};
pub use panic_hook::install_panic_hook;
pub(crate) use redact::holds_redacted_shape;
pub use writer::{BatchGuard, BatchWriter};
