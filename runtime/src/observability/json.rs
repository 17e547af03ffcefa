//! The pieces of a JSON log line: the line buffer, string escaping and numbers, written by
//! hand for the hot path (`core::fmt` and a byte-at-a-time loop were a visible share of a
//! request).

use std::fmt::{self, Write as _};

/// Whether any byte is a control character, `"` or `\\`: eight bytes at a time (most values
/// need no escape, and this check runs for every field of every line).
pub(super) fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Nonzero exactly when some byte of `x` is below `n` (n <= 128).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            != 0
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A line being written: bytes, not a `String`, so that digits (ASCII by construction) are
/// copied in one go instead of pushed as `char`s or validated by `str::from_utf8`. Only `&str`
/// and ASCII go in, so it is always UTF-8.
#[derive(Default)]
pub(super) struct Line(Vec<u8>);

impl Line {
    pub(super) const fn new() -> Self {
        Self(Vec::new())
    }
    pub(super) fn push_str(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }
    pub(super) fn push(&mut self, c: char) {
        if c.is_ascii() {
            self.0.push(c as u8);
        } else {
            self.push_str(c.encode_utf8(&mut [0; 4]));
        }
    }
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

/// `00` to `99`: digits are written two at a time (half the divisions).
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `value`, zero-padded to at least `width` (at most 20).
pub(super) fn push_digits(out: &mut Line, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while value >= 100 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = value as usize * 2;
        start -= 2;
        digits[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        digits[start] = b'0' + value as u8;
    }
    start = start.min(digits.len().saturating_sub(width));
    out.0.extend_from_slice(&digits[start..]);
}

/// Appends a float the way every line writes one: three decimals through integer digits when
/// it fits (float formatting is slow), `core::fmt` beyond 1e15, `null` when not finite.
pub(super) fn push_f64(out: &mut Line, value: f64) {
    if value.is_finite() && value.abs() < 1e15 {
        let thousandths = (value * 1000.0).round() as i64;
        let magnitude = thousandths.unsigned_abs();
        if thousandths < 0 {
            out.push('-');
        }
        push_digits(out, magnitude / 1000, 1);
        out.push('.');
        push_digits(out, magnitude % 1000, 3);
    } else if value.is_finite() {
        let _ = write!(out, "{value}");
    } else {
        out.push_str("null");
    }
}

/// Appends `value` as JSON string contents (without quotes), copying runs that need no escape
/// in one go.
pub(super) fn escape_into(out: &mut Line, value: &str) {
    if !needs_escape(value.as_bytes()) {
        out.push_str(value);
        return;
    }
    let mut start = 0;
    for (index, byte) in value.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&value[start..index]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
        start = index + 1;
    }
    out.push_str(&value[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_digits() {
        let mut out = Line::new();
        escape_into(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out.as_bytes(), "a\\\"b\\\\c\\nd\\u0001é".as_bytes());
        for clean in [
            "",
            "a",
            "request completed",
            "/api/v1/hello/{id}",
            "é and more text",
        ] {
            assert!(!needs_escape(clean.as_bytes()), "{clean}");
        }
        for dirty in [
            "a\"",
            "0123456789\\",
            "tab\there",
            "\u{7f}\u{1}",
            "long clean prefix\n",
        ] {
            assert!(needs_escape(dirty.as_bytes()), "{dirty:?}");
        }
        assert!(
            !needs_escape("\u{7f}".as_bytes()),
            "DEL needs no JSON escape"
        );
        let mut digits = Line::new();
        push_digits(&mut digits, 0, 1);
        push_digits(&mut digits, 42, 6);
        push_digits(&mut digits, u64::MAX, 3);
        push_digits(&mut digits, 7, 3);
        assert_eq!(digits.as_bytes(), b"000004218446744073709551615007");
        for value in [9, 10, 99, 100, 101, 999_999, 1_000_000, 10_u64.pow(19)] {
            let mut written = Line::new();
            push_digits(&mut written, value, 1);
            assert_eq!(written.as_bytes(), value.to_string().as_bytes());
        }
        let mut floats = Line::new();
        for value in [12.3456, -0.5, 0.0004, 1e16, f64::NAN] {
            push_f64(&mut floats, value);
            floats.push(' ');
        }
        assert_eq!(
            floats.as_bytes(),
            b"12.346 -0.500 0.000 10000000000000000 null "
        );
    }
}
