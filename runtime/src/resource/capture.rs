//! A [`Scope`] captured when a job is enqueued and handed back to the job when it runs.
//!
//! A job payload sits in a queue that other code (and, with a shared database or Redis,
//! other services) can write, so the payload is not trusted: the captured owner is signed
//! with HMAC-SHA-256 (truncated to 128 bits) under a key derived from the app's cursor key,
//! with its own purpose string. Editing the owner in the payload, or writing a capture by
//! hand, fails verification. Only the runtime (the job runner) turns a capture back into a
//! [`Scope`]; the method is crate-private.
//!
//! The key is derived from the cursor key so that one shared secret serves both: a capture
//! made on one instance is restored on another exactly when that instance would accept the
//! first one's cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::Scope;
use super::cursor::CursorKey;

type HmacSha256 = Hmac<Sha256>;

const MAC_BYTES: usize = 16;
const PURPOSE: &[u8] = b"rampart captured scope v1";

/// A [`Scope`], signed, to put into a job payload. Serializable; opaque to the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedScope {
    owner: Uuid,
    mac: String,
}

/// Why a captured scope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapturedScopeError {
    /// The signature does not match: the payload was edited, forged, or signed under another
    /// key (another app, or a rotated secret).
    #[error("the captured scope is not signed by this app")]
    BadSignature,
}

/// The MAC over the owner and, for a capture bound to one job, over what it is bound to
/// (after a separator no owner's bytes can produce: a bound capture never verifies unbound,
/// nor the other way round).
fn tag(key: &[u8; 32], owner: Uuid, binding: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(owner.as_bytes());
    if !binding.is_empty() {
        mac.update(b"\0bound to\0");
        mac.update(&(binding.len() as u64).to_be_bytes());
        mac.update(binding);
    }
    Some(mac)
}

impl Scope {
    /// Captures this scope for a job: the job gets back this owner's scope, and no other.
    /// `app` is the app (or anything holding its cursor key).
    pub fn capture(&self, app: &impl AsRef<CursorKey>) -> CapturedScope {
        capture_with(self, app.as_ref(), b"")
    }

    /// Captures this scope for one job only (`binding`: its name and id): a copy moved into
    /// another job's record does not verify there.
    pub(crate) fn capture_bound(&self, key: &CursorKey, binding: &[u8]) -> CapturedScope {
        capture_with(self, key, binding)
    }
}

impl CapturedScope {
    /// The scope again, if this capture was signed by `app`. Crate-private: only the job
    /// runner hands scopes back.
    #[cfg_attr(not(test), allow(dead_code))] // the job runner (next) is its caller
    pub(crate) fn restore(&self, app: &impl AsRef<CursorKey>) -> Result<Scope, CapturedScopeError> {
        restore_with(self, app.as_ref(), b"")
    }

    /// The scope again, if this capture was signed by `key` for `binding` (the job it was
    /// enqueued with).
    pub(crate) fn restore_bound(
        &self,
        key: &CursorKey,
        binding: &[u8],
    ) -> Result<Scope, CapturedScopeError> {
        restore_with(self, key, binding)
    }
}

fn capture_with(scope: &Scope, key: &CursorKey, binding: &[u8]) -> CapturedScope {
    let mac = key
        .subkeys(PURPOSE)
        .first()
        .and_then(|current| tag(current, scope.owner, binding))
        .map(|mac| URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..MAC_BYTES]))
        .unwrap_or_default();
    CapturedScope {
        owner: scope.owner,
        mac,
    }
}

#[cfg_attr(not(test), allow(dead_code))] // the job runner (next) is its caller
fn restore_with(
    captured: &CapturedScope,
    key: &CursorKey,
    binding: &[u8],
) -> Result<Scope, CapturedScopeError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&captured.mac)
        .map_err(|_| CapturedScopeError::BadSignature)?;
    if bytes.len() != MAC_BYTES {
        return Err(CapturedScopeError::BadSignature);
    }
    // Signed with the current key; a capture made before a rotation still verifies with the
    // previous one (a queued job outlives a deploy).
    let signed = key.subkeys(PURPOSE).iter().any(|subkey| {
        tag(subkey, captured.owner, binding)
            .is_some_and(|mac| mac.verify_truncated_left(&bytes).is_ok())
    });
    if !signed {
        return Err(CapturedScopeError::BadSignature);
    }
    Ok(Scope::owned_by(captured.owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_capture_verifies_only_for_its_binding() {
        let key = CursorKey::derive(b"secret");
        let scope = Scope::owned_by(Uuid::now_v7());
        let bound = scope.capture_bound(&key, b"export_project:1");
        assert_eq!(bound.restore_bound(&key, b"export_project:1"), Ok(scope));
        for other in [&b"export_project:2"[..], b"send_welcome:1", b""] {
            assert_eq!(
                restore_with(&bound, &key, other),
                Err(CapturedScopeError::BadSignature)
            );
        }
        let unbound = scope.capture(&key);
        assert_eq!(
            unbound.restore_bound(&key, b"export_project:1"),
            Err(CapturedScopeError::BadSignature)
        );
    }

    #[test]
    fn a_capture_round_trips_through_a_payload() {
        let key = CursorKey::derive(b"secret");
        let scope = Scope::owned_by(Uuid::now_v7());
        let payload = serde_json::to_string(&capture_with(&scope, &key, b"")).unwrap_or_default();
        let back: CapturedScope = serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(restore_with(&back, &key, b""), Ok(scope));
    }

    fn app(secret: &str) -> crate::App {
        let secret = secret.to_owned();
        let config = crate::Config::from_lookup(&move |name| match name {
            "JWT_SECRET" => Some(secret.clone()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        crate::App::new(config, None)
    }

    #[test]
    fn an_app_restores_its_own_captures_only() {
        let (app, other) = (
            app("first-secret-first-secret-first-secret"),
            app("other-secret-other-secret-other-secret"),
        );
        let scope = Scope::owned_by(Uuid::now_v7());
        let captured = scope.capture(&app);
        assert_eq!(captured.restore(&app), Ok(scope));
        assert_eq!(
            captured.restore(&other),
            Err(CapturedScopeError::BadSignature)
        );
    }

    #[test]
    fn an_edited_owner_a_forged_mac_or_another_key_is_refused() {
        let key = CursorKey::derive(b"secret");
        let victim = Uuid::now_v7();
        let captured = capture_with(&Scope::owned_by(Uuid::now_v7()), &key, b"");

        // The owner edited in the payload, the signature kept.
        let mut json = serde_json::to_value(&captured).unwrap_or_default();
        json["owner"] = serde_json::json!(victim);
        let edited: CapturedScope = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            restore_with(&edited, &key, b""),
            Err(CapturedScopeError::BadSignature)
        );

        // A capture written by hand.
        let forged: CapturedScope =
            serde_json::from_value(serde_json::json!({"owner": victim, "mac": ""}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            restore_with(&forged, &key, b""),
            Err(CapturedScopeError::BadSignature)
        );

        // Signed by another app, or a truncated signature.
        let other = CursorKey::derive(b"other");
        assert_eq!(
            restore_with(&captured, &other, b""),
            Err(CapturedScopeError::BadSignature)
        );
        let short = CapturedScope {
            mac: captured.mac[..captured.mac.len() - 2].to_owned(),
            ..captured.clone()
        };
        assert_eq!(
            restore_with(&short, &key, b""),
            Err(CapturedScopeError::BadSignature)
        );
        // The capture is not a cursor: the purposes are separated.
        assert_ne!(key.subkeys(PURPOSE), key.subkeys(b"rampart list cursor v1"));
    }
}
