//! Authentication and authorization of one request against its endpoint's [`Access`] rule:
//! a bearer JWT (verified here) or an `X-API-Key` (verified by the router's
//! [`ApiKeyVerifier`]), then the requirement (default deny).

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{API_KEY_HEADER_NAME, Access, JwtKeys, Principal, Requirement};
use crate::error::ApiError;

/// The API key presented, if exactly one `X-API-Key` header carries one.
pub(super) fn api_key(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let mut values = headers.get_all(API_KEY_HEADER_NAME).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(());
    }
    value.to_str().map(|v| Some(v.trim())).map_err(|_| ())
}

/// Reads the bearer token. `Ok(None)`: no credentials; `Err`: credentials that are unusable.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(());
    }
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(());
    }
    Ok(Some(token.trim()))
}

pub(super) fn authenticate(
    headers: &HeaderMap,
    keys: &JwtKeys,
) -> Result<Option<Principal>, ApiError> {
    match bearer(headers) {
        Ok(None) => Ok(None),
        Ok(Some(token)) => keys.verify(token).map(Some).map_err(|error| {
            tracing::debug!(reason = %error, "bearer token refused");
            ApiError::unauthenticated()
        }),
        Err(()) => Err(ApiError::unauthenticated()),
    }
}

fn authorize(principal: &Principal, requirement: Requirement) -> bool {
    match requirement {
        Requirement::Authenticated => true,
        Requirement::AnyRole(roles) => roles.iter().any(|role| principal.has_role(role)),
        Requirement::Permission(permission, table) => table.grants(principal, permission),
    }
}

/// Applies the endpoint's rule to an authentication outcome: the principal to continue with,
/// or the response (401/403) to stop with.
pub(super) fn admit(
    access: Access,
    outcome: Result<Option<Principal>, ApiError>,
) -> Result<Option<Principal>, Box<Response>> {
    match (access, outcome) {
        // A public endpoint ignores unusable credentials instead of failing on them.
        (Access::Public, outcome) => Ok(outcome.ok().flatten()),
        (Access::Protected { .. }, Err(error)) => Err(Box::new(error.into_response())),
        (Access::Protected { .. }, Ok(None)) => {
            Err(Box::new(ApiError::unauthenticated().into_response()))
        }
        (Access::Protected { requirement, .. }, Ok(Some(principal))) => {
            if authorize(&principal, requirement) {
                Ok(Some(principal))
            } else {
                Err(Box::new(ApiError::forbidden().into_response()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), Ok(None));
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Ok(Some("abc")));
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("bearer   abc "),
        );
        assert_eq!(bearer(&headers), Ok(Some("abc")));
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("Basic abc"),
        );
        assert_eq!(bearer(&headers), Err(()));
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("Bearer "),
        );
        assert_eq!(bearer(&headers), Err(()));
        headers.append(
            header::AUTHORIZATION,
            header::HeaderValue::from_static("Bearer x"),
        );
        assert_eq!(bearer(&headers), Err(()));
    }
}
