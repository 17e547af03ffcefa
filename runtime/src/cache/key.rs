//! The key of an entry: everything a response can differ by, so that two requests that could
//! be answered differently never share one.
//!
//! - the endpoint and the path as sent (its parameters are in it; the API prefix, and so the
//!   version, too);
//! - every query parameter, decoded and sorted (`?b=2&a=1` and `?a=1&b=%32` are one key;
//!   a repeated parameter keeps each value);
//! - `Accept`;
//! - who asks: nobody (an anonymous call to a public endpoint); the access rule (a `shared`
//!   entry, for everyone the rule admits); or the user, the credential (an API key may hold
//!   fewer roles than its owner) and the roles the request holds.
//!
//! The parts are length-prefixed before hashing (SHA-256), so no value can imitate a
//! boundary.

use axum::http::{HeaderMap, Uri, header};
use sha2::{Digest, Sha256};

use crate::auth::{Access, Principal, Requirement};
use crate::rate_limit::RedisStore;

/// The key of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub(crate) bytes: [u8; 32],
}

/// Who an entry is for.
pub(crate) enum Audience<'a> {
    /// Anonymous requests to a public endpoint.
    Anyone,
    /// Everyone the endpoint's access rule admits.
    Admitted(&'a Access),
    /// One caller through one credential.
    Caller(&'a Principal),
}

impl<'a> Audience<'a> {
    /// Who an entry of this request is for.
    pub(crate) fn of(access: &'a Access, shared: bool, principal: Option<&'a Principal>) -> Self {
        match (principal, access) {
            (None, _) => Audience::Anyone,
            (Some(_), Access::Protected { .. }) if shared => Audience::Admitted(access),
            (Some(principal), _) => Audience::Caller(principal),
        }
    }

    /// Whether an entry may be answered by a shared cache (`public, max-age`).
    pub(crate) fn is_anyone(&self) -> bool {
        matches!(self, Audience::Anyone)
    }
}

impl CacheKey {
    /// The key of a request to `endpoint` for `audience`.
    pub(crate) fn of(
        endpoint: &str,
        uri: &Uri,
        headers: &HeaderMap,
        audience: &Audience<'_>,
    ) -> Self {
        let mut hash = Sha256::new();
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        part(b"rampart-cache-1");
        part(endpoint.as_bytes());
        part(uri.path().as_bytes());
        let mut query: Vec<(String, String)> =
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
        query.sort();
        part(&(query.len() as u64).to_be_bytes());
        for (name, value) in &query {
            part(name.as_bytes());
            part(value.as_bytes());
        }
        let accept: Vec<&[u8]> = headers
            .get_all(header::ACCEPT)
            .iter()
            .map(|value| value.as_bytes())
            .collect();
        part(&(accept.len() as u64).to_be_bytes());
        for value in accept {
            part(value);
        }
        match audience {
            Audience::Anyone => part(b"anyone"),
            Audience::Admitted(access) => {
                part(b"admitted");
                match access {
                    Access::Public => part(b"public"),
                    Access::Protected { requirement, .. } => match requirement {
                        Requirement::Authenticated => part(b"authenticated"),
                        Requirement::AnyRole(roles) => {
                            part(b"roles");
                            for role in *roles {
                                part(role.as_bytes());
                            }
                        }
                        Requirement::Permission(permission, _) => {
                            part(b"permission");
                            part(permission.as_bytes());
                        }
                    },
                }
            }
            Audience::Caller(principal) => {
                part(b"caller");
                part(principal.user_id().as_bytes());
                match principal.api_key_id() {
                    Some(key) => {
                        part(b"api-key");
                        part(key.as_bytes());
                    }
                    None => part(b"token"),
                }
                let mut roles: Vec<&str> = principal.roles().iter().map(String::as_str).collect();
                roles.sort_unstable();
                roles.dedup();
                for role in roles {
                    part(role.as_bytes());
                }
            }
        }
        Self {
            bytes: hash.finalize().into(),
        }
    }

    /// The key of what `query` (`Repository.method`, its SQL) answers for its bound values,
    /// `values` in their key form (`Value::key_bytes`: each value with its kind, length
    /// prefixed; the owner of a scoped query is one of them).
    pub(crate) fn of_query(query: &str, sql: &str, values: &[u8]) -> Self {
        let mut hash = Sha256::new();
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        part(b"rampart-query-1");
        part(query.as_bytes());
        part(sql.as_bytes());
        part(values);
        Self {
            bytes: hash.finalize().into(),
        }
    }

    fn hex(&self) -> String {
        self.bytes
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Its entry in Redis.
    pub(crate) fn entry(&self, store: &RedisStore) -> String {
        store.prefixed(&format!("cache:e:{}", self.hex()))
    }

    /// The lock on computing it, in Redis.
    pub(crate) fn lock(&self, store: &RedisStore) -> String {
        store.prefixed(&format!("cache:l:{}", self.hex()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str, accept: Option<&'static str>) -> CacheKey {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(
                header::ACCEPT,
                accept.parse().unwrap_or_else(|e| panic!("{e}")),
            );
        }
        CacheKey::of(
            "list",
            &uri.parse().unwrap_or_else(|e| panic!("{e}")),
            &headers,
            &Audience::Anyone,
        )
    }

    #[test]
    fn the_query_and_its_values_count_in_a_query_key() {
        let key = |values: &[u8]| CacheKey::of_query("Repo.q", "SELECT $1", values);
        assert_eq!(key(b"a"), key(b"a"));
        assert_ne!(key(b"a"), key(b"b"));
        assert_ne!(key(b""), CacheKey::of_query("Repo.r", "SELECT $1", b""));
        assert_ne!(key(b""), CacheKey::of_query("Repo.q", "SELECT 2", b""));
    }

    #[test]
    fn the_query_is_decoded_and_sorted_and_every_parameter_counts() {
        assert_eq!(key("/p?b=2&a=1", None), key("/p?a=1&b=%32", None));
        assert_ne!(key("/p?a=1", None), key("/p?a=2", None));
        assert_ne!(key("/p?a=1", None), key("/p?a=1&a=1", None));
        assert_ne!(key("/p?a=1", None), key("/p", None));
        assert_ne!(key("/p?a", None), key("/p", None));
        assert_ne!(key("/p", None), key("/q", None));
        // A value cannot imitate a boundary.
        assert_ne!(key("/p?a=1%26b%3D2", None), key("/p?a=1&b=2", None));
        assert_ne!(
            key("/p", Some("application/json")),
            key("/p", Some("text/csv"))
        );
    }
}
