//! The one table of runtime paths generated code uses. Every item is named relative to
//! [`ROOT`] (`::rampart::__private`, the facade's hidden module), so moving an item in the
//! runtime is one row here, and moving the hidden module is one line.
//!
//! Each row is a constant that quotes as an absolute path (`#RESOURCE` →
//! `::rampart::__private::Resource`); variants and associated items are appended where used
//! (`#PAGINATION::Cursor`). Attribute arguments that take a path as a string
//! (`serde(crate = "..")`, `deserialize_with = ".."`) use [`RuntimePath::lit`].

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, TokenStreamExt, quote};

/// The facade crate and its hidden module, the start of every generated path.
const ROOT: [&str; 2] = ["rampart", "__private"];

/// A runtime item, as the segments after [`ROOT`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuntimePath(&'static [&'static str]);

impl RuntimePath {
    fn segments(self) -> impl Iterator<Item = &'static str> {
        ROOT.into_iter().chain(self.0.iter().copied())
    }

    /// The absolute path as text: `::rampart::__private::serde`.
    pub(crate) fn text(self) -> String {
        self.segments()
            .map(|segment| format!("::{segment}"))
            .collect()
    }

    /// The absolute path as a string literal, for attributes that take a path that way.
    pub(crate) fn lit(self) -> syn::LitStr {
        syn::LitStr::new(&self.text(), Span::call_site())
    }

    /// A member of this module named by the caller (`input::trimmed`), as a string literal:
    /// the input deserializers are picked by name from a field's text rules.
    pub(crate) fn member_lit(self, member: &str) -> syn::LitStr {
        syn::LitStr::new(&format!("{}::{member}", self.text()), Span::call_site())
    }
}

impl ToTokens for RuntimePath {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for segment in self.segments() {
            tokens.append_all(quote!(::));
            tokens.append(proc_macro2::Ident::new(segment, Span::call_site()));
        }
    }
}

macro_rules! runtime_paths {
    ($($(#[$meta:meta])* $name:ident = $($segment:ident)::+;)*) => {
        $($(#[$meta])* pub(crate) const $name: RuntimePath = RuntimePath(&[$(stringify!($segment)),+]);)*
    };
}

// Dependencies re-exported so that users need none of them in their own Cargo.toml.
runtime_paths! {
    SERDE = serde;
    SERIALIZE = serde::Serialize;
    SERIALIZER = serde::Serializer;
    DESERIALIZE = serde::Deserialize;
    VALIDATE = validator::Validate;
    UUID = uuid::Uuid;
    SQLX_ERROR = sqlx::Error;
    SQLX_FROM_ROW = sqlx::FromRow;
    SQLX_ROW = sqlx::Row;
    SQLX_JSON = sqlx::types::Json;
    SQLITE_ROW = sqlx::sqlite::SqliteRow;
    PG_ROW = sqlx::postgres::PgRow;
    ORIGINAL_URI = axum::extract::OriginalUri;
    UTOIPA_REF_OR = utoipa::openapi::RefOr;
    UTOIPA_SCHEMA = utoipa::openapi::schema::Schema;
    UTOIPA_PARTIAL_SCHEMA = utoipa::PartialSchema;
    UTOIPA_TO_SCHEMA = utoipa::ToSchema;
}

// `#[resource]`: the spec, the input types and the store.
runtime_paths! {
    RESOURCE = Resource;
    RESOURCE_SPEC = ResourceSpec;
    RESOURCE_ENDPOINTS = ResourceEndpoints;
    PARENT_SPEC = ParentSpec;
    FIELD = Field;
    KIND = Kind;
    SORT_ORDER = SortOrder;
    PAGINATION = Pagination;
    LABELS = Labels;
    SERVER_FIELDS = ServerFields;
    STATEMENT_CACHE = StatementCache;
    CHANGES = Changes;
    VALUE = Value;
    INTO_VALUE = IntoValue;
    /// The deserializers and markers of generated input types (`input::trimmed`, ...).
    INPUT = input;
    SERVER_SET = input::ServerSet;
    SERVER_SET_CHECK = input::server_set;
    BODY_VERSION = input::BodyVersion;
    STORE = Store;
    LIST_QUERY = ListQuery;
    TAGGED = Tagged;
    CREATED_UNDER = created_under;
    PUBLIC_SCOPE = public_scope;
}

// Endpoints, their inputs and responses.
runtime_paths! {
    /// The `#[endpoint]` attribute, re-invoked by `endpoints(...)`.
    ENDPOINT_ATTRIBUTE = endpoint;
    API = Api;
    API_RESULT = ApiResult;
    CTX = Ctx;
    PATH = Path;
    JSON = Json;
    IF_MATCH = IfMatch;
    PAGINATED = Paginated;
    CREATED = Created;
    NO_CONTENT = NoContent;
}

// `#[derive(Schema)]`.
runtime_paths! {
    SCHEMA_DERIVE = Schema;
    API_SCHEMA = ApiSchema;
    CONSTRAINT = Constraint;
    FIELD_DOC = FieldDoc;
    OBJECT_SCHEMA = object_schema;
}

// `#[endpoint]`: the definition, its access rule and its OpenAPI description.
runtime_paths! {
    ENDPOINT = Endpoint;
    ENDPOINT_DEF = EndpointDef;
    ACCESS = Access;
    SCHEMES = Schemes;
    REQUIREMENT = Requirement;
    RATE_LIMIT_SPEC = RateLimitSpec;
    IDEMPOTENCY = Idempotency;
    CACHE_POLICY = CachePolicy;
    OPERATION_DOC = OperationDoc;
    RESPOND = respond;
    OUTPUT_PROBE = OutputProbe;
    DESCRIBE_OUTPUT = DescribeOutput;
    DESCRIBE_FALLBACK = DescribeFallback;
    HTTP_METHOD = axum::http::Method;
    HTTP_REQUEST_PARTS = axum::http::request::Parts;
    METHOD_FILTER = axum::routing::MethodFilter;
    RESPONSE = axum::response::Response;
    FROM_REQUEST_PARTS = axum::extract::FromRequestParts;
    API_ERROR = ApiError;
    /// What a rejected `#[endpoint]` defines (fail soft).
    REJECTED_ENDPOINT = fallback::rejected_endpoint;
}

// `#[endpoint]`: the `Dep<T>` probe.
runtime_paths! {
    DEP_KEY = DepKey;
    DEP_PROBE = DepProbe;
    DESCRIBE_NOT_DEP = DescribeNotDep;
}

// `#[endpoint]`: the argument checks and the route they pick (`extractors`).
runtime_paths! {
    ACCEPTED = extractors::Accepted;
    PARTS_PROBE = extractors::PartsProbe;
    PARTS_ACCEPTED = extractors::PartsAccepted;
    PARTS_REFUSED = extractors::PartsRefused;
    LAST_PROBE = extractors::LastProbe;
    LAST_FROM_PARTS = extractors::LastFromParts;
    LAST_FROM_REQUEST = extractors::LastFromRequest;
    LAST_REFUSED = extractors::LastRefused;
    ASSERT_EXTRACTOR = extractors::assert_extractor;
    ASSERT_KNOWN_EXTRACTOR = extractors::assert_known_extractor;
    ASSERT_JSON_DESERIALIZE = extractors::assert_json_deserialize;
    ASSERT_JSON_VALIDATE = extractors::assert_json_validate;
    ASSERT_JSON_SCHEMA = extractors::assert_json_schema;
    ASSERT_QUERY_DESERIALIZE = extractors::assert_query_deserialize;
    ASSERT_QUERY_VALIDATE = extractors::assert_query_validate;
    ASSERT_PATH_DESERIALIZE = extractors::assert_path_deserialize;
    BODY_DOC_PROBE = extractors::BodyDocProbe;
    DOCUMENT_BODY = extractors::DocumentBody;
    DOCUMENT_BODY_FALLBACK = extractors::DocumentBodyFallback;
    ROUTE_PROBE = extractors::RouteProbe;
    ROUTE_ACCEPTED = extractors::RouteAccepted;
    ROUTE_REFUSED = extractors::RouteRefused;
}

// `#[repository]`: the store, the owner rule checked across macro calls, and the stand-in.
runtime_paths! {
    TX = Tx;
    TARGET = Target;
    CACHED_QUERY = CachedQuery;
    QUERY_POLICY = QueryPolicy;
    ROW_PROBE = query_cache::RowProbe;
    ROW_KEPT = query_cache::RowKept;
    ROW_NOT_KEPT = query_cache::RowNotKept;
    ASSERT_CACHED_ROW = query_cache::assert_cached_row;
    ROW_FIELDS = query_cache::RowFields;
    ANY_ROW_FIELDS = query_cache::AnyRowFields;
    WRITES_BEYOND = owner_check::writes_beyond;
    OWNER_CHECK_RESOURCE = owner_check::resource;
    OWNER_CHECK_PARENT = owner_check::parent;
    DECLARED_TABLE = owner_check::Declared;
    OWNER_CHECK_DECLARED = owner_check::declared;
    OWNER_CHECK_UNOWNED = owner_check::unowned;
    OWNER_CHECK_NOT_OWNER_COLUMN = owner_check::not_owner_column;
    OWNER_CHECK_ONLY_OWNER_COLUMN = owner_check::only_owner_column;
    OWNER_CHECK_OWNER_BOUND = owner_check::owner_bound;
    /// What a rejected repository's methods run (fail soft).
    REJECTED_METHOD = fallback::rejected;
}

// `roles!`.
runtime_paths! {
    RBAC_TABLE = RbacTable;
    IS_CRATE_ROOT = is_crate_root;
}

/// `#[allow(unused_imports)] use <trait> as _;` for each of `traits`: the traits an autoref
/// probe's methods come from, in scope without a name. Not every expansion calls each one.
pub(crate) fn use_traits(traits: &[RuntimePath]) -> TokenStream {
    traits
        .iter()
        .map(|path| {
            quote! {
                #[allow(unused_imports)]
                use #path as _;
            }
        })
        .collect()
}

// `#[job]`.
runtime_paths! {
    JOB = Job;
    JOB_SPEC = JobSpec;
    JOB_CTX = JobCtx;
    BACKOFF = Backoff;
    /// The spanned checks and helpers of a job's expansion (`job_ctx`, `job_result`, `send_job`).
    JOB_SUPPORT = job_support;
    /// The body of a stand-in that never runs.
    REJECTED = fallback::rejected;
}

/// The module `roles!` emits at the crate root; endpoints name roles and permissions in it.
pub(crate) const RBAC_MODULE: &str = "__rampart_rbac";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_quote_as_absolute_paths() {
        assert_eq!(
            RESOURCE.to_token_stream().to_string(),
            quote!(::rampart::__private::Resource).to_string()
        );
        assert_eq!(SQLX_JSON.text(), "::rampart::__private::sqlx::types::Json");
        assert_eq!(
            INPUT.member_lit("trimmed").value(),
            "::rampart::__private::input::trimmed"
        );
    }
}
