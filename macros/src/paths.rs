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

/// `::rampart::__private`, for code that has not moved to the named rows yet.
pub(crate) fn private() -> TokenStream {
    RuntimePath(&[]).into_token_stream()
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

// Rows for the code under endpoint/, repository/ and roles.rs, which still spells
// `private()`: they name what that code uses today so it can move to the table as is.
runtime_paths! {
    #[allow(dead_code)] ENDPOINT = Endpoint;
    #[allow(dead_code)] ENDPOINT_DEF = EndpointDef;
    #[allow(dead_code)] ACCESS = Access;
    #[allow(dead_code)] SCHEMES = Schemes;
    #[allow(dead_code)] REQUIREMENT = Requirement;
    #[allow(dead_code)] RATE_LIMIT_SPEC = RateLimitSpec;
    #[allow(dead_code)] OPERATION_DOC = OperationDoc;
    #[allow(dead_code)] RESPOND = respond;
    #[allow(dead_code)] OUTPUT_PROBE = OutputProbe;
    #[allow(dead_code)] DESCRIBE_OUTPUT = DescribeOutput;
    #[allow(dead_code)] DESCRIBE_FALLBACK = DescribeFallback;
    #[allow(dead_code)] HTTP_METHOD = axum::http::Method;
    #[allow(dead_code)] HTTP_REQUEST_PARTS = axum::http::request::Parts;
    #[allow(dead_code)] ROUTING_ON = axum::routing::on;
    #[allow(dead_code)] METHOD_FILTER = axum::routing::MethodFilter;
    #[allow(dead_code)] RESPONSE = axum::response::Response;
    #[allow(dead_code)] FROM_REQUEST_PARTS = axum::extract::FromRequestParts;
    #[allow(dead_code)] API_ERROR = ApiError;
    #[allow(dead_code)] TX = Tx;
    #[allow(dead_code)] TARGET = Target;
    #[allow(dead_code)] OWNER_CHECK = owner_check;
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
        assert_eq!(
            private().to_string(),
            quote!(::rampart::__private).to_string()
        );
    }
}
