//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>, and Level 2's `traceresponse`):
//! the `traceparent` a request arrives with, the ids of the span that handles it, and the
//! header forms sent on (`traceparent` on outgoing calls, `traceresponse` on the answer).
//!
//! A leaf like `context`, which holds a request's [`TraceContext`]: it imports nothing from the
//! crate. A malformed `traceparent` is ignored and a new trace started (never an error); a
//! `tracestate` is kept only beside a valid `traceparent`, and only when it is well formed.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The `traceparent` header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The `tracestate` header.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// The `traceresponse` header (Trace Context Level 2).
pub const TRACERESPONSE: HeaderName = HeaderName::from_static("traceresponse");

/// The longest `tracestate` kept (the specification's limit is 512 characters).
const MAX_TRACESTATE: usize = 512;

/// The span that called us, as its `traceparent` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The trace it belongs to.
    pub trace_id: u128,
    /// The caller's span: the parent of ours.
    pub span_id: u64,
    /// Whether the caller records the trace (`sampled`, bit 0 of the flags).
    pub sampled: bool,
    /// Vendors' state, passed on as it came.
    pub state: Option<HeaderValue>,
}

impl Remote {
    /// The caller's context from a request's headers; `None` when there is no valid
    /// `traceparent` (there is exactly one, in a form this version understands, with ids
    /// that are not all zeros).
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let mut values = headers.get_all(TRACEPARENT).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let (trace_id, span_id, flags) = parse_traceparent(value.as_bytes())?;
        let mut states = headers.get_all(TRACESTATE).iter();
        let state = match (states.next(), states.next()) {
            (Some(state), None) if tracestate_is_sane(state.as_bytes()) => Some(state.clone()),
            _ => None,
        };
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
            state,
        })
    }
}

impl Remote {
    /// The context a `traceparent` value names (a job keeps the one of the request that
    /// enqueued it).
    pub fn from_traceparent(value: &str) -> Option<Self> {
        let (trace_id, span_id, flags) = parse_traceparent(value.as_bytes())?;
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
            state: None,
        })
    }
}

/// `version-traceid-spanid-flags`, lowercase hex. Version `00` is exactly 55 characters;
/// a later version may add fields after a `-` (read as 00), `ff` is invalid.
fn parse_traceparent(bytes: &[u8]) -> Option<(u128, u64, u8)> {
    if bytes.len() < 55 {
        return None;
    }
    let version = hex(&bytes[0..2])? as u8;
    if version == 0xff || (version == 0 && bytes.len() != 55) {
        return None;
    }
    if version != 0 && bytes.len() > 55 && bytes[55] != b'-' {
        return None;
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let trace_id = hex(&bytes[3..35])?;
    let span_id = u64::try_from(hex(&bytes[36..52])?).ok()?;
    let flags = u8::try_from(hex(&bytes[53..55])?).ok()?;
    (trace_id != 0 && span_id != 0).then_some((trace_id, span_id, flags))
}

/// Lowercase hex digits (the specification refuses uppercase) as a number.
fn hex(digits: &[u8]) -> Option<u128> {
    if digits.is_empty() || digits.len() > 32 {
        return None;
    }
    digits.iter().try_fold(0u128, |value, digit| {
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => return None,
        };
        Some((value << 4) | u128::from(nibble))
    })
}

/// Printable ASCII, at most 32 comma-separated members, each `key=value`, and short enough.
fn tracestate_is_sane(bytes: &[u8]) -> bool {
    bytes.len() <= MAX_TRACESTATE
        && bytes.iter().all(|b| (0x20..0x7f).contains(b))
        && bytes.split(|b| *b == b',').count() <= 32
        && bytes.split(|b| *b == b',').all(|member| {
            let member = member.trim_ascii();
            member.is_empty() || member.iter().filter(|b| **b == b'=').count() >= 1
        })
}

/// What a request's incoming `traceparent` may decide (`RAMPART_TRACE_INCOMING`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncomingTrace {
    /// The request continues the caller's trace, and the caller's sampling decision stands
    /// (a service whose callers are trusted: behind a gateway, or called by other services).
    #[default]
    Continue,
    /// Every request starts a trace of its own, sampled by this service's sampler, and the
    /// caller's span is only linked (a public edge: a caller cannot force its requests to be
    /// recorded, nor put them in a trace of its choosing).
    Restart,
}

impl IncomingTrace {
    /// `continue` or `restart`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "continue" => Some(Self::Continue),
            "restart" => Some(Self::Restart),
            _ => None,
        }
    }

    /// The caller's context split into the parent of the request's span and a span it only
    /// links to.
    pub fn split(self, remote: Option<Remote>) -> (Option<Remote>, Option<Remote>) {
        match self {
            Self::Continue => (remote, None),
            Self::Restart => (None, remote),
        }
    }
}

/// The trace a request belongs to and the span that handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace: the caller's, or a new one.
    pub trace_id: u128,
    /// This request's span.
    pub span_id: u64,
    /// The caller's span, when there was one.
    pub parent_span_id: Option<u64>,
    /// Whether this trace is recorded (exported).
    pub sampled: bool,
    /// The caller's `tracestate`, passed on.
    pub state: Option<HeaderValue>,
}

impl TraceContext {
    /// The span of a request that arrived with `remote` (a new trace without one), recorded
    /// when `sampled` says so.
    pub fn start(remote: Option<Remote>, sampled: bool, random: impl FnMut() -> u64) -> Self {
        let mut random = nonzero(random);
        match remote {
            Some(remote) => Self {
                trace_id: remote.trace_id,
                span_id: random(),
                parent_span_id: Some(remote.span_id),
                sampled,
                state: remote.state,
            },
            None => Self {
                trace_id: (u128::from(random()) << 64) | u128::from(random()),
                span_id: random(),
                parent_span_id: None,
                sampled,
                state: None,
            },
        }
    }

    /// `00-<trace>-<span>-<flags>`: this span as the parent of a call it makes (`traceparent`),
    /// or as the answer's `traceresponse`.
    pub fn header_value(&self) -> HeaderValue {
        let mut text = *b"00-00000000000000000000000000000000-0000000000000000-00";
        write_hex(&mut text[3..35], &self.trace_id.to_be_bytes());
        write_hex(&mut text[36..52], &self.span_id.to_be_bytes());
        text[54] = if self.sampled { b'1' } else { b'0' };
        // Hex digits and dashes only: always a valid value.
        HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static(
            "00-00000000000000000000000000000000-0000000000000000-00",
        ))
    }

    /// The same trace with `span_id` as its span (a child span, which an outgoing call
    /// names as its parent).
    pub fn with_span(&self, span_id: u64) -> Self {
        Self {
            trace_id: self.trace_id,
            span_id,
            parent_span_id: Some(self.span_id),
            sampled: self.sampled,
            state: self.state.clone(),
        }
    }

    /// The trace id as its 32 hex digits (the form logs and trace viewers show).
    pub fn trace_id_hex(&self) -> [u8; 32] {
        let mut out = [b'0'; 32];
        write_hex(&mut out, &self.trace_id.to_be_bytes());
        out
    }

    /// The span id as its 16 hex digits.
    pub fn span_id_hex(&self) -> [u8; 16] {
        let mut out = [b'0'; 16];
        write_hex(&mut out, &self.span_id.to_be_bytes());
        out
    }
}

/// `bytes` as lowercase hex into `out` (twice as long), a byte at a time: two table reads per
/// byte, where a nibble at a time through a `u128` cost a shift of both halves per digit (this
/// runs twice per request, for `traceresponse` and the access line).
fn write_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// `random`, never 0 (an all-zero id is invalid).
fn nonzero(mut random: impl FnMut() -> u64) -> impl FnMut() -> u64 {
    move || loop {
        let value = random();
        if value != 0 {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(traceparent: &str, tracestate: Option<&str>) -> Option<Remote> {
        let mut headers = HeaderMap::new();
        headers.insert(
            TRACEPARENT,
            HeaderValue::from_str(traceparent).unwrap_or_else(|e| panic!("{e}")),
        );
        if let Some(state) = tracestate {
            headers.insert(
                TRACESTATE,
                HeaderValue::from_str(state).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        Remote::from_headers(&headers)
    }

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn ids_are_written_as_fixed_width_lowercase_hex() {
        let trace = TraceContext {
            trace_id: 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
            span_id: 0x00a0_0000_0000_00b1,
            parent_span_id: None,
            sampled: true,
            state: None,
        };
        assert_eq!(
            trace.header_value(),
            "00-0af7651916cd43dd8448eb211c80319c-00a00000000000b1-01"
        );
        assert_eq!(&trace.trace_id_hex(), b"0af7651916cd43dd8448eb211c80319c");
        assert_eq!(&trace.span_id_hex(), b"00a00000000000b1");
        let small = TraceContext {
            trace_id: 1,
            span_id: 1,
            sampled: false,
            ..trace
        };
        assert_eq!(
            small.header_value(),
            "00-00000000000000000000000000000001-0000000000000001-00"
        );
    }

    #[test]
    fn a_valid_traceparent_is_read() {
        let parsed = remote(VALID, Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"))
            .unwrap_or_else(|| panic!("valid"));
        assert_eq!(parsed.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(parsed.span_id, 0x00f067aa0ba902b7);
        assert!(parsed.sampled);
        assert!(parsed.state.is_some());
        let unsampled = remote(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            None,
        );
        assert_eq!(unsampled.map(|r| r.sampled), Some(false));
        // A later version may carry more after a dash.
        assert!(remote(&format!("01{}-extra", &VALID[2..]), None).is_some());
    }

    #[test]
    fn a_malformed_traceparent_is_ignored() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(remote(bad, None), None, "{bad:?}");
        }
        // Two `traceparent`s: which one is meant is unknown.
        let mut headers = HeaderMap::new();
        headers.append(TRACEPARENT, HeaderValue::from_static(VALID));
        headers.append(TRACEPARENT, HeaderValue::from_static(VALID));
        assert_eq!(Remote::from_headers(&headers), None);
    }

    #[test]
    fn a_bad_tracestate_is_dropped_not_the_traceparent() {
        let long = format!("a={}", "b".repeat(600));
        let parsed = remote(VALID, Some(&long)).unwrap_or_else(|| panic!("valid"));
        assert_eq!(parsed.state, None);
    }

    #[test]
    fn a_span_continues_its_callers_trace_or_starts_one() {
        let mut counter = 0u64;
        let next = move || {
            counter += 1;
            counter
        };
        let continued = TraceContext::start(remote(VALID, None), true, next);
        assert_eq!(continued.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(continued.parent_span_id, Some(0x00f067aa0ba902b7));
        assert_ne!(continued.span_id, 0x00f067aa0ba902b7);
        assert_eq!(
            continued.header_value(),
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01")
        );
        let zeros = [0u64, 0, 5, 6, 7];
        let mut zeros = zeros.into_iter();
        let fresh = TraceContext::start(None, false, move || zeros.next().unwrap_or(9));
        assert_eq!(fresh.trace_id, (5u128 << 64) | 6);
        assert_eq!(fresh.span_id, 7);
        assert_eq!(fresh.parent_span_id, None);
        assert!(
            fresh
                .header_value()
                .to_str()
                .is_ok_and(|v| v.ends_with("-00"))
        );
    }
}
