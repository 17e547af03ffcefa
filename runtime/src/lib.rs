//! rampart-runtime: everything the rampart macros expand into, as plain typed code.
//!
//! Users depend on the facade crate `rampart`; this crate is its engine room.

pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod client;
pub mod config;
pub mod context;
pub mod db;
pub mod dependency;
mod describe;
pub mod endpoint;
pub mod error;
pub mod extract;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod macro_support;
pub mod observability;
pub mod openapi;
pub mod pagination;
// Not part of the API: its layers read the client IP from the request context the edge sets,
// so composed in another order or without the edge they would lose IP keying. `Api::into_router`
// is the supported way to get the pipeline.
#[doc(hidden)]
pub mod pipeline;
pub mod rate_limit;
pub mod resource;
pub mod response;
pub mod server;
pub mod spans;
pub mod task;
pub mod testing;
pub mod text;
mod tls;
pub mod trace;
mod validation;

pub use api::{Api, ApiBuildError};
pub use app::App;
pub use config::{Config, ConfigError, Environment};
pub use db::{Db, DbConfig, Migrations};
pub use dependency::{Dep, Dependencies, Dependency, UnregisteredDep};
pub use endpoint::{Endpoint, EndpointDef};
pub use error::{ApiError, ErrorCode, FieldIssue};
pub use extract::{ClientIp, Ctx, Json, Page, Path, Query};
pub use pagination::{OffsetPage, PageMeta};
pub use resource::{
    CapturedScope, IfMatch, Isolation, ListQuery, Resource, Scope, Store, Tagged, Tx, UnscopedAdmin,
};
pub use response::{
    Accepted, ApiResult, Created, EndpointOutput, NoContent, Paginated, Reply, Sensitive,
};

/// The crates generated code and users reach through `rampart` (one version for everyone).
#[doc(hidden)]
pub mod deps {
    pub use axum;
    pub use serde;
    pub use serde_json;
    pub use sqlx;
    pub use utoipa;
    pub use uuid;
    pub use validator;
}
