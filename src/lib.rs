//! # rampart
//!
//! Secure, declarative REST APIs on axum. Declare an endpoint and get, from that alone:
//! authentication by default, role and permission checks verified at compile time, validated
//! input with field-level 400s, a consistent `{data, meta, error}` envelope, request ids, JSON
//! access logs without secrets, Prometheus metrics, and an OpenAPI 3.1 document whose security
//! and error responses come from the same declaration.
//!
//! ```
//! use rampart::prelude::*;
//! use serde::Serialize;
//!
//! rampart::roles! { member: ["notes:read", "notes:write"] }
//!
//! #[derive(Serialize, Schema)]
//! struct Note {
//!     id: u64,
//!     title: String,
//! }
//!
//! /// Get one note.
//! #[endpoint(get = "/notes/{id}", role = "member", tag = "notes")]
//! async fn get_note(ctx: Ctx, Path(id): Path<u64>) -> ApiResult<Note> {
//!     let _caller = ctx.user()?;
//!     Ok(Note { id, title: "hello".to_owned() })
//! }
//!
//! fn main() {
//!     let api = Api::new().mount(get_note);
//!     // `api.into_router(&app)` gives a plain axum Router with the whole pipeline.
//!     assert!(api.openapi().paths.paths.contains_key("/api/v1/notes/{id}"));
//! }
//! ```
//!
//! A user crate depends on `rampart`, `serde` (for `#[derive(Deserialize, Serialize)]`) and
//! `validator` (its `#[derive(Validate)]` expands to paths of the `validator` crate).
#![doc = include_str!("../docs/guide.md")]

extern crate self as rampart;

pub mod identity;
pub mod jobs;

/// Declares an endpoint on an `async fn`.
///
/// ```text
/// #[endpoint(get | post | put | patch | delete = "/path/{param}",
///            public | role = "r" | roles = ["a", "b"] | permission = "res:action",
///            auth = "jwt", tag = "t", operation_id = "id", deprecated,
///            body_limit = "64KiB", timeout = "5s", errors = [409, 422],
///            idempotent | idempotent(ttl = "24h"))]
/// ```
///
/// - Authentication is required unless `public`. Role and permission names are checked at
///   compile time against the crate's [`roles!`] table; a failed check at runtime is 403.
/// - `Path` bindings are checked against the path template at compile time.
/// - `Json<T>` and `Query<T>` are deserialized then validated before the handler runs.
/// - `Dep<T>` receives the `T` registered with [`App::dep`]; a handler whose `T` is not
///   registered stops [`Api::into_router`] (`ApiBuildError::MissingDependency`).
/// - The fn returns `ApiResult<T>`, `ApiResult<Created<T>>`, `ApiResult<NoContent>` or
///   `ApiResult<Paginated<T>>`.
/// - `idempotent` (POST and PATCH, never `public`): a request carrying `Idempotency-Key` is
///   answered once; a repeat with the same key and body gets the stored answer, the same key
///   with another body is 422, a repeat while the first runs is 409 (see [`idempotency`]).
/// - The fn's name becomes a unit value to pass to [`Api::mount`]; doc comments become the
///   OpenAPI summary (first paragraph) and description.
pub use rampart_macros::endpoint;

/// Declares a background job on an `async fn(ctx: JobCtx, input: T) -> JobResult`.
///
/// ```text
/// #[job(queue = "mail", name = "mail.welcome", retries = 8,
///       backoff = "exponential" | "fixed" | "none", backoff_base = "2s",
///       timeout = "30s", unique = "10m")]
/// ```
///
/// - Every key is optional; the defaults are [`jobs::JobSpec::new`]'s: queue `"default"`, the
///   fn's name, 5 retries, exponential backoff from 1 s, a 60 s timeout, not unique.
/// - `queue` is 1 to 64 of `a-z0-9_-`; `name` also allows `.` and `:`. `retries` is 0..=100.
///   `backoff_base`, `timeout` (at most 24 h) and `unique` are durations above zero, in the
///   grammar of `#[endpoint(timeout)]`. A backoff that can never apply (`retries = 0` with
///   `backoff`/`backoff_base`, `backoff = "none"` with `backoff_base`) is refused.
/// - The input is `Serialize + Deserialize + Send + 'static`; the future must be `Send`.
/// - The fn's name becomes a unit value implementing [`Job`], for `JobSet::new().job(name)`
///   and `jobs.enqueue(name, input)`; the doc comment's first paragraph is the job's
///   description. See the guide's "Jobs" section.
pub use rampart_macros::job;

/// Declares a database-backed resource on a struct with named fields.
///
/// ```text
/// #[resource(table = "tasks", owner = owner_id, version = version,
///            pagination = "cursor" | "offset", default_sort = "-created_at", name = "task",
///            endpoints(path = "/projects", role = "member", rate_limit = "120/min", tag = "..",
///                      timeout = "5s", body_limit = "64KiB"))]
/// pub struct Task {
///     #[resource(id)] pub id: Uuid,                 // server-generated UUIDv7
///     pub owner_id: Uuid,                           // bound from the caller's Scope
///     #[resource(parent = Project)] pub project_id: Uuid,
///     #[validate(length(min = 1, max = 200))] #[resource(filter, sort)] pub title: String,
///     #[serde(default)] #[resource(filter)] pub done: bool,
///     #[resource(read_only)] pub archived: bool,
///     #[resource(internal)] pub search_key: String,  // never serialized, never accepted
///     pub version: i64,                             // checked and bumped on every write
///     pub created_at: DateTime<Utc>,                // set by the server (by name)
///     pub updated_at: DateTime<Utc>,                // set by the server (by name)
/// }
/// ```
///
/// Derives `Serialize` and [`Schema`] for the struct (do not derive them yourself) and
/// generates `NewTask` (create), `TaskPatch` (every writable field optional, `null` clears a
/// nullable one) and `TaskReplace`, plus the `Resource` impl the store and `#[repository]` use.
/// Server-set fields (id, owner, parent, version on create, timestamps, `read_only`) sent by a
/// client are a 400 naming the field; unknown fields are a 400. Strings are trimmed and
/// `#[validate(email)]` fields lowercased before validation. The crate needs `validator` and
/// `serde` as dependencies (their derives name them).
///
/// `endpoints(...)` adds list/get/create/replace/patch/delete as ordinary `#[endpoint]`s;
/// mount them with [`Api::resource`]. Besides `path` it takes `#[endpoint]`'s access and limit
/// options (`role`, `roles`, `permission`, `auth`, `public` — list and get only, on a resource
/// without owner —, `timeout`, `rate_limit`, `burst`, `body_limit`, `body_timeout`, `tag`,
/// `deprecated`), checked by `#[endpoint]`'s own checks. Columns are named like the fields;
/// ids, owners and parents are `Uuid`, `created_at`/`updated_at` are `DateTime<Utc>`.
pub use rampart_macros::resource;

/// Declares the data access of a resource on a trait of `#[query]` methods.
///
/// ```text
/// #[repository(Task)]
/// pub trait TaskRepo {
///     /// Archives the tasks of one of the caller's projects.
///     #[query("UPDATE tasks SET archived = TRUE WHERE project_id = :project AND owner_id = :owner")]
///     async fn archive_in(&self, scope: &Scope, project: Uuid) -> ApiResult<u64>;
/// }
/// ```
///
/// Generates a struct `TaskRepo` (an extractor) that dereferences to [`Store<Task>`] for
/// `get`, `list`, `list_under`, `create`, `create_under`, `replace`, `patch` and `delete`, and
/// has one method per `#[query]`. Named parameters (`:project`) are bound from the arguments
/// of the same name, never formatted into the SQL; `:owner` is bound from a `scope: &Scope`.
/// The SQL is parsed at compile time: every table it names must be declared by the anchor
/// resource, its parent, or a resource listed in `#[repository(Task, tables(Project))]`, and
/// every owned table it reads, updates or deletes must be constrained by `owner_id = :owner`
/// in a top-level `AND` of the condition that applies to it (an INSERT sets the owner column
/// from `:owner`), unless the method takes `&UnscopedAdmin`. See `docs/resources.md`. Returns: `Vec<R>`, `Option<R>`, `R` (none is 404), `u64` (rows changed),
/// `i64` (first column).
pub use rampart_macros::repository;

/// Declares the crate's RBAC table, once, at the crate root:
///
/// ```text
/// rampart::roles! {
///     member: ["notes:read", "notes:write"],
///     auditor: ["notes:read"],
/// }
/// ```
///
/// `admin` always exists and holds every permission. Role requirements are exact (an admin
/// passes `role = "member"` only when it also holds `member`). Called inside a module it is a
/// compile error at the call; without it, an endpoint naming a role fails to import
/// `crate::__rampart_roles_missing_add_rampart_roles_at_crate_root`.
///
/// `#[registration]` before a role (`#[registration] member: [...]`) makes it a role that
/// `POST /auth/register` grants; without one, new accounts get no role. It cannot mark `admin`.
pub use rampart_macros::roles;

/// The crate's RBAC table (`&'static RbacTable`), declared with [`roles!`] at the crate root:
/// hand it to framework parts that check role names, e.g.
/// `rampart::identity::mount(api, rampart::rbac!())`.
pub use rampart_macros::rbac;

/// Derives the OpenAPI schema of a struct, reading its `#[validate]` rules as constraints.
pub use rampart_macros::Schema;

pub use jobs::{Job, JobCtx, JobError, JobId, JobResult, JobSet, Jobs};
pub use rampart_runtime::auth::{AuthScheme, Principal};
pub use rampart_runtime::cache;
pub use rampart_runtime::client;
pub use rampart_runtime::idempotency;
pub use rampart_runtime::resource;
pub use rampart_runtime::with_pool;
pub use rampart_runtime::{
    Accepted, Api, ApiBuildError, ApiError, ApiResult, App, Config, ConfigError, Created, Ctx, Db,
    DbConfig, Endpoint, Environment, ErrorCode, FieldIssue, Json, Migrations, NoContent,
    OffsetPage, Page, PageMeta, Paginated, Path, Query, Sensitive,
};
pub use rampart_runtime::{
    CapturedScope, IfMatch, Isolation, ListQuery, Resource, Scope, Store, Tagged, Tx, UnscopedAdmin,
};
pub use rampart_runtime::{Dep, Dependencies, Dependency, UnregisteredDep};
pub use rampart_runtime::{
    api, auth, config, context, db, dependency, error, health, http, observability, openapi,
    pagination, rate_limit, server, spans, task, text, trace,
};

/// The testing kit: an app in-process, tokens for any principal, a fresh database per test;
/// with the `testing` feature, made-up capabilities for unit tests of services
/// (`scope_for`, `principal_for`).
pub mod testing {
    pub use rampart_runtime::testing::*;
}

/// What an endpoint module needs.
pub mod prelude {
    pub use crate::{
        Accepted, Api, ApiError, ApiResult, Created, Ctx, Db, Dep, ErrorCode, IfMatch, Json,
        ListQuery, NoContent, Page, PageMeta, Paginated, Path, Principal, Query, Schema, Scope,
        Tagged, Tx, UnscopedAdmin, endpoint, repository, resource,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use rampart_runtime::deps::{axum, serde, serde_json, sqlx, utoipa, uuid, validator};

    pub use rampart_runtime::api::ResourceEndpoints;
    pub use rampart_runtime::auth::{Access, RbacTable, Requirement, Schemes};
    pub use rampart_runtime::cache::{CachePolicy, CachedQuery, QueryPolicy};
    pub use rampart_runtime::dependency::{DepKey, DepProbe, DescribeNotDep};
    pub use rampart_runtime::endpoint::{Endpoint, EndpointDef};
    pub use rampart_runtime::idempotency::Idempotency;
    pub use rampart_runtime::jobs::{Backoff, Job, JobCtx, JobResult, JobSpec};
    pub use rampart_runtime::macro_support::jobs as job_support;
    pub use rampart_runtime::macro_support::{
        DescribeFallback, DescribeOutput, OutputProbe, extractors, fallback, is_crate_root,
        public_scope, query_cache, respond,
    };
    pub use rampart_runtime::openapi::{
        ApiSchema, Constraint, FieldDoc, OperationDoc, object_schema,
    };
    pub use rampart_runtime::rate_limit::RateLimitSpec;
    pub use rampart_runtime::resource::{
        Changes, Field, IntoValue, Kind, Labels, ListQuery, Pagination, ParentSpec, Resource,
        ResourceSpec, ServerFields, SortOrder, Store, Tagged, Target, Value, created_under, input,
        owner_check, sql::StatementCache,
    };
    pub use rampart_runtime::{
        Api, ApiError, ApiResult, Created, Ctx, IfMatch, Json, NoContent, Paginated, Path, Tx,
    };

    pub use rampart_macros::{Schema, endpoint};
}
