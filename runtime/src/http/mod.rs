//! The HTTP layers of the pipeline that are neither identity nor observability.

mod body;
mod host;
mod in_flight;
mod panic;
mod security;
mod shed;
mod timeout;

pub use body::{BodyGuardLayer, BodyGuardService};
pub use host::{HostCheckLayer, HostCheckService};
pub use in_flight::{InFlightLayer, InFlightService};
pub use panic::{CatchPanicLayer, install_panic_hook};
pub use security::{CorsConfig, SecurityHeadersLayer, cors_layer};
pub use shed::LoadShedLayer;
pub(crate) use timeout::after;
pub use timeout::{RequestDeadline, TimeoutLayer};
