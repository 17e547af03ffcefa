//! `idempotent`: only on the writes HTTP does not already make idempotent (POST, PATCH), only
//! where there is a principal to keep the records under (not `public`), with an optional
//! `ttl` in the duration grammar configuration reads too.

use darling::Error;
use darling::error::Accumulator;

use super::Method;
use super::limits::parse_duration_ms;
use crate::endpoint::attr::EndpointAttr;

/// The longest `ttl`: the bound `RAMPART_IDEMPOTENCY_TTL` has too.
const MAX_TTL_MS: u64 = 30 * 86_400 * 1000;

/// `None`: not idempotent; `Some(ttl)`: idempotent, with its own time to live or the app's.
pub(super) fn idempotency(
    attr: &EndpointAttr,
    method: Option<Method>,
    errors: &mut Accumulator,
) -> Option<Option<u64>> {
    let declared = attr.idempotent.as_ref()?;
    let span = declared.span();
    if let Some(method @ (Method::Get | Method::Put | Method::Delete)) = method {
        errors.push(
            Error::custom(format!(
                "`idempotent` is for POST and PATCH endpoints, not {}\nhelp: a repeated {} already does what the first one did; remove `idempotent`",
                method.constant(),
                method.constant()
            ))
            .with_span(&span),
        );
    }
    if attr.public.is_present() {
        errors.push(
            Error::custom(
                "`idempotent` needs an authenticated endpoint, not `public`\nhelp: idempotency records are kept per user, so that one caller's key never replays another caller's answer; remove `public`, or remove `idempotent`",
            )
            .with_span(&span),
        );
    }
    let ttl = declared.ttl.as_ref().and_then(|lit| {
        let parsed = parse_duration_ms(&lit.value()).filter(|ms| *ms >= 1000 && *ms <= MAX_TTL_MS);
        if parsed.is_none() {
            errors.push(
                Error::custom(format!(
                    "`{}` is not a time to live between 1s and 30d\nhelp: write a duration such as \"1h\" or \"24h\"",
                    lit.value()
                ))
                .with_span(lit),
            );
        }
        parsed
    });
    Some(ttl)
}
