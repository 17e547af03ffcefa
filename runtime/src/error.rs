//! One error type for everything a request can fail with, and its envelope rendering.
//!
//! An [`ApiError`] has a machine [`ErrorCode`] (which fixes the HTTP status), a message that is
//! safe to show a client, optional field-level details and, for 5xx errors, an internal cause
//! that is logged with its chain but never rendered.

use std::borrow::Cow;
use std::fmt;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::context;

/// The machine-readable error codes of the envelope; each fixes an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: a well-formed input broke a validation rule.
    ValidationError,
    /// 400: the input could not be read (malformed JSON, wrong type, bad parameter).
    BadRequest,
    /// 401: no or invalid credentials.
    Unauthenticated,
    /// 401: a login with a wrong email or password.
    InvalidCredentials,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 404: no such route or resource (or not yours).
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 408: the request body did not arrive within the endpoint's body deadline.
    RequestTimeout,
    /// 409: a uniqueness or state conflict.
    Conflict,
    /// 409: a versioned write carried a stale version.
    VersionConflict,
    /// 412: an `If-Match` precondition failed.
    PreconditionFailed,
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the input is well-formed but refers to something that cannot be used.
    Unprocessable,
    /// 422: a URL the request gave (or one derived from it) points at a destination outgoing
    /// calls may not reach (a private, loopback or link-local address, a scheme other than
    /// http(s)).
    DestinationRefused,
    /// 429: a rate limit was hit.
    RateLimited,
    /// 500: a bug or an unexpected failure; details are only in the logs.
    Internal,
    /// 503: overloaded, timed out, or a dependency is down; retry later.
    Unavailable,
    /// 502: an upstream service this one called failed or answered an error.
    BadGateway,
    /// 504: an upstream service this one called did not answer in time.
    GatewayTimeout,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::ValidationError | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict | Self::VersionConflict => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable | Self::DestinationRefused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The code a bare status maps to, for responses produced outside rampart's own types.
    pub const fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            409 => Self::Conflict,
            412 => Self::PreconditionFailed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::Unprocessable,
            429 => Self::RateLimited,
            400..=499 => Self::BadRequest,
            502 => Self::BadGateway,
            503 => Self::Unavailable,
            504 => Self::GatewayTimeout,
            _ => Self::Internal,
        }
    }

    /// The code as it appears in the envelope (`VALIDATION_ERROR`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ValidationError => "VALIDATION_ERROR",
            Self::BadRequest => "BAD_REQUEST",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::Conflict => "CONFLICT",
            Self::VersionConflict => "VERSION_CONFLICT",
            Self::PreconditionFailed => "PRECONDITION_FAILED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::Unprocessable => "UNPROCESSABLE",
            Self::DestinationRefused => "DESTINATION_REFUSED",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
            Self::Unavailable => "UNAVAILABLE",
            Self::BadGateway => "BAD_GATEWAY",
            Self::GatewayTimeout => "GATEWAY_TIMEOUT",
        }
    }

    /// The default client-facing message of the code.
    pub const fn default_message(self) -> &'static str {
        match self {
            Self::ValidationError => "the request failed validation",
            Self::BadRequest => "the request could not be read",
            Self::Unauthenticated => "authentication is required",
            Self::InvalidCredentials => "invalid email or password",
            Self::Forbidden => "you are not allowed to do this",
            Self::NotFound => "not found",
            Self::MethodNotAllowed => "method not allowed on this route",
            Self::RequestTimeout => "the request body did not arrive in time",
            Self::Conflict => "the request conflicts with the current state",
            Self::VersionConflict => "the resource was modified by someone else",
            Self::PreconditionFailed => "a precondition failed",
            Self::PayloadTooLarge => "the request body is too large",
            Self::UnsupportedMediaType => "the request body must be application/json",
            Self::Unprocessable => "the request cannot be processed",
            Self::DestinationRefused => "the URL given points at a destination that is not allowed",
            Self::RateLimited => "too many requests",
            Self::Internal => "internal error",
            Self::Unavailable => "the service is temporarily unavailable",
            Self::BadGateway => "an upstream service failed",
            Self::GatewayTimeout => "an upstream service did not answer in time",
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One field-level problem: `{"field": "items[2].name", "issue": "length"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    /// Path of the field in the input (`title`, `items[2].name`); empty for the whole input.
    pub field: String,
    /// What is wrong, as a short machine-friendly word or phrase.
    pub issue: String,
}

impl FieldIssue {
    /// A new field issue.
    pub fn new(field: impl Into<String>, issue: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            issue: issue.into(),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error every rampart handler, extractor and layer returns.
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    details: Vec<FieldIssue>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Logged with its chain when the response is built; never rendered.
    source: Option<BoxError>,
}

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: Vec::new(),
            headers: Vec::new(),
            source: None,
        }
    }

    /// Replaces the client-facing message. Never put internals here.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Adds a field-level detail.
    pub fn with_detail(mut self, field: impl Into<String>, issue: impl Into<String>) -> Self {
        self.details.push(FieldIssue::new(field, issue));
        self
    }

    /// Replaces the details.
    pub fn with_details(mut self, details: Vec<FieldIssue>) -> Self {
        self.details = details;
        self
    }

    /// Adds a response header (e.g. `Retry-After`, `WWW-Authenticate`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Attaches the internal cause, logged but never sent.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// 400 `BAD_REQUEST` with a message.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::BadRequest).with_message(message)
    }

    /// 401 `UNAUTHENTICATED` with the `WWW-Authenticate: Bearer` challenge.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    /// 500 `INTERNAL` carrying the cause for the log.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorCode::Internal).with_source(source)
    }

    /// 503 `UNAVAILABLE` with `Retry-After`.
    pub fn unavailable(retry_after_seconds: u32) -> Self {
        Self::new(ErrorCode::Unavailable)
            .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds))
    }

    /// The machine code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The client-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The field-level details.
    pub fn details(&self) -> &[FieldIssue] {
        &self.details
    }
}

/// An error as every request waiting on one computation answers it (a cache's single
/// flight): the code, message, details and headers of the error the computing request met,
/// without its source, which that request logs once. Each request renders its own envelope
/// (its own request id).
#[derive(Debug, Clone)]
pub(crate) struct SharedError {
    code: ErrorCode,
    message: Cow<'static, str>,
    details: Vec<FieldIssue>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl SharedError {
    /// What `error` shows a client.
    pub(crate) fn of(error: &ApiError) -> Self {
        Self {
            code: error.code,
            message: error.message.clone(),
            details: error.details.clone(),
            headers: error.headers.clone(),
        }
    }

    /// What an error response shows a client: its code (from the response, else from its
    /// status), the code's message, and its `Retry-After`.
    pub(crate) fn of_response(response: &Response) -> Self {
        let code = response
            .extensions()
            .get::<ErrorCode>()
            .copied()
            .unwrap_or_else(|| ErrorCode::for_status(response.status()));
        let headers = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|value| vec![(header::RETRY_AFTER, value.clone())])
            .unwrap_or_default();
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: Vec::new(),
            headers,
        }
    }

    /// The error, for one more request.
    pub(crate) fn to_error(&self) -> ApiError {
        ApiError {
            code: self.code,
            message: self.message.clone(),
            details: self.details.clone(),
            headers: self.headers.clone(),
            source: None,
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("details", &self.details)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Renders `source: cause: cause...` for the log.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        next = cause.source();
    }
    chain
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    data: (),
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: ErrorCode,
    message: &'a str,
    details: &'a [FieldIssue],
    request_id: Option<&'a str>,
}

/// Marks a response whose body is already a rampart envelope, so the safety net in the edge
/// service (the `pipeline` module) leaves it alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Enveloped;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if let Some(source) = &self.source {
            let chain = error_chain(source.as_ref());
            if status.is_server_error() {
                tracing::error!(code = self.code.as_str(), error = %chain, "request failed");
            } else {
                tracing::debug!(code = self.code.as_str(), error = %chain, "request rejected");
            }
        }
        // 5xx bodies never carry anything but the code's generic message.
        let message: &str = if status.is_server_error() && self.code != ErrorCode::Unavailable {
            self.code.default_message()
        } else {
            &self.message
        };
        let request_id = context::request_id();
        let body = serde_json::to_vec(&ErrorEnvelope {
            data: (),
            error: ErrorBody {
                code: self.code,
                message,
                details: &self.details,
                request_id: request_id.as_ref().map(|id| id.as_str()),
            },
        });
        let mut response = match body {
            Ok(bytes) => (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                bytes,
            )
                .into_response(),
            // Serializing these plain types cannot fail; keep a body anyway.
            Err(_) => status.into_response(),
        };
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response.extensions_mut().insert(Enveloped);
        response.extensions_mut().insert(self.code);
        response
    }
}
