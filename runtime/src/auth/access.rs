use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use uuid::Uuid;

use super::{JwtKeys, Principal, RbacTable};
use crate::db::Db;
use crate::error::ApiError;

/// Which credentials an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemes {
    /// Every scheme the app supports.
    Any,
    /// `Authorization: Bearer <JWT>` only.
    Jwt,
    /// `X-API-Key: <key>` only.
    ApiKey,
}

impl Schemes {
    fn accepts_jwt(self) -> bool {
        matches!(self, Schemes::Any | Schemes::Jwt)
    }
    fn accepts_api_key(self) -> bool {
        matches!(self, Schemes::Any | Schemes::ApiKey)
    }
}

/// The `X-API-Key` header.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The API key presented, if exactly one `X-API-Key` header carries one.
fn api_key(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let mut values = headers.get_all(API_KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(());
    }
    value.to_str().map(|v| Some(v.trim())).map_err(|_| ())
}

/// What an authenticated principal must hold.
#[derive(Debug, Clone, Copy)]
pub enum Requirement {
    /// Being authenticated is enough.
    Authenticated,
    /// Any one of these roles.
    AnyRole(&'static [&'static str]),
    /// This permission, granted through the app's RBAC table.
    Permission(&'static str, &'static RbacTable),
}

/// The access rule of an endpoint, derived from its `#[endpoint]` declaration.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// No credentials needed; a valid token still yields a principal.
    Public,
    /// Credentials required (the default).
    Protected {
        /// Accepted schemes.
        schemes: Schemes,
        /// What the principal must hold.
        requirement: Requirement,
    },
}

impl Access {
    /// Whether the endpoint needs credentials.
    pub fn is_protected(&self) -> bool {
        matches!(self, Access::Protected { .. })
    }
}

/// Put on the response by the access layer so the access log can name the user.
#[derive(Debug, Clone, Copy)]
pub struct AuthenticatedUser(pub Uuid);

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

fn authenticate(headers: &HeaderMap, keys: &JwtKeys) -> Result<Option<Principal>, ApiError> {
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

/// Layers 6 and 7 for one endpoint: authentication, then authorization (default deny).
#[derive(Clone, Debug)]
pub struct AccessLayer {
    access: Access,
    keys: Arc<JwtKeys>,
}

impl AccessLayer {
    /// The access layer of an endpoint.
    pub fn new(access: Access, keys: Arc<JwtKeys>) -> Self {
        Self { access, keys }
    }
}

impl<S> Layer<S> for AccessLayer {
    type Service = AccessService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AccessService {
            inner,
            access: self.access,
            keys: self.keys.clone(),
        }
    }
}

/// The service of [`AccessLayer`].
#[derive(Clone, Debug)]
pub struct AccessService<S> {
    inner: S,
    access: Access,
    keys: Arc<JwtKeys>,
}

impl<S> Service<Request<Body>> for AccessService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let schemes = match self.access {
            Access::Public => Schemes::Any,
            Access::Protected { schemes, .. } => schemes,
        };
        let has_bearer = request.headers().contains_key(header::AUTHORIZATION);
        let key = api_key(request.headers()).map(|k| k.map(str::to_owned));
        match key {
            // An API key alone, where keys are accepted: look it up (a database round trip).
            Ok(Some(key)) if !has_bearer && schemes.accepts_api_key() => {
                let access = self.access;
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move {
                    let outcome = match request.extensions().get::<Db>().cloned() {
                        Some(db) => crate::identity::api_keys::authenticate(&db, &key)
                            .await
                            .and_then(|p| p.ok_or_else(ApiError::unauthenticated))
                            .map(Some),
                        None => Err(ApiError::internal("API keys need a database")),
                    };
                    match admit(access, outcome) {
                        Ok(principal) => Ok(forward(&mut inner, request, principal).await),
                        Err(response) => Ok(*response),
                    }
                })
            }
            // Both kinds at once, an unreadable key, or a key where only JWTs are accepted:
            // refused on protected endpoints, ignored on public ones.
            Ok(Some(_)) | Err(()) => match self.access {
                Access::Public => Box::pin(self.inner.call(request)),
                Access::Protected { .. } => {
                    Box::pin(async { Ok(ApiError::unauthenticated().into_response()) })
                }
            },
            Ok(None) => {
                let outcome = if schemes.accepts_jwt() {
                    authenticate(request.headers(), &self.keys)
                } else if has_bearer {
                    Err(ApiError::unauthenticated())
                } else {
                    Ok(None)
                };
                match admit(self.access, outcome) {
                    Ok(principal) => {
                        if let Some(principal) = principal.clone() {
                            request.extensions_mut().insert(principal);
                        }
                        let user = principal.map(|p| AuthenticatedUser(p.user_id()));
                        let future = self.inner.call(request);
                        Box::pin(async move {
                            let Ok(mut response) = future.await;
                            if let Some(user) = user {
                                response.extensions_mut().insert(user);
                            }
                            Ok(response)
                        })
                    }
                    Err(response) => Box::pin(async move { Ok(*response) }),
                }
            }
        }
    }
}

/// Applies the endpoint's rule to an authentication outcome: the principal to continue with,
/// or the response (401/403) to stop with.
fn admit(
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
                let mut response = ApiError::forbidden().into_response();
                response
                    .extensions_mut()
                    .insert(AuthenticatedUser(principal.user_id()));
                Err(Box::new(response))
            }
        }
    }
}

/// Calls the inner service with the principal in the request and the user on the response.
async fn forward<S>(
    inner: &mut S,
    mut request: Request<Body>,
    principal: Option<Principal>,
) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    let user = principal.as_ref().map(|p| AuthenticatedUser(p.user_id()));
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    let Ok(mut response) = inner.call(request).await;
    if let Some(user) = user {
        response.extensions_mut().insert(user);
    }
    response
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
