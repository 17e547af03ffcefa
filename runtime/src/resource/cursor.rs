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

/// The key cursors are signed with (derived from the app's secret).
#[derive(Clone)]
pub struct CursorKey(Arc<[u8; 32]>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey([redacted])")
    }
}

impl CursorKey {
    /// Derives the cursor key from a secret (the app uses its JWT secret, so instances that
    /// accept each other's tokens accept each other's cursors), separated by purpose.
    pub fn derive(secret: &[u8]) -> Self {
        let mut key = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(secret) {
            mac.update(b"rampart list cursor v1");
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        Self(Arc::new(key))
    }

    /// A key for another purpose, derived from this one, so whatever makes cursor keys shared
    /// between instances makes it shared too (captured scopes, see `capture.rs`).
    pub(super) fn subkey(&self, purpose: &[u8]) -> [u8; 32] {
        let mut key = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(self.0.as_slice()) {
            mac.update(purpose);
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        key
    }

    fn mac(&self, payload: &str, context: &str) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(self.0.as_slice()).ok()?;
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
        let mac = self.mac(payload, context).ok_or_else(invalid)?;
        mac.verify_truncated_left(&tag).map_err(|_| invalid())?;
        if tag.len() != MAC_BYTES {
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
        // Another list, another key: refused.
        assert!(key.decode(&cursor, Kind::Text, "tasks|-title").is_err());
        assert!(
            CursorKey::derive(b"other")
                .decode(&cursor, Kind::Text, "tasks|title")
                .is_err()
        );
    }
}
