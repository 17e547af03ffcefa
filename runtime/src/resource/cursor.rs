//! Opaque, signed list cursors: `base64url(payload).base64url(mac)`.
//!
//! The MAC (HMAC-SHA-256, truncated to 128 bits) covers the payload and the list it was issued
//! for (resource, sort, filters, parent), so a forged cursor, a tampered one, or one replayed on
//! a different list is a 400, never a query on attacker-chosen values.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{Kind, Value};
use crate::error::{ApiError, ErrorCode};

type HmacSha256 = Hmac<Sha256>;

const MAC_BYTES: usize = 16;

/// The keys cursors are signed with: the first signs, every one verifies (rotation). Each is
/// derived from a configured secret (`RAMPART_CURSOR_SECRET`, and `_PREVIOUS`).
#[derive(Clone)]
pub struct CursorKey(Arc<Vec<[u8; 32]>>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey([redacted])")
    }
}

impl CursorKey {
    /// Derives the cursor key from a secret (`RAMPART_CURSOR_SECRET`: instances configured
    /// with the same one accept each other's cursors), separated by purpose.
    pub fn derive(secret: &[u8]) -> Self {
        Self(Arc::new(vec![Self::derive_one(secret)]))
    }

    /// The same key that also accepts cursors signed with `previous` (a rotated-out secret).
    pub fn accepting(self, previous: &[u8]) -> Self {
        let mut keys = self.0.as_ref().clone();
        keys.push(Self::derive_one(previous));
        Self(Arc::new(keys))
    }

    fn derive_one(secret: &[u8]) -> [u8; 32] {
        let mut key = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(secret) {
            mac.update(b"rampart list cursor v1");
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        key
    }

    /// Keys for another purpose, derived from these, current first, so whatever makes cursor
    /// keys shared between instances (and rotates them) applies to it too (captured scopes,
    /// see `capture.rs`): sign with the first, accept any.
    pub(super) fn subkeys(&self, purpose: &[u8]) -> Vec<[u8; 32]> {
        self.0
            .iter()
            .map(|base| {
                let mut key = [0u8; 32];
                if let Ok(mut mac) = HmacSha256::new_from_slice(base.as_slice()) {
                    mac.update(purpose);
                    key.copy_from_slice(&mac.finalize().into_bytes());
                }
                key
            })
            .collect()
    }

    /// The key of response `ETag`s (`response.rs`): derived from the current secret, so every
    /// instance configured alike tags the same body alike, and a client cannot test a guess of
    /// a body against its tag. A rotation changes every tag once (one full answer per client).
    pub(crate) fn validator_seed(&self) -> u64 {
        self.subkeys(b"rampart etag v1")
            .first()
            .map(|key| {
                let mut seed = [0u8; 8];
                seed.copy_from_slice(&key[..8]);
                u64::from_le_bytes(seed)
            })
            .unwrap_or_default()
    }

    fn mac(&self, payload: &str, context: &str) -> Option<HmacSha256> {
        self.mac_with(0, payload, context)
    }

    fn mac_with(&self, index: usize, payload: &str, context: &str) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(self.0.get(index)?.as_slice()).ok()?;
        mac.update(payload.as_bytes());
        mac.update(b"\n");
        mac.update(context.as_bytes());
        Some(mac)
    }

    /// The cursor after `(value, id)` on the list described by `context`.
    pub(crate) fn encode(&self, value: &Value, id: Uuid, context: &str) -> String {
        let payload = serde_json::json!([value.to_json(), id.to_string()]).to_string();
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let tag = self
            .mac(&payload, context)
            .map(|mac| mac.finalize().into_bytes())
            .map(|bytes| URL_SAFE_NO_PAD.encode(&bytes[..MAC_BYTES]))
            .unwrap_or_default();
        format!("{payload}.{tag}")
    }

    /// Verifies and reads a cursor whose sort key has `kind`; anything off is a 400.
    pub(crate) fn decode(
        &self,
        cursor: &str,
        kind: Kind,
        context: &str,
    ) -> Result<(Value, Uuid), ApiError> {
        let invalid = || {
            ApiError::new(ErrorCode::BadRequest)
                .with_message("the cursor is invalid or belongs to another list")
                .with_detail("cursor", "invalid")
        };
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if tag.len() != MAC_BYTES {
            return Err(invalid());
        }
        let verified = (0..self.0.len()).any(|index| {
            self.mac_with(index, payload, context)
                .is_some_and(|mac| mac.verify_truncated_left(&tag).is_ok())
        });
        if !verified {
            return Err(invalid());
        }
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let (value, id): (serde_json::Value, String) =
            serde_json::from_slice(&payload).map_err(|_| invalid())?;
        let value = Value::from_json(kind, &value).ok_or_else(invalid)?;
        let id = Uuid::parse_str(&id).map_err(|_| invalid())?;
        Ok((value, id))
    }
}

// A key is the thing `Scope::capture` and `CapturedScope::restore` ask for; the app and the
// job services hold one.
impl AsRef<CursorKey> for CursorKey {
    fn as_ref(&self) -> &CursorKey {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = CursorKey::derive(b"secret");
        let id = Uuid::now_v7();
        let cursor = key.encode(&Value::Text("b".into()), id, "tasks|title");
        let decoded = key.decode(&cursor, Kind::Text, "tasks|title").ok();
        assert_eq!(decoded, Some((Value::Text("b".into()), id)));

        // Every single flipped byte is refused.
        for index in 0..cursor.len() {
            let mut bytes = cursor.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap_or_default();
            assert!(
                key.decode(&tampered, Kind::Text, "tasks|title").is_err(),
                "{index}"
            );
        }
        // Rotation: a key that also accepts the old secret reads the old cursor, and signs
        // new ones with the new secret only.
        let rotated = CursorKey::derive(b"new").accepting(b"secret");
        assert_eq!(
            rotated.decode(&cursor, Kind::Text, "tasks|title").ok(),
            Some((Value::Text("b".into()), id))
        );
        let fresh = rotated.encode(&Value::Text("b".into()), id, "tasks|title");
        assert!(key.decode(&fresh, Kind::Text, "tasks|title").is_err());
        assert!(
            CursorKey::derive(b"new")
                .decode(&fresh, Kind::Text, "tasks|title")
                .is_ok()
        );
        // Another list, another key: refused.
        assert!(key.decode(&cursor, Kind::Text, "tasks|-title").is_err());
        assert!(
            CursorKey::derive(b"other")
                .decode(&cursor, Kind::Text, "tasks|title")
                .is_err()
        );
    }
}
