//! `Host` validation (RFC 9112 §3.2): an HTTP/1.1 request without a `Host` header, with more
//! than one, or with one that is not `host[:port]` (RFC 3986 §3.2.2) is a 400 envelope (the
//! guard service, `guard.rs`, answers it).
//!
//! HTTP/1.0 may omit `Host`; HTTP/2 and HTTP/3 carry the authority in `:authority`, which the
//! server puts in the URI, and may omit it too. When present, `Host` is checked the same way
//! whatever the version, and two are always refused.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Version, header};

fn is_reg_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&byte)
}

/// Whether `value` is `uri-host [ ":" port ]`.
fn is_valid_host(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    let (host, port) = if bytes.first() == Some(&b'[') {
        let Some(close) = bytes.iter().position(|b| *b == b']') else {
            return false;
        };
        let literal = std::str::from_utf8(&bytes[1..close])
            .ok()
            .and_then(|text| text.parse::<std::net::Ipv6Addr>().ok());
        if literal.is_none() {
            return false;
        }
        match &bytes[close + 1..] {
            [] => (&bytes[..=close], None),
            [b':', port @ ..] => (&bytes[..=close], Some(port)),
            _ => return false,
        }
    } else {
        match bytes.iter().rposition(|b| *b == b':') {
            Some(colon) => (&bytes[..colon], Some(&bytes[colon + 1..])),
            None => (bytes, None),
        }
    };
    if host.is_empty() {
        return false;
    }
    if host.first() != Some(&b'[') && !reg_name(host) {
        return false;
    }
    match port {
        None => true,
        Some(port) => {
            port.len() <= 5
                && port.iter().all(u8::is_ascii_digit)
                && (port.is_empty()
                    || std::str::from_utf8(port)
                        .ok()
                        .and_then(|p| p.parse::<u16>().ok())
                        .is_some())
        }
    }
}

/// `*( unreserved / pct-encoded / sub-delims )`.
fn reg_name(host: &[u8]) -> bool {
    let mut index = 0;
    while index < host.len() {
        let byte = host[index];
        if byte == b'%' {
            let hex = host.get(index + 1..index + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
        } else if is_reg_name_byte(byte) {
            index += 1;
        } else {
            return false;
        }
    }
    true
}

/// The problem with a request's `Host`, if any.
pub(super) fn host_problem(request: &Request<Body>) -> Option<&'static str> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if request.version() == Version::HTTP_11 => {
            Some("an HTTP/1.1 request needs a Host header")
        }
        (None, _) => None,
        (Some(_), Some(_)) => Some("a request has one Host header, not several"),
        (Some(host), None) if !is_valid_host(host) => Some("the Host header is not host[:port]"),
        (Some(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> bool {
        HeaderValue::from_str(text).is_ok_and(|v| is_valid_host(&v))
    }

    #[test]
    fn hosts() {
        for good in [
            "example.com",
            "example.com:8080",
            "127.0.0.1:3000",
            "[::1]",
            "[::1]:443",
            "localhost:",
            "xn--bcher-kva.example",
            "a%20b",
        ] {
            assert!(valid(good), "{good}");
        }
        for bad in [
            "",
            ":80",
            "user@example.com",
            "example.com:port",
            "example.com:99999",
            "exa mple.com",
            "[::1",
            "[nothost]",
            "[::1]x",
            "example.com/path",
            "a%2",
            "a:b:c",
        ] {
            assert!(!valid(bad), "{bad}");
        }
    }
}
