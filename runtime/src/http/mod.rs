//! The HTTP layers of the pipeline that are neither identity nor observability.

mod panic;
mod security;
mod shed;
mod timeout;

pub use panic::{CatchPanicLayer, install_panic_hook};
pub use security::{CorsConfig, SecurityHeadersLayer, cors_layer};
pub use shed::LoadShedLayer;
pub use timeout::TimeoutLayer;
