//! The grammars rampart reads in two places: in attribute strings at compile time
//! (`#[endpoint(timeout = "5s", body_limit = "64KiB", rate_limit = "120/min")]`, read by
//! rampart-macros) and in configuration values at start-up (`RAMPART_REQUEST_TIMEOUT=5s`, read
//! by rampart-runtime). One parser serves both, so a value is accepted by both or by neither.
//!
//! Each grammar accepts surrounding white space and nothing else around the value. The bounds
//! of a particular setting (a timeout above zero, an acquire timeout of at most 3 s) belong to
//! the setting and are checked where it is read; the grammar only says what a value *is*.
//!
//! | grammar | form | units |
//! |---|---|---|
//! | [`duration`] | `<digits><unit>` | `ms`, `s`, `m` or `min`, `h`, `d` |
//! | [`size`] | `<digits>[unit]` | none or `B` (bytes), `KB`, `MB`, `GB` (powers of 1000), `KiB`, `MiB`, `GiB` (powers of 1024) |
//! | [`rate`] | `<count>/<unit>` | `sec`/`s`/`second`, `min`/`m`/`minute`, `hour`/`h`, `day`/`d`; count ≥ 1 |
//! | [`path_template`] | `/segment/{param}` | segments of `[A-Za-z0-9-_.~]`, parameters snake_case |
//! | [`Cron`] | `minute hour day-of-month month day-of-week` | UTC; `*`, `5`, `1-5`, `1,3`, `*/15`, `8-18/2`, `jan`, `mon-fri`; see [`cron`] |

use std::fmt;
use std::time::Duration;

pub mod cron;

pub use cron::Cron;

/// Why a value does not fit its grammar; the message says what the form is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarError(String);

impl GrammarError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// The message, for a compile error or a configuration error.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GrammarError {}

/// Splits `123unit` into the number and the unit (the unit may be empty).
fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return None;
    }
    number.parse().ok().map(|n| (n, unit))
}

/// A duration: `500ms`, `5s`, `2m` (or `2min`), `1h`, `7d`. Zero is a duration (`0s`); whether
/// a setting accepts it is the setting's bound.
pub fn duration(text: &str) -> Result<Duration, GrammarError> {
    const FORM: &str = "a duration is a whole number and a unit: `500ms`, `5s`, `2m`, `1h`, `7d`";
    let text = text.trim();
    let (number, unit) = number_and_unit(text).ok_or_else(|| GrammarError::new(FORM))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" => return Err(GrammarError::new(format!("`{text}` has no unit; {FORM}"))),
        other => {
            return Err(GrammarError::new(format!("unknown unit `{other}`; {FORM}")));
        }
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| GrammarError::new(format!("`{text}` is too long a duration")))
}

/// A size in bytes: `512`, `512B`, `64KiB`, `1MiB`, `10KB`, `2GB`.
pub fn size(text: &str) -> Result<usize, GrammarError> {
    const FORM: &str =
        "a size is a whole number of bytes with an optional unit: `512`, `64KiB`, `1MiB`, `10KB`";
    let text = text.trim();
    let (number, unit) = number_and_unit(text).ok_or_else(|| GrammarError::new(FORM))?;
    let factor: u64 = match unit {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(GrammarError::new(format!("unknown unit `{other}`; {FORM}")));
        }
    };
    number
        .checked_mul(factor)
        .and_then(|bytes| usize::try_from(bytes).ok())
        .ok_or_else(|| GrammarError::new(format!("`{text}` is too large a size")))
}

/// A rate: `count` requests per `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per window, at least 1.
    pub count: u32,
    /// The window in seconds: 1, 60, 3600 or 86400.
    pub per_seconds: u64,
}

/// A rate limit: `120/min`, `10/sec`, `1000/hour`, `5000/day`.
pub fn rate(text: &str) -> Result<Rate, GrammarError> {
    let text = text.trim();
    let (count, unit) = text
        .split_once('/')
        .ok_or_else(|| GrammarError::new("a rate limit is written `N/unit`, e.g. \"120/min\""))?;
    let count: u32 = count.trim().parse().map_err(|_| {
        GrammarError::new(format!(
            "`{}` is not a whole number of requests",
            count.trim()
        ))
    })?;
    if count == 0 {
        return Err(GrammarError::new(
            "a rate limit allows at least one request (`0/...` would refuse everything)",
        ));
    }
    let per_seconds = match unit.trim() {
        "sec" | "s" | "second" => 1,
        "min" | "m" | "minute" => 60,
        "hour" | "h" => 3600,
        "day" | "d" => 86_400,
        other => {
            return Err(GrammarError::new(format!(
                "unknown unit `{other}`; expected `sec`, `min`, `hour` or `day`"
            )));
        }
    };
    Ok(Rate { count, per_seconds })
}

fn is_snake_ident(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A path template, `/tasks/{id}`: the parameter names in order.
pub fn path_template(path: &str) -> Result<Vec<String>, GrammarError> {
    if !path.starts_with('/') {
        return Err(GrammarError::new("a path starts with `/`"));
    }
    if path.len() > 1 && path.ends_with('/') {
        return Err(GrammarError::new("a path does not end with `/`"));
    }
    let mut names: Vec<String> = Vec::new();
    for segment in path.split('/').skip(1) {
        if segment.is_empty() && path != "/" {
            return Err(GrammarError::new("a path has no empty segments (`//`)"));
        }
        if let Some(rest) = segment.strip_prefix(':') {
            return Err(GrammarError::new(format!(
                "path parameters are written `{{{rest}}}`, not `:{rest}`"
            )));
        }
        if segment.contains('{') || segment.contains('}') {
            let inner = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .ok_or_else(|| {
                    GrammarError::new(format!(
                        "`{segment}`: a parameter is a whole segment, `{{name}}`"
                    ))
                })?;
            if inner.starts_with('*') {
                return Err(GrammarError::new(
                    "catch-all parameters (`{*rest}`) are not supported in endpoints",
                ));
            }
            if !is_snake_ident(inner) {
                return Err(GrammarError::new(format!(
                    "`{{{inner}}}`: parameter names are snake_case identifiers"
                )));
            }
            if names.iter().any(|n| n == inner) {
                return Err(GrammarError::new(format!("`{{{inner}}}` appears twice")));
            }
            names.push(inner.to_owned());
        } else if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
        {
            return Err(GrammarError::new(format!(
                "`{segment}`: segments use `[A-Za-z0-9-_.~]`"
            )));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration(" 5s "), Ok(Duration::from_secs(5)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        for bad in [
            "",
            "s",
            "5",
            "5 s",
            "5sec",
            "1.5s",
            "-1s",
            "ten",
            "99999999999999999999d",
        ] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
        assert!(duration("5").is_err_and(|e| e.message().contains("no unit")));
    }

    #[test]
    fn sizes() {
        assert_eq!(size("512"), Ok(512));
        assert_eq!(size("512B"), Ok(512));
        assert_eq!(size("64KiB"), Ok(65_536));
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("10KB"), Ok(10_000));
        assert_eq!(size("2GB"), Ok(2_000_000_000));
        assert_eq!(size("0"), Ok(0));
        for bad in ["", "KiB", "64kib", "64 KiB", "1TB", "1.5MiB", "-1"] {
            assert!(size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(
            rate("120/min"),
            Ok(Rate {
                count: 120,
                per_seconds: 60
            })
        );
        assert_eq!(rate("5/ day").map(|r| r.per_seconds), Ok(86_400));
        assert!(rate("0/min").is_err());
        assert!(rate("120").is_err());
        assert!(rate("120/week").is_err_and(|e| e.message().contains("`week`")));
        assert!(rate("x/min").is_err());
    }

    #[test]
    fn templates() {
        assert_eq!(path_template("/"), Ok(vec![]));
        assert_eq!(
            path_template("/projects/{project_id}/tasks/{id}"),
            Ok(vec!["project_id".to_owned(), "id".to_owned()])
        );
        for bad in [
            "tasks",
            "/tasks/",
            "/a//b",
            "/tasks/:id",
            "/tasks/x{id}",
            "/files/{*rest}",
            "/tasks/{Id}",
            "/a/{id}/b/{id}",
            "/a b",
        ] {
            assert!(path_template(bad).is_err(), "{bad:?}");
        }
    }
}
