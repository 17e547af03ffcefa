use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AuthScheme, Principal};

/// Leeway for clock skew between issuer and verifier; bounded at 30 s.
const MAX_LEEWAY_SECONDS: u64 = 30;

/// The one algorithm an app signs and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with `JWT_SECRET` (the default).
    Hs256,
    /// Ed25519 keys with `kid`s, for rotation without logging everyone out.
    EdDsa,
    /// RSA-SHA256 keys with `kid`s.
    Rs256,
}

impl JwtAlgorithm {
    fn jsonwebtoken(self) -> Algorithm {
        match self {
            JwtAlgorithm::Hs256 => Algorithm::HS256,
            JwtAlgorithm::EdDsa => Algorithm::EdDSA,
            JwtAlgorithm::Rs256 => Algorithm::RS256,
        }
    }

    /// Parses `HS256`, `EdDSA` or `RS256`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "HS256" => Some(JwtAlgorithm::Hs256),
            "EdDSA" => Some(JwtAlgorithm::EdDsa),
            "RS256" => Some(JwtAlgorithm::Rs256),
            _ => None,
        }
    }
}

/// A PEM key and its `kid`. The PEM never appears in `Debug` output.
#[derive(Clone)]
pub struct KeyPem {
    /// Key id written in (and looked up from) the token header.
    pub kid: String,
    /// PEM text: a private key for signing, a public key for verification.
    pub pem: Vec<u8>,
}

impl fmt::Debug for KeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPem")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// JWT settings. Secrets and keys never appear in `Debug` output.
#[derive(Clone)]
pub struct JwtConfig {
    /// HS256 key; at least 32 bytes in production (unused with EdDSA/RS256).
    pub secret: Vec<u8>,
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
    /// Lifetime of access tokens (15 minutes by default).
    pub access_ttl: Duration,
    /// Clock-skew leeway, at most 30 s.
    pub leeway: Duration,
    /// The one accepted algorithm.
    pub algorithm: JwtAlgorithm,
    /// EdDSA/RS256: the private key that signs, with its `kid`.
    pub signing_key: Option<KeyPem>,
    /// EdDSA/RS256: every public key accepted, by `kid` (the signing key's included; keep
    /// the previous key listed until its tokens have expired).
    pub verification_keys: Vec<KeyPem>,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("leeway", &self.leeway)
            .field("algorithm", &self.algorithm)
            .field("signing_key", &self.signing_key)
            .field("verification_keys", &self.verification_keys)
            .finish()
    }
}

impl JwtConfig {
    /// Checks that every configured key parses for the algorithm (called when configuration
    /// loads, so a bad key stops start-up instead of failing requests).
    pub fn check_keys(&self) -> Result<(), String> {
        if self.algorithm == JwtAlgorithm::Hs256 {
            return Ok(());
        }
        let signing = self
            .signing_key
            .as_ref()
            .ok_or("JWT_SIGNING_KEY_FILE and JWT_SIGNING_KID are required")?;
        encoding_key(self.algorithm, &signing.pem)
            .map_err(|e| format!("JWT signing key `{}`: {e}", signing.kid))?;
        if self.verification_keys.is_empty() {
            return Err("JWT_VERIFICATION_KEYS lists no key".to_owned());
        }
        for key in &self.verification_keys {
            decoding_key(self.algorithm, &key.pem)
                .map_err(|e| format!("JWT verification key `{}`: {e}", key.kid))?;
        }
        if !self.verification_keys.iter().any(|k| k.kid == signing.kid) {
            return Err(format!(
                "JWT_VERIFICATION_KEYS must list the signing key `{}`",
                signing.kid
            ));
        }
        Ok(())
    }
}

fn encoding_key(algorithm: JwtAlgorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    match algorithm {
        JwtAlgorithm::Hs256 => Ok(EncodingKey::from_secret(pem)),
        JwtAlgorithm::EdDsa => EncodingKey::from_ed_pem(pem),
        JwtAlgorithm::Rs256 => EncodingKey::from_rsa_pem(pem),
    }
}

fn decoding_key(algorithm: JwtAlgorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<DecodingKey> {
    match algorithm {
        JwtAlgorithm::Hs256 => Ok(DecodingKey::from_secret(pem)),
        JwtAlgorithm::EdDsa => DecodingKey::from_ed_pem(pem),
        JwtAlgorithm::Rs256 => DecodingKey::from_rsa_pem(pem),
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
    /// No verification key has the token's `kid` (or it has none where one is required).
    #[error("unknown key id")]
    UnknownKey,
    /// The header has `crit`: it names extensions the verifier must understand, and rampart
    /// understands none (RFC 7515 §4.1.11 requires refusing the token).
    #[error("critical header parameters are not understood")]
    CriticalHeader,
    /// The token could not be signed.
    #[error("token could not be signed: {0}")]
    Signing(jsonwebtoken::errors::Error),
}

/// How long a verified token is remembered. Bounded so that later checks (revocation) stay
/// close to real time; `exp` is re-checked on every hit.
const VERIFIED_TTL: Duration = Duration::from_secs(60);
/// At most this many verified tokens are remembered (LRU-like eviction by moka).
const VERIFIED_CAPACITY: u64 = 50_000;

/// Signing and verification keys and the validation rules for access tokens.
#[derive(Clone)]
pub struct JwtKeys {
    /// The signing key and the `kid` to write (none for HS256).
    encoding: Option<(EncodingKey, Option<String>)>,
    /// HS256: the one key under `""`; EdDSA/RS256: every accepted key by `kid`.
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    config: JwtConfig,
    /// Token → (principal, exp) of tokens that passed full verification. The same bytes verify
    /// the same way, except for time, which is re-checked; this spares the signature check and
    /// two JSON parses (~5 µs, docs/benchmarks.md) on every request of a session.
    /// Keyed with foldhash: SipHash over a whole token was a measurable share of a request.
    /// Only verified tokens are inserted, so no caller can choose colliding keys.
    verified: moka::sync::Cache<Box<str>, (Principal, u64), foldhash::fast::RandomState>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Whether the token's header has a `crit` member at all (`"crit": null` included, which
/// jsonwebtoken reads as absent). Garbage is `false` here and refused by the decoder.
fn names_crit(token: &str) -> bool {
    use base64::Engine as _;
    let Some(segment) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .and_then(|json| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json).ok()
        })
        .is_some_and(|header| header.contains_key("crit"))
}

fn now_seconds() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

impl JwtKeys {
    /// Builds keys and the one accepted algorithm from the config. Keys that do not parse are
    /// left out (configuration loading rejects them first, see [`JwtConfig::check_keys`]).
    pub fn new(config: JwtConfig) -> Self {
        let algorithm = config.algorithm.jsonwebtoken();
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = config.leeway.as_secs().min(MAX_LEEWAY_SECONDS);
        let (encoding, decoding) = match config.algorithm {
            JwtAlgorithm::Hs256 => (
                Some((EncodingKey::from_secret(&config.secret), None)),
                HashMap::from([(String::new(), DecodingKey::from_secret(&config.secret))]),
            ),
            asymmetric => {
                let encoding = config.signing_key.as_ref().and_then(|key| {
                    encoding_key(asymmetric, &key.pem)
                        .ok()
                        .map(|encoding| (encoding, Some(key.kid.clone())))
                });
                let decoding = config
                    .verification_keys
                    .iter()
                    .filter_map(|key| {
                        decoding_key(asymmetric, &key.pem)
                            .ok()
                            .map(|d| (key.kid.clone(), d))
                    })
                    .collect();
                (encoding, decoding)
            }
        };
        Self {
            encoding,
            decoding,
            validation,
            config,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(VERIFIED_TTL)
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The configuration these keys were built from.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The key that verifies this token: by `kid` for EdDSA/RS256 (an unknown `kid` is
    /// refused; nothing is ever fetched from `jku`, `x5u` or `jwk`), the one secret for HS256.
    /// A header with `crit` is refused whatever it lists (even `[]`, which RFC 7515 forbids):
    /// rampart implements no JWS extension, and jsonwebtoken does not check `crit` itself.
    fn decoding_key_for(&self, token: &str) -> Result<&DecodingKey, JwtError> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.crit.is_some() || names_crit(token) {
            return Err(JwtError::CriticalHeader);
        }
        if self.config.algorithm == JwtAlgorithm::Hs256 {
            return self.decoding.get("").ok_or(JwtError::UnknownKey);
        }
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        self.decoding.get(&kid).ok_or(JwtError::UnknownKey)
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
        let key = self.decoding_key_for(token)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)?;
        let claims = data.claims;
        if claims.iat > now + self.validation.leeway {
            return Err(JwtError::IssuedInFuture);
        }
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| JwtError::BadSubject)?;
        let principal = Principal::authenticated(user_id, claims.roles, AuthScheme::Jwt);
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

    /// Signs arbitrary claims with the signing key (tests use it to forge edge cases).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, JwtError> {
        let (key, kid) = self.encoding.as_ref().ok_or(JwtError::UnknownKey)?;
        let mut header = Header::new(self.config.algorithm.jsonwebtoken());
        header.kid = kid.clone();
        jsonwebtoken::encode(&header, claims, key).map_err(JwtError::Signing)
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
            algorithm: JwtAlgorithm::Hs256,
            signing_key: None,
            verification_keys: Vec::new(),
        })
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/fixtures/jwt/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn rotating(signing: &str) -> JwtKeys {
        JwtKeys::new(JwtConfig {
            algorithm: JwtAlgorithm::EdDsa,
            signing_key: Some(KeyPem {
                kid: signing.into(),
                pem: fixture(&format!("ed25519-{signing}.pem")),
            }),
            verification_keys: vec![
                KeyPem {
                    kid: "k1".into(),
                    pem: fixture("ed25519-k1.pub.pem"),
                },
                KeyPem {
                    kid: "k2".into(),
                    pem: fixture("ed25519-k2.pub.pem"),
                },
            ],
            ..keys().config.clone()
        })
    }

    #[test]
    fn rotated_keys_verify_by_kid_and_unknown_kids_are_refused() {
        let old = rotating("k1");
        let new = rotating("k2");
        assert!(old.config.check_keys().is_ok());
        let user = Uuid::now_v7();
        let old_token = old.issue(user, &[]).unwrap_or_default();
        let new_token = new.issue(user, &[]).unwrap_or_default();
        // The new signer still accepts tokens of the old key while it is listed.
        assert_eq!(new.verify(&old_token).map(|p| p.user_id()).ok(), Some(user));
        assert_eq!(new.verify(&new_token).map(|p| p.user_id()).ok(), Some(user));
        // Drop k1 from the list: its tokens stop.
        let mut config = new.config.clone();
        config.verification_keys.retain(|k| k.kid == "k2");
        let narrowed = JwtKeys::new(config);
        assert!(matches!(
            narrowed.verify(&old_token),
            Err(JwtError::UnknownKey)
        ));

        // An unknown or path-like kid, or a jku pointing elsewhere, is refused; nothing is fetched.
        let claims = Claims {
            sub: user.to_string(),
            roles: vec!["admin".into()],
            iat: now_seconds(),
            nbf: now_seconds(),
            exp: now_seconds() + 60,
            iss: "iss".into(),
            aud: "aud".into(),
            jti: "j".into(),
        };
        let forge = |kid: Option<&str>, jku: Option<&str>| {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = kid.map(str::to_owned);
            header.jku = jku.map(str::to_owned);
            let attacker = EncodingKey::from_ed_pem(&fixture("ed25519-k1.pem"))
                .unwrap_or_else(|e| panic!("{e}"));
            jsonwebtoken::encode(&header, &claims, &attacker).unwrap_or_default()
        };
        assert!(narrowed.verify(&forge(Some("k9"), None)).is_err());
        assert!(
            narrowed
                .verify(&forge(Some("../../../etc/passwd"), None))
                .is_err()
        );
        assert!(
            narrowed
                .verify(&forge(None, Some("https://attacker.example/jwks.json")))
                .is_err()
        );
        assert!(
            narrowed
                .verify(&forge(
                    Some("k2"),
                    Some("https://attacker.example/jwks.json")
                ))
                .is_err(),
            "signed by k1, claims k2"
        );
        // Algorithm confusion: an HS256 token on an EdDSA app.
        let hs = keys().issue(user, &[]).unwrap_or_default();
        assert!(narrowed.verify(&hs).is_err());
    }

    #[test]
    fn misconfigured_keys_are_found_at_start() {
        let mut config = rotating("k2").config.clone();
        config.verification_keys.retain(|k| k.kid == "k1");
        assert!(
            config.check_keys().is_err(),
            "the signing key must be listed"
        );
        config.signing_key = Some(KeyPem {
            kid: "k2".into(),
            pem: b"not a key".to_vec(),
        });
        assert!(config.check_keys().is_err());
        let rsa = JwtConfig {
            algorithm: JwtAlgorithm::Rs256,
            signing_key: Some(KeyPem {
                kid: "r1".into(),
                pem: fixture("rsa-r1.pem"),
            }),
            verification_keys: vec![KeyPem {
                kid: "r1".into(),
                pem: fixture("rsa-r1.pub.pem"),
            }],
            ..keys().config.clone()
        };
        assert!(rsa.check_keys().is_ok());
        let rsa = JwtKeys::new(rsa);
        let token = rsa.issue(Uuid::nil(), &[]).unwrap_or_default();
        assert!(rsa.verify(&token).is_ok());
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
            principal.map(|p| (p.user_id(), p.roles().to_vec())),
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
