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

/// What the `ETag` of a 200 to a read is made of.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Validator {
    /// A hash of the body.
    Body,
    /// A resource's version and a hash of the body: `If-Match` on a write reads the version,
    /// `If-None-Match` on a read compares the whole tag, so a body that changed while the
    /// version did not (a deploy that renders it differently) is not answered 304.
    Version(i64),
}

/// The seed of the request being answered when it is a read (`GET`, `HEAD`): its 200 gets
/// an `ETag`.
fn read_seed() -> Option<u64> {
    crate::context::with(|context| {
        matches!(context.method(), "GET" | "HEAD").then(|| context.validator_seed())
    })
    .flatten()
}

/// A validator of a body: a 64-bit keyed hash of it (the seed is derived from the configured
/// cursor secret, so every instance agrees and no one without the secret can test a guess of
/// a body against its tag), prefixed by the version if there is one, quoted. Hex digits, a dot
/// and quotes only: always a valid header value.
pub(crate) fn etag(seed: u64, bytes: &[u8], validator: Validator) -> Option<HeaderValue> {
    use std::hash::BuildHasher;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = foldhash::quality::FixedState::with_seed(seed).hash_one(bytes);
    let mut tag = [0u8; 42];
    let mut len = 0;
    tag[len] = b'"';
    len += 1;
    if let Validator::Version(version) = validator {
        if version < 0 {
            tag[len] = b'-';
            len += 1;
        }
        // Written without `core::fmt`: this runs on every resource read.
        let mut digits = [0u8; 20];
        let mut rest = version.unsigned_abs();
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for &digit in &digits[start..] {
            tag[len] = digit;
            len += 1;
        }
        tag[len] = b'.';
        len += 1;
    }
    for shift in (0..16).rev() {
        tag[len] = HEX[((hash >> (shift * 4)) & 0xf) as usize];
        len += 1;
    }
    tag[len] = b'"';
    len += 1;
    HeaderValue::from_bytes(&tag[..len]).ok()
}

/// The headers a success answer carries by the time it leaves: `Content-Type`, `ETag`,
/// `Cache-Control`, `Vary`, `X-Content-Type-Options`, `X-Request-ID`, `traceresponse`, and
/// room for a `Location`, rate-limit or CORS headers.
const RESPONSE_HEADERS: usize = 12;

fn envelope<T: Serialize>(status: StatusCode, data: &T, meta: Option<&PageMeta>) -> Response {
    envelope_with(status, data, meta, Validator::Body)
}

pub(crate) fn envelope_with<T: Serialize>(
    status: StatusCode,
    data: &T,
    meta: Option<&PageMeta>,
    validator: Validator,
) -> Response {
    match serde_json::to_vec(&SuccessEnvelope {
        data,
        meta,
        error: (),
    }) {
        Ok(bytes) => {
            // Every 200 to a read carries a validator, so a client can revalidate with
            // `If-None-Match` and get a 304 (`pipeline/conditional.rs`).
            let etag = match read_seed() {
                Some(seed) if status == StatusCode::OK => etag(seed, &bytes, validator),
                _ => None,
            };
            let mut response = Response::new(axum::body::Body::from(bytes));
            *response.status_mut() = status;
            let headers = response.headers_mut();
            // Room for every header the pipeline adds on the way out, in one allocation: a
            // map grown past its first six slots by the last headers (`X-Request-ID`,
            // `traceresponse`) reallocates and rehashes on every request.
            headers.reserve(RESPONSE_HEADERS);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
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
        let mut doc = T::describe();
        doc.no_store = true;
        doc
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
