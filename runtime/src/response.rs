//! What an endpoint returns: the success envelope and the reply types.
//!
//! `ApiResult<T>` (200), `ApiResult<Created<T>>` (201 + `Location`), `ApiResult<Accepted<T>>`
//! (202 + `Location`), `ApiResult<NoContent>`
//! (204) and `ApiResult<Paginated<T>>` (200 with page meta). Each also describes its success
//! response for the OpenAPI document, so the document cannot drift from the behaviour.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::describe::{OperationDoc, SuccessDoc};
use crate::error::{ApiError, Enveloped};
use crate::pagination::PageMeta;

/// The result of an endpoint: a reply or an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize)]
struct SuccessEnvelope<'a, T> {
    data: &'a T,
    meta: Option<&'a PageMeta>,
    error: (),
}

/// Whether the request being answered is a read (`GET`, `HEAD`): its 200 gets an `ETag`.
fn answering_a_read() -> bool {
    crate::context::with(|context| matches!(context.method(), "GET" | "HEAD")).unwrap_or(false)
}

/// A strong validator of a body: the first 128 bits of its SHA-256, as hex, quoted. The body
/// holds no per-request value (the request id is a header), so the same data has the same
/// tag on every request and every instance.
pub(crate) fn body_etag(bytes: &[u8]) -> HeaderValue {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    // Hex digits and quotes only: always a valid header value.
    HeaderValue::try_from(tag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

fn envelope<T: Serialize>(status: StatusCode, data: &T, meta: Option<&PageMeta>) -> Response {
    match serde_json::to_vec(&SuccessEnvelope {
        data,
        meta,
        error: (),
    }) {
        Ok(bytes) => {
            // Every 200 to a read carries a validator, so a client can revalidate with
            // `If-None-Match` and get a 304 (`pipeline/guard.rs`); a resource read replaces it
            // with its version (`Tagged`), which `If-Match` writes compare against.
            let etag = (status == StatusCode::OK && answering_a_read()).then(|| body_etag(&bytes));
            let mut response = (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                bytes,
            )
                .into_response();
            response.extensions_mut().insert(Enveloped);
            if let Some(etag) = etag {
                response.headers_mut().insert(header::ETAG, etag);
            }
            response
        }
        // A user type whose Serialize impl fails (e.g. a map with non-string keys) is a bug.
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// A successful value an endpoint can reply with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the success value of a rampart endpoint",
    note = "reply with a type that implements `Serialize` and `ToSchema` (`#[derive(Serialize, rampart::Schema)]`), or with `Created<T>`, `NoContent` or `Paginated<T>`"
)]
pub trait Reply {
    /// Renders the reply in the envelope.
    fn into_reply(self) -> Response;
    /// Describes the success response for OpenAPI.
    fn describe() -> SuccessDoc;
}

impl<T: Serialize + ToSchema> Reply for T {
    fn into_reply(self) -> Response {
        envelope(StatusCode::OK, &self, None)
    }
    fn describe() -> SuccessDoc {
        SuccessDoc::of::<T>(200, "OK")
    }
}

/// 201 Created with a `Location` header and the created value in the envelope.
#[derive(Debug)]
pub struct Created<T> {
    location: String,
    value: T,
}

impl<T> Created<T> {
    /// The created value and the path where it can be read back (e.g. `/api/v1/notes/{id}`).
    pub fn at(location: impl Into<String>, value: T) -> Self {
        Self {
            location: location.into(),
            value,
        }
    }
}

impl<T: Serialize + ToSchema> Reply for Created<T> {
    fn into_reply(self) -> Response {
        let mut response = envelope(StatusCode::CREATED, &self.value, None);
        match HeaderValue::try_from(self.location) {
            Ok(location) => {
                response.headers_mut().insert(header::LOCATION, location);
                response
            }
            Err(error) => ApiError::internal(error).into_response(),
        }
    }
    fn describe() -> SuccessDoc {
        let mut doc = SuccessDoc::of::<T>(201, "Created");
        doc.location = true;
        doc
    }
}

/// 202 Accepted: the work was queued (a job), not done. `Location` says where its progress
/// can be read (e.g. `/api/v1/projects/{id}/exports/{export_id}`); the body is its state now.
#[derive(Debug)]
pub struct Accepted<T> {
    location: String,
    value: T,
}

impl<T> Accepted<T> {
    /// The queued work's state now and the path where it can be followed.
    pub fn at(location: impl Into<String>, value: T) -> Self {
        Self {
            location: location.into(),
            value,
        }
    }
}

impl<T: Serialize + ToSchema> Reply for Accepted<T> {
    fn into_reply(self) -> Response {
        let mut response = envelope(StatusCode::ACCEPTED, &self.value, None);
        match HeaderValue::try_from(self.location) {
            Ok(location) => {
                response.headers_mut().insert(header::LOCATION, location);
                response
            }
            Err(error) => ApiError::internal(error).into_response(),
        }
    }
    fn describe() -> SuccessDoc {
        let mut doc = SuccessDoc::of::<T>(202, "Accepted");
        doc.location = true;
        doc
    }
}

/// A reply that must not be cached anywhere (tokens, secrets shown once): adds
/// `Cache-Control: no-store` to `T`'s response, and drops any validator (nothing may
/// revalidate what nothing may store).
#[derive(Debug)]
pub struct Sensitive<T>(pub T);

impl<T: Reply> Reply for Sensitive<T> {
    fn into_reply(self) -> Response {
        let mut response = self.0.into_reply();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.remove(header::ETAG);
        response
    }
    fn describe() -> SuccessDoc {
        T::describe()
    }
}

/// 204 No Content.
#[derive(Debug, Clone, Copy)]
pub struct NoContent;

impl Reply for NoContent {
    fn into_reply(self) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.extensions_mut().insert(Enveloped);
        response
    }
    fn describe() -> SuccessDoc {
        SuccessDoc::empty(204, "No Content")
    }
}

/// A page of items with its meta (`page`, `per_page`, `total`, `next_cursor`).
#[derive(Debug)]
pub struct Paginated<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Where this page sits in the whole set.
    pub meta: PageMeta,
}

impl<T: Serialize + ToSchema> Reply for Paginated<T> {
    fn into_reply(self) -> Response {
        envelope(StatusCode::OK, &self.items, Some(&self.meta))
    }
    fn describe() -> SuccessDoc {
        let mut doc = SuccessDoc::of::<T>(200, "OK");
        doc.paginated = true;
        doc
    }
}

/// The return type of an `#[endpoint]` fn.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a rampart endpoint return type",
    label = "an #[endpoint] fn must return `ApiResult<T>`",
    note = "return `ApiResult<T>`, `ApiResult<Created<T>>`, `ApiResult<NoContent>` or `ApiResult<Paginated<T>>` (from `rampart::prelude`)"
)]
pub trait EndpointOutput {
    /// Renders the result: the reply in the envelope, or the error envelope.
    fn into_api_response(self) -> Response;
    /// Describes the success response for OpenAPI.
    fn describe() -> SuccessDoc;
}

impl<R: Reply> EndpointOutput for Result<R, ApiError> {
    fn into_api_response(self) -> Response {
        match self {
            Ok(reply) => reply.into_reply(),
            Err(error) => error.into_response(),
        }
    }
    fn describe() -> SuccessDoc {
        R::describe()
    }
}

// Here rather than in `describe`, which names nothing of the crate: the vocabulary stays a leaf
// that this module (and the endpoint definition) can depend on.
impl OperationDoc {
    /// The success response of the return type.
    pub fn success<O: EndpointOutput>(&mut self) {
        self.success = O::describe();
    }
}
