//! The responses of an operation: its success response, from the return type, and its error
//! responses, from [`STATUSES`] — the one table that says when an operation documents each
//! error status, what it says and which headers come with it. Changing how a status is
//! documented is an edit to its row.

use std::collections::BTreeMap;

use utoipa::openapi::link::Link;
use utoipa::openapi::response::{Response, ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Header, Ref, RefOr, Responses};

use super::ERROR_ENVELOPE;
use crate::auth::{Access, Requirement};
use crate::describe::{OperationDoc, SuccessDoc};
use crate::endpoint::EndpointDef;
use crate::error::ErrorCode;

/// A response header as the document states it.
struct HeaderDoc {
    name: &'static str,
    ty: Type,
    description: &'static str,
}

impl HeaderDoc {
    fn header(&self) -> Header {
        let mut header = Header::new(ObjectBuilder::new().schema_type(self.ty.clone()));
        header.description = Some(self.description.to_owned());
        header
    }
}

const fn string_header(name: &'static str, description: &'static str) -> HeaderDoc {
    HeaderDoc {
        name,
        ty: Type::String,
        description,
    }
}

const REQUEST_ID: HeaderDoc = string_header("X-Request-ID", "The request id.");
const REQUEST_ID_LOGGED: HeaderDoc =
    string_header("X-Request-ID", "The request id, also in every log line.");
const LOCATION: HeaderDoc = string_header("Location", "Where the created resource can be read.");
const ETAG: HeaderDoc = string_header(
    "ETag",
    "The version of the resource; send it back in `If-Match` to write only if it is unchanged.",
);
const BODY_ETAG: HeaderDoc = string_header(
    "ETag",
    "A validator of this response; send it back in `If-None-Match` to get a 304 while it is unchanged.",
);
const CACHE_CONTROL: HeaderDoc = string_header(
    "Cache-Control",
    "`private, no-cache` when the request carried credentials (`no-store` for credentials in the body), `no-cache` otherwise: revalidate before reuse.",
);
const PUBLIC_CACHE_CONTROL: HeaderDoc = string_header(
    "Cache-Control",
    "`public, max-age=<seconds of freshness left>` on an anonymous answer from the cache, which a shared cache may keep; `private, no-cache` when the request carried credentials; `no-cache` otherwise.",
);
const AGE: HeaderDoc = HeaderDoc {
    name: "Age",
    ty: Type::Integer,
    description: "Seconds since the answer was computed (0 when computed for this request).",
};
const CACHE_STATUS: HeaderDoc = string_header(
    "Cache-Status",
    "How the response cache answered (RFC 9211): `rampart; hit; ttl=<s>`, `rampart; fwd=miss; stored`, `rampart; fwd=miss; collapsed` (computed once for concurrent requests), or `rampart; hit; detail=stale` (the last good answer, while the handler fails or the server sheds load).",
);
const RATE_LIMIT: HeaderDoc = string_header(
    "RateLimit",
    "Remaining requests and seconds until the quota resets: `\"default\";r=42;t=17`.",
);
const RATE_LIMIT_POLICY: HeaderDoc = string_header(
    "RateLimit-Policy",
    "The quota and its window in seconds: `\"default\";q=100;w=60`.",
);
const RETRY_AFTER: HeaderDoc = HeaderDoc {
    name: "Retry-After",
    ty: Type::Integer,
    description: "Seconds to wait before retrying.",
};
const REPLAYED: HeaderDoc = string_header(
    "Idempotent-Replayed",
    "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
);
const WWW_AUTHENTICATE: HeaderDoc = string_header("WWW-Authenticate", "`Bearer` (JWT endpoints).");

/// How one error status is documented.
struct StatusDoc {
    status: u16,
    /// What the status says when the declaration implies it; `None`: the operation documents
    /// it only when it lists it in `errors = [..]`, then with the status's default message.
    implied: fn(&EndpointDef, &OperationDoc) -> Option<String>,
    /// Headers besides `X-Request-ID`, whichever way the status came to be documented.
    headers: &'static [HeaderDoc],
}

/// Every error status rampart documents by itself, and the declared ones it adds headers to.
/// A declared status without a row is documented with its default message and no extra header.
const STATUSES: &[StatusDoc] = &[
    StatusDoc {
        status: 400,
        implied: |_, doc| {
            doc.has_input()
                .then(|| "The input is malformed or failed validation.".to_owned())
        },
        headers: &[],
    },
    StatusDoc {
        status: 401,
        implied: |def, _| {
            def.access
                .is_protected()
                .then(|| "Missing or invalid credentials.".to_owned())
        },
        headers: &[WWW_AUTHENTICATE],
    },
    StatusDoc {
        status: 403,
        implied: forbidden,
        headers: &[],
    },
    StatusDoc {
        status: 404,
        implied: |_, doc| (!doc.path_params.is_empty()).then(|| "Not found.".to_owned()),
        headers: &[],
    },
    StatusDoc {
        status: 408,
        implied: |_, doc| {
            doc.body.is_some().then(|| {
                "The body did not arrive within the endpoint's body deadline; the connection is closed."
                    .to_owned()
            })
        },
        headers: &[],
    },
    StatusDoc {
        status: 409,
        implied: |def, _| {
            def.idempotency.is_some().then(|| {
                with_declared(
                    def,
                    409,
                    "A request with the same `Idempotency-Key` is still running (retry once it has finished), or completed with an answer that is not kept.",
                )
            })
        },
        headers: &[],
    },
    StatusDoc {
        status: 413,
        implied: |_, doc| {
            doc.body
                .is_some()
                .then(|| "The body is larger than the endpoint accepts.".to_owned())
        },
        headers: &[],
    },
    StatusDoc {
        status: 415,
        implied: |_, doc| {
            doc.body
                .is_some()
                .then(|| "The body is not application/json.".to_owned())
        },
        headers: &[],
    },
    StatusDoc {
        status: 422,
        implied: |def, _| {
            def.idempotency.is_some().then(|| {
                with_declared(
                    def,
                    422,
                    "The `Idempotency-Key` was used with another request.",
                )
            })
        },
        headers: &[],
    },
    StatusDoc {
        status: 429,
        implied: too_many_requests,
        headers: &[RETRY_AFTER, RATE_LIMIT, RATE_LIMIT_POLICY],
    },
    StatusDoc {
        status: 500,
        implied: |_, _| {
            Some("Internal error; details are in the server log under the request id.".to_owned())
        },
        headers: &[],
    },
    StatusDoc {
        status: 503,
        implied: |_, _| {
            Some(
                "Overloaded, timed out or a dependency is down; retry after `Retry-After` seconds."
                    .to_owned(),
            )
        },
        headers: &[RETRY_AFTER],
    },
];

/// 403 when a role or permission is required (authentication alone answers 401, not 403).
fn forbidden(def: &EndpointDef, _: &OperationDoc) -> Option<String> {
    match def.access {
        Access::Protected {
            requirement: Requirement::AnyRole(roles),
            ..
        } => Some(format!("Requires one of the roles: {}.", roles.join(", "))),
        Access::Protected {
            requirement: Requirement::Permission(permission, _),
            ..
        } => Some(format!("Requires the permission `{permission}`.")),
        _ => None,
    }
}

/// 429 from the endpoint's rate limit, or from the in-flight cap every endpoint but the health
/// ones sits behind.
fn too_many_requests(def: &EndpointDef, _: &OperationDoc) -> Option<String> {
    let in_flight_capped = def.prefixed || !crate::pipeline::is_exempt(def.path);
    match def.rate_limit {
        Some(spec) => Some(format!(
            "Rate limited: {} requests per {} s (bursts of {}) per user, or per client IP when anonymous, or too many requests of this client in flight; retry after `Retry-After` seconds.",
            spec.count,
            spec.per.as_secs(),
            spec.burst
        )),
        None if in_flight_capped => Some(
            "Too many requests of this user (or client IP when anonymous) in flight; retry after `Retry-After` seconds."
                .to_owned(),
        ),
        None => None,
    }
}

/// What an implied status says, after what it says as a declared status when the endpoint
/// lists it too (the handler's own reason stays documented).
fn with_declared(def: &EndpointDef, status: u16, implied: &str) -> String {
    if def.errors.contains(&status) {
        let mut chars = implied.chars();
        let implied: String = chars
            .next()
            .map(|first| first.to_lowercase().chain(chars).collect())
            .unwrap_or_default();
        format!("{} Also: {implied}", declared(status))
    } else {
        implied.to_owned()
    }
}

/// The description of a status the endpoint declares and nothing implies.
fn declared(status: u16) -> String {
    let code = ErrorCode::for_status(axum::http::StatusCode::from_u16(status).unwrap_or_default());
    format!("{}.", capitalize(code.default_message()))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The statuses an endpoint can return besides its success, derived from its declaration.
pub fn error_statuses(def: &EndpointDef, doc: &OperationDoc) -> BTreeMap<u16, String> {
    let mut statuses: BTreeMap<u16, String> = STATUSES
        .iter()
        .filter_map(|row| Some((row.status, (row.implied)(def, doc)?)))
        .collect();
    for status in def.errors {
        statuses.entry(*status).or_insert_with(|| declared(*status));
    }
    statuses
}

fn error_response(status: u16, description: String) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ERROR_ENVELOPE)))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .header(REQUEST_ID.name, REQUEST_ID.header());
    let headers = STATUSES
        .iter()
        .find(|row| row.status == status)
        .map_or(&[][..], |row| row.headers);
    for header in headers {
        response = response.header(header.name, header.header());
    }
    response.build()
}

fn success_response(
    def: &EndpointDef,
    success: &SuccessDoc,
    links: Vec<(String, Link)>,
) -> Response {
    let mut response = ResponseBuilder::new().description(success.description);
    if success.status != 204 {
        response = response.content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(success_envelope(success)))
                .build(),
        );
    }
    let mut headers = vec![&REQUEST_ID_LOGGED];
    if success.location {
        headers.push(&LOCATION);
    }
    if success.etag {
        headers.push(&ETAG);
    } else if revalidates(def, success) {
        headers.push(&BODY_ETAG);
    }
    if revalidates(def, success) {
        let public_cache = def.cache.is_some() && matches!(def.access, crate::auth::Access::Public);
        headers.push(if public_cache {
            &PUBLIC_CACHE_CONTROL
        } else {
            &CACHE_CONTROL
        });
    }
    if def.cache.is_some() {
        headers.extend([&AGE, &CACHE_STATUS]);
    }
    if def.rate_limit.is_some() {
        headers.extend([&RATE_LIMIT, &RATE_LIMIT_POLICY]);
    }
    if def.idempotency.is_some() {
        headers.push(&REPLAYED);
    }
    for header in headers {
        response = response.header(header.name, header.header());
    }
    for (name, link) in links {
        response = response.link(name, link);
    }
    response.build()
}

/// Every response of an operation; `links` go on the success response.
pub(super) fn responses(
    def: &EndpointDef,
    doc: &OperationDoc,
    links: Vec<(String, Link)>,
) -> Responses {
    let success = success_response(def, &doc.success, links);
    let mut responses = ResponsesBuilder::new().response(doc.success.status.to_string(), success);
    if revalidates(def, &doc.success) {
        responses = responses.response("304", not_modified(def, &doc.success));
    }
    for (status, description) in error_statuses(def, doc) {
        responses = responses.response(status.to_string(), error_response(status, description));
    }
    responses.build()
}

/// Whether the operation's success carries a validator a client can revalidate with: every
/// 200 to a `GET` but a `no-store` one (`pipeline/conditional.rs`).
pub(super) fn revalidates(def: &EndpointDef, success: &SuccessDoc) -> bool {
    def.method == axum::http::Method::GET && success.status == 200 && !success.no_store
}

/// The 304 of a revalidating read: no body, the validator and caching headers again.
fn not_modified(def: &EndpointDef, success: &SuccessDoc) -> Response {
    let mut response = ResponseBuilder::new()
        .description("Not Modified: the `If-None-Match` tag names the current response; no body.");
    let etag = if success.etag { &ETAG } else { &BODY_ETAG };
    for header in [&REQUEST_ID, etag, &CACHE_CONTROL] {
        response = response.header(header.name, header.header());
    }
    if def.rate_limit.is_some() {
        for header in [&RATE_LIMIT, &RATE_LIMIT_POLICY] {
            response = response.header(header.name, header.header());
        }
    }
    response.build()
}

fn success_envelope(success: &SuccessDoc) -> Schema {
    let data: RefOr<Schema> = match (&success.data, success.paginated) {
        (Some(data), true) => ArrayBuilder::new().items(data.clone()).build().into(),
        (Some(data), false) => data.clone(),
        (None, _) => ObjectBuilder::new().schema_type(Type::Null).build().into(),
    };
    let meta: RefOr<Schema> = if success.paginated {
        RefOr::Ref(Ref::from_schema_name("PageMeta"))
    } else {
        ObjectBuilder::new().schema_type(Type::Null).build().into()
    };
    ObjectBuilder::new()
        .property("data", data)
        .property("meta", meta)
        .property("error", ObjectBuilder::new().schema_type(Type::Null))
        .required("data")
        .required("meta")
        .required("error")
        .build()
        .into()
}

/// The `ErrorEnvelope` component every error response refers to.
pub(super) fn error_envelope_schema() -> Schema {
    let detail = ObjectBuilder::new()
        .property("field", ObjectBuilder::new().schema_type(Type::String))
        .property("issue", ObjectBuilder::new().schema_type(Type::String))
        .required("field")
        .required("issue");
    let codes = [
        ErrorCode::ValidationError,
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::Conflict,
        ErrorCode::VersionConflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Unprocessable,
        ErrorCode::DestinationRefused,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::BadGateway,
        ErrorCode::GatewayTimeout,
    ];
    let error = ObjectBuilder::new()
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.iter().map(|c| c.as_str()))),
        )
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .property("details", ArrayBuilder::new().items(detail))
        .property(
            "request_id",
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])),
        )
        .required("code")
        .required("message")
        .required("details")
        .required("request_id");
    ObjectBuilder::new()
        .description(Some(
            "The error envelope: `data` is null and `error` says what went wrong.",
        ))
        .property("data", ObjectBuilder::new().schema_type(Type::Null))
        .property("error", error)
        .required("data")
        .required("error")
        .build()
        .into()
}
