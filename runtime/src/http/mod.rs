//! Former home of the HTTP layers, which are now in [`crate::pipeline`]; the CORS settings
//! keep their path here for configuration code.

pub(crate) use crate::pipeline::after;
pub use crate::pipeline::{CorsConfig, cors_layer};
