//! The limits of an endpoint (`body_limit`, `timeout`, `body_timeout`, `rate_limit` with
//! `burst`) and its documented `errors`, read with the grammars configuration reads too
//! (`rampart_spec`), so a value means the same in an attribute and in the environment.

use darling::Error;
use darling::error::Accumulator;
use syn::LitStr;

use super::RateLimit;
use crate::endpoint::attr::EndpointAttr;

/// Parses `120/min` (the grammar `RAMPART_*_RATE_LIMIT` reads too); the error says which
/// part is wrong.
pub(crate) fn parse_rate_limit(text: &str) -> Result<(u32, u64), String> {
    rampart_spec::rate(text)
        .map(|rate| (rate.count, rate.per_seconds))
        .map_err(|error| error.message().to_owned())
}

/// A body limit: the size grammar configuration reads too, above zero.
pub(crate) fn parse_size(text: &str) -> Option<usize> {
    rampart_spec::size(text).ok().filter(|n| *n > 0)
}

/// A timeout in milliseconds: the duration grammar configuration reads too, above zero.
pub(crate) fn parse_duration_ms(text: &str) -> Option<u64> {
    parse_duration_or_zero_ms(text).filter(|ms| *ms > 0)
}

/// A duration in milliseconds in the same grammar, zero included (`stale_if_error = "0s"`).
pub(crate) fn parse_duration_or_zero_ms(text: &str) -> Option<u64> {
    rampart_spec::duration(text)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}

/// The limits and error statuses as the generated definition holds them.
pub(super) struct Limits {
    pub(super) body_limit: Option<usize>,
    pub(super) timeout_ms: Option<u64>,
    pub(super) body_timeout_ms: Option<u64>,
    pub(super) status_codes: Vec<u16>,
    pub(super) rate_limit: Option<RateLimit>,
}

pub(super) fn limits(attr: &EndpointAttr, errors: &mut Accumulator) -> Limits {
    let body_limit = attr.body_limit.as_ref().and_then(|lit| {
        let parsed = parse_size(&lit.value());
        if parsed.is_none() {
            errors.push(
                Error::custom(format!("`{}` is not a size\nhelp: write a size such as \"64KiB\", \"1MiB\" or \"512\" (bytes)", lit.value()))
                    .with_span(lit),
            );
        }
        parsed
    });
    let mut duration = |lit: &LitStr| {
        let parsed = parse_duration_ms(&lit.value());
        if parsed.is_none() {
            errors.push(
                Error::custom(format!("`{}` is not a duration\nhelp: write a duration such as \"500ms\", \"5s\" or \"2m\"", lit.value()))
                    .with_span(lit),
            );
        }
        parsed
    };
    let timeout_ms = attr.timeout.as_ref().and_then(&mut duration);
    let body_timeout_ms = attr.body_timeout.as_ref().and_then(&mut duration);
    let mut status_codes = Vec::new();
    for lit in attr.errors.iter().flatten() {
        match lit.base10_parse::<u16>() {
            Ok(code) if (400..=599).contains(&code) => status_codes.push(code),
            _ => errors.push(
                Error::custom("`errors` lists HTTP error statuses (400..=599)\nhelp: the success status comes from the return type; list only errors, e.g. `errors = [409, 422]`").with_span(lit),
            ),
        }
    }
    let rate_limit = match &attr.rate_limit {
        Some(lit) => match parse_rate_limit(&lit.value()) {
            Ok((count, per_seconds)) => {
                let burst = match &attr.burst {
                    Some(burst) => match burst.base10_parse::<u32>() {
                        Ok(0) | Err(_) => {
                            errors.push(
                                Error::custom("`burst` is a positive number of requests\nhelp: write e.g. `burst = 20`, or leave it out to allow the rate limit's count at once")
                                    .with_span(burst),
                            );
                            count
                        }
                        Ok(n) => n,
                    },
                    None => count,
                };
                Some(RateLimit {
                    count,
                    per_seconds,
                    burst,
                })
            }
            Err(message) => {
                errors.push(
                    Error::custom(format!("{message}\nhelp: write e.g. `rate_limit = \"120/min\"` (units: sec, min, hour, day)"))
                        .with_span(lit),
                );
                None
            }
        },
        None => {
            if let Some(burst) = &attr.burst {
                errors.push(
                    Error::custom(
                        "`burst` needs a `rate_limit`\nhelp: add e.g. `rate_limit = \"120/min\"`",
                    )
                    .with_span(burst),
                );
            }
            None
        }
    };
    Limits {
        body_limit,
        timeout_ms,
        body_timeout_ms,
        status_codes,
        rate_limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits() {
        assert_eq!(parse_rate_limit("120/min"), Ok((120, 60)));
        assert_eq!(parse_rate_limit("5/sec"), Ok((5, 1)));
        assert_eq!(parse_rate_limit("1000/day"), Ok((1000, 86_400)));
        assert!(parse_rate_limit("10/minutes").is_err());
        assert!(parse_rate_limit("0/min").is_err());
        assert!(parse_rate_limit("ten/min").is_err());
        assert!(parse_rate_limit("10").is_err());
    }

    #[test]
    fn units() {
        assert_eq!(parse_size("64KiB"), Some(65536));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_duration_ms("5s"), Some(5000));
        assert_eq!(parse_duration_ms("5"), None);
        assert_eq!(parse_duration_ms("0s"), None);
        assert_eq!(parse_duration_or_zero_ms("0s"), Some(0));
        assert_eq!(parse_duration_or_zero_ms("2m"), Some(120_000));
    }
}
