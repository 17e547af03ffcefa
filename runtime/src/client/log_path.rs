//! The path an outgoing call's log line carries: the URL's path with every segment that may be
//! a credential replaced by [`REDACTED_SEGMENT`]. Receivers put secrets in paths (Slack's
//! `/services/T…/B…/<token>`, Discord's `/api/webhooks/<id>/<token>`, capability URLs), and
//! the log is read by more people than the secret's owner; short words and small ids stay, so
//! the line still says which endpoint was called.

/// What a segment that may be secret is written as.
pub(super) const REDACTED_SEGMENT: &str = ":redacted";

/// From this many characters on, a segment that is not a lowercase word is taken for a token
/// (Slack's tokens have 24, Discord's 68; the words and ids of API paths are shorter).
const OPAQUE_MIN_CHARS: usize = 16;

/// `path` (a URL's path, without the query) as it is logged.
pub(super) fn loggable_path(path: &str) -> String {
    let mut logged = String::with_capacity(path.len());
    for (index, segment) in path.split('/').enumerate() {
        if index > 0 {
            logged.push('/');
        }
        if may_be_secret(segment) {
            logged.push_str(REDACTED_SEGMENT);
        } else {
            logged.push_str(segment);
        }
    }
    logged
}

/// Whether `segment` (as it is in the URL, percent-encoded) may be a credential: it holds a
/// shape the log redaction knows (a JWT, an `rk_`/`rt_` key, an email, also percent-encoded),
/// or it is long and not a plain lowercase word (mixed case, digits, escapes: a token).
fn may_be_secret(segment: &str) -> bool {
    let decoded = percent_decoded(segment);
    if crate::observability::holds_redacted_shape(segment)
        || crate::observability::holds_redacted_shape(&decoded)
    {
        return true;
    }
    let plain_word = decoded
        .bytes()
        .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_' | b'.'));
    segment.chars().count() >= OPAQUE_MIN_CHARS && !plain_word
}

/// `segment` with its `%XX` escapes decoded (invalid UTF-8 replaced; a stray `%` kept).
fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match (bytes[index], bytes.get(index + 1..index + 3)) {
            (b'%', Some(&[high, low])) => hex(high).zip(hex(low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                out.push(high << 4 | low);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_segments_are_replaced_and_plain_ones_stay() {
        for (path, logged) in [
            ("/", "/"),
            ("", ""),
            ("/echo", "/echo"),
            ("/api/v1/projects/42/tasks", "/api/v1/projects/42/tasks"),
            (
                "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
                "/services/T0000/B0000/:redacted",
            ),
            (
                "/services/T024BE7LD/B01ABCDEF12/a1B2c3D4e5F6g7H8i9J0k1L2",
                "/services/T024BE7LD/B01ABCDEF12/:redacted",
            ),
            (
                "/api/webhooks/1234567890123456789/Xy-9_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
                "/api/webhooks/:redacted/:redacted",
            ),
            ("/hooks/0123456789abcdef0123", "/hooks/:redacted"),
            ("/users/ann%40example.org/inbox", "/users/:redacted/inbox"),
            ("/users/ann@example.org", "/users/:redacted"),
            ("/keys/rk_abcdefgh12", "/keys/:redacted"),
            (
                "/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
                "/t/:redacted",
            ),
            ("/blob/%2F%2B%3D%2F%2B%3D", "/blob/:redacted"),
            ("/a%20b", "/a%20b"),
            ("/notification-settings", "/notification-settings"),
            ("/v2/exports/2024-01-02", "/v2/exports/2024-01-02"),
            ("/trailing/", "/trailing/"),
        ] {
            assert_eq!(loggable_path(path), logged, "{path}");
        }
    }

    #[test]
    fn escapes_decode_and_stray_percents_stay() {
        assert_eq!(percent_decoded("a%40b%2"), "a@b%2");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
        assert_eq!(percent_decoded("%C3%A9"), "é");
    }
}
