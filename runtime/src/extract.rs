//! Extractors whose rejections are envelopes: `Json`, `Query`, `Path`, `Page` and `Ctx`.
//!
//! `Json<T>` and `Query<T>` validate (`validator::Validate`) before the handler runs. Every
//! deserialization failure is a 400 that names the field, never a 422.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::auth::Principal;
use crate::context::RequestId;
use crate::error::{ApiError, ErrorCode};
use crate::pagination::OffsetPage;
use crate::resource::{Scope, UnscopedAdmin};
use crate::text::Strict;

/// A JSON body, deserialized then validated before the handler runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A query string, deserialized then validated before the handler runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// Path parameters; a value that does not parse is a 400 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

/// Offset pagination read from `page` and `per_page` in the query string.
#[derive(Debug, Clone, Copy)]
pub struct Page(pub OffsetPage);

fn is_json(parts_headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = parts_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence
                .get(..12)
                .is_some_and(|p| p.eq_ignore_ascii_case("application/"))
            && essence.to_ascii_lowercase().ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    // axum reports an over-limit body as a FailedToBufferBody whose status is 413.
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge)
    } else {
        ApiError::bad_request("the request body could not be read")
    }
}

/// Strips serde_json's " at line 1 column 7" suffix: the client needs the field, not offsets.
fn clean_message(message: String) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    }
}

fn deserialize_error<E: std::fmt::Display>(
    error: serde_path_to_error::Error<E>,
    what: &str,
) -> ApiError {
    let path = error.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let issue = clean_message(error.inner().to_string());
    // serde_path_to_error's path already ends at an unknown field; fall back to the name in
    // the message if a format reports it at the parent.
    let field = match unknown_field_name(&issue) {
        Some(name) if path.is_empty() => name.to_owned(),
        Some(name) if !path.ends_with(name) => format!("{path}.{name}"),
        _ => path,
    };
    ApiError::bad_request(format!("the {what} could not be deserialized")).with_detail(field, issue)
}

/// `3.0` → `3` wherever a number is integral and exactly representable (|n| < 2^53).
fn integral_floats_to_integers(json: &mut serde_json::Value) {
    use serde_json::Value;
    match json {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9_007_199_254_740_992.0
            {
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// Whether a JSON document holds the escape `\u0000` in a string. PostgreSQL cannot store
/// U+0000 in text, and SQLite would; refusing it here gives one answer on both. (Raw control
/// characters are invalid JSON, so the escape is the only way in.)
fn contains_escaped_nul(json: &[u8]) -> bool {
    let mut index = 0;
    while index < json.len() {
        if json[index] == b'\\' {
            if json.get(index + 1..index + 6) == Some(b"u0000".as_slice()) {
                return true;
            }
            // Skip the escaped character, so `\\u0000` (a backslash, then text) is not a NUL.
            index += 2;
        } else {
            index += 1;
        }
    }
    false
}

/// `unknown field `x`, expected ...` or `missing field `x`` → `x`.
fn unknown_field_name(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?
        .split('`')
        .next()
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        if contains_escaped_nul(&bytes) {
            return Err(
                ApiError::bad_request("text in the body must not contain NUL (U+0000)")
                    .with_detail("", "contains U+0000"),
            );
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        // `Strict`: control characters other than tab, LF and CR are refused in every string
        // (a field opts out with `rampart::text::allow_control`), the error naming the field.
        let value: T = match serde_path_to_error::deserialize(Strict(&mut deserializer)) {
            Ok(value) => {
                deserializer.end().map_err(|_| {
                    ApiError::bad_request("trailing characters after the JSON body")
                })?;
                value
            }
            // JSON Schema's `integer` includes `3.0` (and Python's json module writes it); serde's
            // integers do not. Only on that error, read the body again with integral floats as
            // integers, so the common path parses once.
            Err(error)
                if error
                    .inner()
                    .to_string()
                    .starts_with("invalid type: floating point") =>
            {
                let mut json: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|_| deserialize_error(error, "JSON body"))?;
                integral_floats_to_integers(&mut json);
                serde_path_to_error::deserialize(Strict(json))
                    .map_err(|error| deserialize_error(error, "JSON body"))?
            }
            Err(error) => return Err(deserialize_error(error, "JSON body")),
        };
        value.validate()?;
        Ok(Json(value))
    }
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(Strict(deserializer))
            .map_err(|error| deserialize_error(error, "query string"))?;
        value.validate()?;
        Ok(Query(value))
    }
}

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        // Path parameters are string input too: the same control-character refusal as bodies
        // and queries, on the decoded values.
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            for (key, value) in &raw {
                if let Some(issue) = crate::text::refused_control(value) {
                    return Err(ApiError::bad_request("a path parameter is invalid")
                        .with_detail(key, issue));
                }
            }
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                let (field, issue) = match error.into_kind() {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => (key, format!("expected {expected_type}")),
                    ErrorKind::ParseErrorAtIndex {
                        index,
                        expected_type,
                        ..
                    } => (format!("[{index}]"), format!("expected {expected_type}")),
                    ErrorKind::ParseError { expected_type, .. } => {
                        (String::new(), format!("expected {expected_type}"))
                    }
                    ErrorKind::InvalidUtf8InPathParam { key } => (key, "invalid UTF-8".to_owned()),
                    ErrorKind::DeserializeError { key, message, .. } => (key, message),
                    other => (String::new(), other.to_string()),
                };
                Err(ApiError::bad_request("a path parameter is invalid").with_detail(field, issue))
            }
            Err(other) => Err(ApiError::internal(other)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Only `page` and `per_page` are read; other keys belong to the endpoint's `Query<T>`.
        let mut page = None;
        let mut per_page = None;
        for (key, value) in form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        {
            let target = match key.as_ref() {
                "page" => &mut page,
                "per_page" => &mut per_page,
                _ => continue,
            };
            *target = Some(value.parse::<u32>().map_err(|_| {
                ApiError::new(ErrorCode::ValidationError)
                    .with_detail(key.as_ref(), "expected a positive integer")
            })?);
        }
        Ok(Page(OffsetPage::new(page, per_page)?))
    }
}

/// The client's IP: the peer address, or the rightmost untrusted `X-Forwarded-For` hop behind
/// `RAMPART_TRUSTED_PROXIES`. `None` when the server has no peer address (in-process calls).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Computed once per request, at the edge of the pipeline.
        if crate::context::in_request() {
            return Ok(ClientIp(crate::context::client_ip()));
        }
        let trusted = crate::context::shared::<TrustedProxies>(&parts.extensions);
        Ok(ClientIp(crate::rate_limit::client_ip_of(
            &parts.headers,
            &parts.extensions,
            trusted.map_or(&[], |proxies| &proxies.0),
        )))
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`RAMPART_TRUSTED_PROXIES`), put on every
/// request by [`crate::Api::into_router`] for [`ClientIp`].
#[derive(Debug, Clone)]
pub(crate) struct TrustedProxies(pub(crate) std::sync::Arc<[ipnet::IpNet]>);

/// The version prefix the API is mounted under (`/api/v1`), put on every request by
/// [`crate::Api::into_router`] so handlers build links without hard-coding it.
#[derive(Debug, Clone)]
pub(crate) struct ApiPrefix(pub(crate) std::sync::Arc<str>);

/// The request context: its id and, on authenticated endpoints, the principal.
#[derive(Debug, Clone)]
pub struct Ctx {
    request_id: RequestId,
    principal: Option<Principal>,
    prefix: Option<ApiPrefix>,
}

impl Ctx {
    /// The request id (also in `X-Request-ID` and every log line).
    pub fn request_id(&self) -> &str {
        self.request_id.as_str()
    }

    /// `path` under the API's version prefix: `ctx.api_path("/tasks/1")` is `/api/v1/tasks/1`
    /// for `Api::new()`, and follows `Api::prefix`. For `Location` headers and links.
    pub fn api_path(&self, path: &str) -> String {
        match &self.prefix {
            Some(ApiPrefix(prefix)) => format!("{prefix}{path}"),
            None => path.to_owned(),
        }
    }

    /// The authenticated principal; `None` only on `public` endpoints without credentials.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The authenticated principal, or 401 when the request is anonymous.
    pub fn user(&self) -> Result<&Principal, ApiError> {
        self.principal
            .as_ref()
            .ok_or_else(ApiError::unauthenticated)
    }

    /// The caller's own rows, for repositories: every query through it binds the caller as
    /// the owner. 401 when the request is anonymous.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        self.user().map(Scope::of)
    }

    /// Every owner's rows; 403 unless the caller holds `admin`. Use only where an endpoint is
    /// meant to cross owners, and let the name stand out in review.
    pub fn unscoped_admin(&self) -> Result<UnscopedAdmin, ApiError> {
        UnscopedAdmin::of(self.user()?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = crate::context::request_id().unwrap_or_else(RequestId::generate);
        let principal = parts.extensions.get::<Principal>().cloned();
        let prefix = crate::context::shared::<ApiPrefix>(&parts.extensions).cloned();
        Ok(Ctx {
            request_id,
            principal,
            prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let mut headers = axum::http::HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, expected) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/problem+json", true),
            ("text/plain", false),
            ("application/jsonx", false),
        ] {
            headers.insert(
                header::CONTENT_TYPE,
                value
                    .parse()
                    .unwrap_or(header::HeaderValue::from_static("x")),
            );
            assert_eq!(is_json(&headers), expected, "{value}");
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        assert_eq!(
            unknown_field_name("unknown field `owner_id`, expected `title`"),
            Some("owner_id")
        );
        assert_eq!(unknown_field_name("invalid type: string"), None);
    }

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let mut json = serde_json::json!({"a": 3.0, "b": [1.5, -2.0, 1e300], "c": "4.0"});
        integral_floats_to_integers(&mut json);
        assert_eq!(
            json,
            serde_json::json!({"a": 3, "b": [1.5, -2, 1e300], "c": "4.0"})
        );
    }

    #[test]
    fn escaped_nul_is_found_and_only_it() {
        assert!(contains_escaped_nul(br#"{"a": "x\u0000y"}"#));
        assert!(contains_escaped_nul(br#"{"\u0000": 1}"#));
        assert!(
            !contains_escaped_nul(br#"{"a": "x\\u0000y"}"#),
            "an escaped backslash"
        );
        assert!(!contains_escaped_nul(br#"{"a": "\u0001"}"#));
        assert!(!contains_escaped_nul(b"{}"));
    }

    #[test]
    fn messages_lose_positions() {
        assert_eq!(
            clean_message("invalid type: string \"x\", expected u32 at line 1 column 9".into()),
            "invalid type: string \"x\", expected u32"
        );
    }
}
