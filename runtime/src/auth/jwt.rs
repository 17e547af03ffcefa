use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AuthScheme, Principal};

/// Leeway for clock skew between issuer and verifier; bounded at 30 s.
const MAX_LEEWAY_SECONDS: u64 = 30;

/// JWT settings. The secret never appears in `Debug` output.
#[derive(Clone)]
pub struct JwtConfig {
    /// HS256 key; at least 32 bytes in production.
    pub secret: Vec<u8>,
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
    /// Lifetime of access tokens (15 minutes by default).
    pub access_ttl: Duration,
    /// Clock-skew leeway, at most 30 s.
    pub leeway: Duration,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("leeway", &self.leeway)
            .finish()
    }
}

/// The claims rampart writes and requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the user id.
    pub sub: String,
    /// Granted roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    /// Expires at.
    pub exp: u64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Token id.
    pub jti: String,
}

/// Why a token was refused. Never shown to clients (they get a plain 401).
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// Signature, algorithm, format or a required claim is wrong.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// `iat` lies in the future beyond the leeway.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `sub` is not a user id.
    #[error("token subject is not a user id")]
    BadSubject,
    /// The token could not be signed.
    #[error("token could not be signed: {0}")]
    Signing(jsonwebtoken::errors::Error),
}

/// How long a verified token is remembered. Bounded so that later checks (revocation) stay
/// close to real time; `exp` is re-checked on every hit.
const VERIFIED_TTL: Duration = Duration::from_secs(60);
/// At most this many verified tokens are remembered (LRU-like eviction by moka).
const VERIFIED_CAPACITY: u64 = 50_000;

/// Keys and validation rules for HS256 access tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    config: JwtConfig,
    /// Token → (principal, exp) of tokens that passed full verification. The same bytes verify
    /// the same way, except for time, which is re-checked; this spares the signature check and
    /// two JSON parses (~5 µs, docs/benchmarks.md) on every request of a session.
    verified: moka::sync::Cache<Box<str>, (Principal, u64)>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn now_seconds() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

impl JwtKeys {
    /// Builds keys and the one accepted algorithm (HS256) from the config.
    pub fn new(config: JwtConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = config.leeway.as_secs().min(MAX_LEEWAY_SECONDS);
        Self {
            encoding: EncodingKey::from_secret(&config.secret),
            decoding: DecodingKey::from_secret(&config.secret),
            validation,
            config,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(VERIFIED_TTL)
                .build(),
        }
    }

    /// The configuration these keys were built from.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// Verifies a bearer token and returns its principal.
    pub fn verify(&self, token: &str) -> Result<Principal, JwtError> {
        let now = now_seconds();
        if let Some((principal, exp)) = self.verified.get(token) {
            if now < exp + self.validation.leeway {
                return Ok(principal);
            }
            self.verified.invalidate(token);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        let claims = data.claims;
        if claims.iat > now + self.validation.leeway {
            return Err(JwtError::IssuedInFuture);
        }
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| JwtError::BadSubject)?;
        let principal = Principal {
            user_id,
            roles: claims.roles,
            scheme: AuthScheme::Jwt,
        };
        self.verified
            .insert(Box::from(token), (principal.clone(), claims.exp));
        Ok(principal)
    }

    /// Issues an access token for a user with roles, valid for `access_ttl`.
    pub fn issue(&self, user_id: Uuid, roles: &[String]) -> Result<String, JwtError> {
        let now = now_seconds();
        let claims = Claims {
            sub: user_id.to_string(),
            roles: roles.to_vec(),
            iat: now,
            nbf: now,
            exp: now + self.config.access_ttl.as_secs(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            jti: Uuid::now_v7().to_string(),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with the HS256 key (tests use it to forge edge cases).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, JwtError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(JwtError::Signing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(JwtConfig {
            secret: vec![7; 32],
            issuer: "iss".into(),
            audience: "aud".into(),
            access_ttl: Duration::from_secs(900),
            leeway: Duration::from_secs(600),
        })
    }

    #[test]
    fn round_trip_and_leeway_is_capped() {
        let keys = keys();
        assert_eq!(keys.validation.leeway, 30);
        let user = Uuid::now_v7();
        let token = keys.issue(user, &["member".into()]);
        let principal = token
            .map_err(|e| e.to_string())
            .and_then(|t| keys.verify(&t).map_err(|e| e.to_string()));
        assert_eq!(
            principal.map(|p| (p.user_id, p.roles)),
            Ok((user, vec!["member".to_string()]))
        );
    }

    #[test]
    fn a_cached_token_still_expires() {
        let keys = JwtKeys::new(JwtConfig {
            leeway: Duration::ZERO,
            ..keys().config.clone()
        });
        let now = now_seconds();
        let claims = Claims {
            sub: Uuid::nil().to_string(),
            roles: vec![],
            iat: now,
            nbf: now,
            exp: now + 1,
            iss: "iss".into(),
            aud: "aud".into(),
            jti: "j".into(),
        };
        let token = keys.sign(&claims).unwrap_or_default();
        assert!(keys.verify(&token).is_ok());
        assert!(
            keys.verified.contains_key(token.as_str()),
            "remembered after verification"
        );
        std::thread::sleep(Duration::from_millis(2100));
        assert!(
            keys.verify(&token).is_err(),
            "expired tokens are refused even when remembered"
        );
    }

    #[test]
    fn future_iat_is_refused() {
        let keys = keys();
        let now = now_seconds();
        let claims = Claims {
            sub: Uuid::nil().to_string(),
            roles: vec![],
            iat: now + 3600,
            nbf: now,
            exp: now + 7200,
            iss: "iss".into(),
            aud: "aud".into(),
            jti: "j".into(),
        };
        let token = keys.sign(&claims).map_err(|e| e.to_string());
        assert!(matches!(
            token.map(|t| keys.verify(&t)),
            Ok(Err(JwtError::IssuedInFuture))
        ));
    }
}
