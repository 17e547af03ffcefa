//! Checks a `#[job]` declaration against itself and the fn it sits on; every problem is
//! reported at once, each at the narrowest token, with a `help:` naming the fix. What only the
//! type checker knows (the first argument is `JobCtx`, the input serializes, the return type is
//! `JobResult`, the future is `Send`) is asserted by the expansion, spanned at the same tokens.

use darling::Error;
use syn::spanned::Spanned;
use syn::{FnArg, LitInt, LitStr, ReturnType, Type};

use super::attr::JobAttr;
use crate::util::{doc_text, summary_and_description, type_head};

/// The longest `timeout` and `backoff_base`: past a day a job is a process of its own.
const DAY_MS: u64 = 86_400_000;
/// The longest queue and job name (queues become key and metric label parts).
const NAME_MAX: usize = 64;

/// `backoff = ".."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackoffKind {
    Exponential,
    Fixed,
    None,
}

/// The delay before a retry, when the attribute says anything about it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackoffChoice {
    /// `None` when only `backoff_base` is given: exponential, as by default.
    pub(crate) kind: Option<BackoffKind>,
    pub(crate) base_ms: Option<u64>,
}

/// The fn's types, as the expansion asserts them.
pub(crate) struct Signature {
    pub(crate) ctx: Type,
    pub(crate) input: Type,
    /// The arguments after the input: typed dependencies (`Dep<T>`), asserted by the
    /// expansion and checked against the app's registrations when its worker starts.
    pub(crate) deps: Vec<Type>,
    pub(crate) output: Type,
}

/// A declaration that passed every check; only this reaches code generation.
pub(crate) struct CheckedJob {
    pub(crate) function: syn::ItemFn,
    pub(crate) signature: Signature,
    pub(crate) name: String,
    pub(crate) queue: Option<String>,
    pub(crate) retries: Option<u32>,
    pub(crate) backoff: Option<BackoffChoice>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) unique_ms: Option<u64>,
    /// The cron expression, checked by `rampart-spec`.
    pub(crate) cron: Option<String>,
    pub(crate) description: String,
}

const SHAPE: &str = "write `async fn name(ctx: JobCtx, input: T) -> JobResult`";

/// Mistakes of the fn itself, independent of the attribute: reported even when it does not
/// parse. Returns the types when the arguments and return type are where they belong.
pub(crate) fn check_signature(
    function: &syn::ItemFn,
    errors: &mut darling::error::Accumulator,
) -> Option<Signature> {
    let signature = &function.sig;
    if signature.asyncness.is_none() {
        errors.push(
            Error::custom("a job fn must be `async`\nhelp: write `async fn`")
                .with_span(&signature.fn_token),
        );
    }
    if !signature.generics.params.is_empty() {
        errors.push(
            Error::custom("a job fn cannot be generic\nhelp: remove the type parameters; a job's input is one concrete type (call a generic fn from the job)")
                .with_span(&signature.generics),
        );
    }
    if let Some(receiver) = signature.receiver() {
        errors.push(
            Error::custom("a job is a free fn, not a method\nhelp: move it out of the `impl` block and remove `self`")
                .with_span(receiver),
        );
        return None;
    }
    let typed: Vec<&syn::PatType> = signature
        .inputs
        .iter()
        .filter_map(|argument| match argument {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let arguments = match typed.as_slice() {
        [ctx, input, deps @ ..] => Some((
            (*ctx.ty).clone(),
            (*input.ty).clone(),
            deps.iter().map(|dep| (*dep.ty).clone()).collect::<Vec<_>>(),
        )),
        [] => {
            errors.push(
                Error::custom(format!("a job takes its `JobCtx`, then its input (then any dependencies, `Dep<T>`)\nhelp: {SHAPE} (the input may be `()`)"))
                    .with_span(&signature.paren_token.span.join()),
            );
            None
        }
        [only] => {
            let is_ctx = type_head(&only.ty).is_some_and(|(name, _)| name == "JobCtx");
            let help = if is_ctx {
                "add the input after it: `input: T` (the input may be `()`)"
            } else {
                "add `ctx: JobCtx` before it"
            };
            errors.push(
                Error::custom(format!(
                    "a job takes its `JobCtx`, then its input (then any dependencies, `Dep<T>`)\nhelp: {help}"
                ))
                .with_span(*only),
            );
            None
        }
    };
    // A dependency where the input belongs: serde would report two missing derives on `Dep`.
    if let Some((_, input, _)) = &arguments
        && type_head(input).is_some_and(|(head, _)| head == "Dep")
    {
        errors.push(
            Error::custom("a job's input comes before its dependencies\nhelp: take the input first (`input: ()` when there is none), then `Dep<T>` arguments")
                .with_span(input),
        );
        return None;
    }
    // An `impl Trait` argument is a type parameter: the input must be one concrete type.
    if let Some((_, input, _)) = &arguments
        && matches!(input, Type::ImplTrait(_))
    {
        errors.push(
            Error::custom("a job's input is one concrete type, not `impl Trait`\nhelp: name the type the job is enqueued with, e.g. `input: Welcome`")
                .with_span(input),
        );
        return None;
    }
    let output = match &signature.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            errors.push(
                Error::custom("a job returns `JobResult`\nhelp: add `-> JobResult` and end the body with `Ok(())`")
                    .with_span(&signature.paren_token.span.close()),
            );
            None
        }
    };
    let ((ctx, input, deps), output) = (arguments?, output?);
    // A dependency is a concrete type too (`Dep<T>`), resolved when the worker starts.
    if let Some(dep) = deps.iter().find(|dep| matches!(dep, Type::ImplTrait(_))) {
        errors.push(
            Error::custom("a job's arguments after its input are its dependencies, `Dep<T>`, not `impl Trait`\nhelp: take the registered type, e.g. `mailer: Dep<Mailer>`")
                .with_span(dep),
        );
        return None;
    }
    Some(Signature {
        ctx,
        input,
        deps,
        output,
    })
}

fn name_shaped(text: &str, extra: &[char]) -> bool {
    (1..=NAME_MAX).contains(&text.len())
        && text.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '_'
                || c == '-'
                || extra.contains(&c)
        })
}

/// A duration the `rampart-spec` grammar reads, in milliseconds, within `1..=max_ms` when a
/// bound is given (above zero otherwise).
fn duration_ms(
    lit: &LitStr,
    key: &str,
    example: &str,
    max_ms: Option<u64>,
    errors: &mut darling::error::Accumulator,
) -> Option<u64> {
    let parsed = rampart_spec::duration(&lit.value())
        .map_err(|error| error.message().to_owned())
        .and_then(|duration| {
            u64::try_from(duration.as_millis())
                .map_err(|_| format!("`{}` is too long a duration", lit.value()))
        });
    let message = match parsed {
        Ok(0) => format!("`{key}` is above zero\nhelp: write e.g. `{example}`"),
        Ok(ms) if max_ms.is_some_and(|max| ms > max) => format!(
            "`{key}` is at most 24h\nhelp: write e.g. `{example}`; work that runs longer is better split into several jobs"
        ),
        Ok(ms) => return Some(ms),
        Err(message) => format!(
            "`{}` is not a duration: {message}\nhelp: write e.g. `{example}`",
            lit.value()
        ),
    };
    errors.push(Error::custom(message).with_span(lit));
    None
}

fn retries(lit: &LitInt, errors: &mut darling::error::Accumulator) -> Option<u32> {
    match lit.base10_parse::<u32>() {
        Ok(n) if n <= 100 => Some(n),
        _ => {
            errors.push(
                Error::custom("`retries` is a number from 0 to 100\nhelp: write e.g. `retries = 8`: a job runs at most `retries + 1` times")
                    .with_span(lit),
            );
            None
        }
    }
}

fn backoff(
    attr: &JobAttr,
    retries: Option<u32>,
    errors: &mut darling::error::Accumulator,
) -> Option<BackoffChoice> {
    let kind = attr.backoff.as_ref().and_then(|lit| match lit.value().as_str() {
        "exponential" => Some(BackoffKind::Exponential),
        "fixed" => Some(BackoffKind::Fixed),
        "none" => Some(BackoffKind::None),
        other => {
            errors.push(
                Error::custom(format!("unknown backoff `{other}`\nhelp: write \"exponential\" (the default), \"fixed\" or \"none\""))
                    .with_span(lit),
            );
            None
        }
    });
    let base_ms = attr.backoff_base.as_ref().and_then(|lit| {
        duration_ms(
            lit,
            "backoff_base",
            "backoff_base = \"2s\"",
            Some(DAY_MS),
            errors,
        )
    });
    // A setting that can never apply is a mistake about the job, reported once, at the first
    // key that says it.
    if retries == Some(0) {
        let first = attr
            .backoff
            .as_ref()
            .map(|lit| ("backoff", lit))
            .or(attr.backoff_base.as_ref().map(|lit| ("backoff_base", lit)));
        if let Some((key, lit)) = first {
            errors.push(
                Error::custom(format!("`{key}` never applies: `retries = 0` runs the job once, with no retry to delay\nhelp: remove `{key}`, or allow retries (e.g. `retries = 3`)"))
                    .with_span(lit),
            );
            return None;
        }
    }
    if kind == Some(BackoffKind::None)
        && let Some(lit) = &attr.backoff_base
    {
        errors.push(
            Error::custom("`backoff = \"none\"` retries at once, so `backoff_base` never applies\nhelp: remove `backoff_base`, or write `backoff = \"fixed\"` or `backoff = \"exponential\"`")
                .with_span(lit),
        );
        return None;
    }
    (attr.backoff.is_some() || attr.backoff_base.is_some())
        .then_some(BackoffChoice { kind, base_ms })
}

pub(crate) fn check(attr: JobAttr, function: &syn::ItemFn) -> darling::Result<CheckedJob> {
    let mut errors = Error::accumulator();
    let signature = check_signature(function, &mut errors);

    let queue = attr.queue.as_ref().map(|lit| {
        let value = lit.value();
        if !name_shaped(&value, &[]) {
            errors.push(
                Error::custom(format!("`{value}` is not a queue name\nhelp: a queue name is 1 to 64 of `a-z`, `0-9`, `_` and `-`, e.g. `queue = \"mail\"`"))
                    .with_span(lit),
            );
        }
        value
    });
    let name = match &attr.name {
        Some(lit) => {
            let value = lit.value();
            if !name_shaped(&value, &['.', ':']) {
                errors.push(
                    Error::custom(format!("`{value}` is not a job name\nhelp: a job name is 1 to 64 of `a-z`, `0-9`, `_`, `-`, `.` and `:`, e.g. `name = \"mail.welcome\"`"))
                        .with_span(lit),
                );
            }
            value
        }
        None => function
            .sig
            .ident
            .to_string()
            .trim_start_matches("r#")
            .to_owned(),
    };
    let retries = attr
        .retries
        .as_ref()
        .and_then(|lit| retries(lit, &mut errors));
    let backoff = backoff(&attr, retries, &mut errors);
    let timeout_ms = attr.timeout.as_ref().and_then(|lit| {
        duration_ms(
            lit,
            "timeout",
            "timeout = \"30s\"",
            Some(DAY_MS),
            &mut errors,
        )
    });
    let unique_ms = attr
        .unique
        .as_ref()
        .and_then(|lit| duration_ms(lit, "unique", "unique = \"10m\"", None, &mut errors));
    let cron = attr.cron.as_ref().and_then(|lit| {
        let value = lit.value();
        match rampart_spec::Cron::parse(&value) {
            Ok(_) => Some(value),
            Err(error) => {
                errors.push(
                    Error::custom(format!("`{value}` is not a cron expression: {error}\nhelp: write e.g. `cron = \"0 3 * * *\"` (03:00 UTC every day): minute, hour, day of the month, month, day of the week"))
                        .with_span(lit),
                );
                None
            }
        }
    });
    let (summary, _) = summary_and_description(&doc_text(&function.attrs));

    errors.finish()?;
    let Some(signature) = signature else {
        return Err(Error::custom("a job fn takes `(ctx: JobCtx, input: T)`")
            .with_span(&function.sig.span()));
    };
    Ok(CheckedJob {
        function: function.clone(),
        signature,
        name,
        queue,
        retries,
        backoff,
        timeout_ms,
        unique_ms,
        cron,
        description: summary.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name_shaped("mail", &[]));
        assert!(name_shaped("bulk-export_2", &[]));
        assert!(!name_shaped("Mail", &[]));
        assert!(!name_shaped("", &[]));
        assert!(!name_shaped(&"a".repeat(65), &[]));
        assert!(!name_shaped("mail.welcome", &[]));
        assert!(name_shaped("mail.welcome:v2", &['.', ':']));
    }
}
