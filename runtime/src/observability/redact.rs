//! Redaction by value shape: whatever a field is called, a value that looks like a credential
//! or an email address is written as `[redacted]` (inside messages and Debug output too).
//!
//! Field names catch what rampart's own code logs on purpose (`log.rs`); shapes catch what
//! reaches a line by accident: an error string quoting an input, a `{:?}` of a struct that
//! holds a key, a panic message. The shapes:
//!
//! - a JWT: `eyJ` (a base64url JSON object's start) then three base64url segments joined by
//!   dots (the third may be empty, an unsigned token);
//! - rampart's API keys and refresh tokens: `rk_` or `rt_` then at least eight base64url
//!   characters;
//! - an email address: `local@domain.tld`, the last label with at least one letter (so
//!   `crate@1.2.3` stays).
//!
//! Each shape starts or hinges on one of three bytes (`@`, `_`, `J`): a value without any of
//! them (most values, eight bytes at a time) is written as it is, with no second pass.

use super::json::{Line, escape_into};

/// What a redacted shape is written as.
pub(super) const REDACTED: &str = "[redacted]";

/// Fewest characters after `rk_`/`rt_` that make a key (rampart's have 40 and more; shorter
/// runs are words like `rt_x`, not credentials).
const MIN_KEY_CHARS: usize = 8;

/// Whether `bytes` holds `@`, `_` or `J`, the byte every shape needs: eight bytes at a time.
fn may_hold_shape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Nonzero exactly when some byte of `x` is zero.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if zero(x ^ (ONES * u64::from(b'@')))
            | zero(x ^ (ONES * u64::from(b'_')))
            | zero(x ^ (ONES * u64::from(b'J')))
            != 0
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| matches!(b, b'@' | b'_' | b'J'))
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_local_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Length of the run of `class` bytes at `bytes[from..]`.
fn run(bytes: &[u8], from: usize, class: fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| class(b)).count())
}

/// Whether a shape may start at `at`: first byte, or after a byte that cannot be part of it.
fn starts_token(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_base64url(bytes[at - 1])
}

/// The JWT starting at `start` (`eyJ` there), as its end.
fn jwt_at(bytes: &[u8], start: usize) -> Option<usize> {
    let header = run(bytes, start, is_base64url);
    let mut end = start + header;
    if bytes.get(end) != Some(&b'.') {
        return None;
    }
    let payload = run(bytes, end + 1, is_base64url);
    if payload == 0 {
        return None;
    }
    end += 1 + payload;
    if bytes.get(end) != Some(&b'.') {
        return None;
    }
    Some(end + 1 + run(bytes, end + 1, is_base64url))
}

/// The email address around the `@` at `at`, as its span.
fn email_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let local = bytes[..at]
        .iter()
        .rev()
        .take_while(|&&b| is_local_part(b))
        .count();
    if local == 0 {
        return None;
    }
    let mut domain = &bytes[at + 1..at + 1 + run(bytes, at + 1, is_domain)];
    // A sentence's full stop after the address is not part of it.
    while let [rest @ .., b'.'] = domain {
        domain = rest;
    }
    let dot = domain.iter().rposition(|&b| b == b'.')?;
    let tld = &domain[dot + 1..];
    if dot == 0 || tld.is_empty() || !tld.iter().any(u8::is_ascii_alphabetic) {
        return None;
    }
    Some((at - local, at + 1 + domain.len()))
}

/// The first shape in `bytes` at or after `from`, as its span.
fn next_shape(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut index = from;
    while index < bytes.len() {
        match bytes[index] {
            b'@' => {
                if let Some(span) = email_at(bytes, index) {
                    return Some(span);
                }
            }
            b'J' if index >= 2 && &bytes[index - 2..index] == b"ey" => {
                let start = index - 2;
                if starts_token(bytes, start)
                    && let Some(end) = jwt_at(bytes, start)
                {
                    return Some((start, end));
                }
            }
            b'_' if index >= 2 && matches!(&bytes[index - 2..index], b"rk" | b"rt") => {
                let start = index - 2;
                let key = run(bytes, index + 1, is_base64url);
                if starts_token(bytes, start) && key >= MIN_KEY_CHARS {
                    return Some((start, index + 1 + key));
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

/// Whether `value` holds a shape this module redacts (a JWT, an `rk_`/`rt_` credential, an
/// email address): for code that must drop a whole value rather than write it redacted (the
/// outgoing client's path segments).
pub(crate) fn holds_redacted_shape(value: &str) -> bool {
    let bytes = value.as_bytes();
    may_hold_shape(bytes) && next_shape(bytes, 0).is_some()
}

/// Appends `value` as JSON string contents, each shape in it replaced by `[redacted]`.
pub(super) fn escape_redacted_into(out: &mut Line, value: &str) {
    let bytes = value.as_bytes();
    if !may_hold_shape(bytes) {
        escape_into(out, value);
        return;
    }
    let mut written = 0;
    // An email's span can begin before the `@` that found it, but never before `written`:
    // the scan restarts after the previous shape, and local parts stop at non-local bytes.
    while let Some((start, end)) = next_shape(bytes, written) {
        let start = start.max(written);
        // Shapes are ASCII and start and end on ASCII bytes: both are char boundaries.
        escape_into(out, value.get(written..start).unwrap_or_default());
        out.push_str(REDACTED);
        written = end;
    }
    escape_into(out, value.get(written..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(value: &str) -> String {
        let mut out = Line::new();
        escape_redacted_into(&mut out, value);
        String::from_utf8(out.into_bytes()).unwrap_or_default()
    }

    #[test]
    fn jwts_keys_and_emails_are_redacted_wherever_they_are() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl-_x";
        assert_eq!(redacted(jwt), REDACTED);
        assert_eq!(
            redacted(&format!("rejected token {jwt} for now")),
            "rejected token [redacted] for now"
        );
        assert_eq!(
            redacted(&format!("Bearer {jwt}")),
            "Bearer [redacted]",
            "a JWT inside a header value"
        );
        assert_eq!(
            redacted("unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end"),
            "unsigned [redacted] end"
        );

        #[derive(Debug)]
        #[allow(dead_code)] // read through Debug only
        struct Presented {
            name: &'static str,
            key: String,
        }
        let debug = format!(
            "{:?}",
            Presented {
                name: "ci",
                key: "rk_abcdefghijkl_0123456789ABCDEFGHIJ".into(),
            }
        );
        assert_eq!(
            redacted(&debug),
            "Presented { name: \\\"ci\\\", key: \\\"[redacted]\\\" }",
            "an rk_ key in a Debug struct (quotes escaped for JSON)"
        );
        assert_eq!(
            redacted("refresh rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA was reused"),
            "refresh [redacted] was reused"
        );

        let error =
            "duplicate key value violates unique constraint: (email)=(Ann.Lee+x@mail.example.org).";
        assert_eq!(
            redacted(error),
            "duplicate key value violates unique constraint: (email)=([redacted])."
        );
        assert_eq!(redacted("x@y.z"), REDACTED);
        assert_eq!(
            redacted("a@b.co and c@d.io"),
            "[redacted] and [redacted]",
            "every shape of a value"
        );
    }

    #[test]
    fn lookalikes_stay() {
        for clean in [
            "",
            "request completed",
            "start_time and part_of",
            "rk_short",
            "crate@1.2.3",
            "user@localhost",
            "@mention",
            "trailing@",
            "eyJ alone",
            "eyJhbGci.only-two-segments",
            "keyJar.a.b",
            "TaskRepo.open_count",
            "é and é@",
        ] {
            let mut expected = Line::new();
            escape_into(&mut expected, clean);
            assert_eq!(redacted(clean).as_bytes(), expected.as_bytes(), "{clean}");
        }
        assert!(!may_hold_shape(b"GET /api/v1/projects 200 ok fine"));
        assert!(may_hold_shape(b"0123456789abcdef@"));
        assert!(may_hold_shape(b"0123456J"));
    }
}
