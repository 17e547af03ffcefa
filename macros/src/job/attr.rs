//! The grammar of `#[job(...)]`: every key's shape is checked first (`grammar`), so a mistake
//! names the key and the form it takes; darling then reads the well-formed items.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use syn::{LitInt, LitStr};

use crate::grammar::{Key, Shape, check_keys};

/// The raw arguments, exactly as written.
#[derive(Debug, FromMeta)]
pub(crate) struct JobAttr {
    pub(crate) queue: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) retries: Option<LitInt>,
    pub(crate) backoff: Option<LitStr>,
    pub(crate) backoff_base: Option<LitStr>,
    pub(crate) timeout: Option<LitStr>,
    pub(crate) unique: Option<LitStr>,
    pub(crate) cron: Option<LitStr>,
}

const fn key(
    name: &'static str,
    shape: Shape,
    expects: &'static str,
    example: &'static str,
) -> Key {
    Key {
        name,
        shape,
        expects,
        example,
    }
}

/// Every key of `JobAttr`, in the order the docs list them.
const KEYS: &[Key] = &[
    key(
        "queue",
        Shape::Str,
        "a queue name as a string",
        "queue = \"mail\"",
    ),
    key(
        "name",
        Shape::Str,
        "the job's name as a string",
        "name = \"mail.welcome\"",
    ),
    key(
        "retries",
        Shape::Int,
        "a number of retries (0..=100)",
        "retries = 8",
    ),
    key(
        "backoff",
        Shape::Str,
        "\"exponential\", \"fixed\" or \"none\"",
        "backoff = \"exponential\"",
    ),
    key(
        "backoff_base",
        Shape::Str,
        "a duration as a string like \"2s\"",
        "backoff_base = \"2s\"",
    ),
    key(
        "timeout",
        Shape::Str,
        "a duration as a string like \"30s\"",
        "timeout = \"30s\"",
    ),
    key(
        "unique",
        Shape::Str,
        "a duration as a string like \"10m\"",
        "unique = \"10m\"",
    ),
    key(
        "cron",
        Shape::Str,
        "a cron expression as a string like \"0 3 * * *\"",
        "cron = \"0 3 * * *\"",
    ),
];

pub(crate) fn parse(args: TokenStream) -> darling::Result<JobAttr> {
    let items = NestedMeta::parse_meta_list(args).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("{error}: `#[job]` takes `key = value` items separated by `,`\nhelp: e.g. `#[job(queue = \"mail\", retries = 8)]`"),
        )
    })?;
    let mut errors = darling::Error::accumulator();
    let items = check_keys(items, KEYS, "`#[job]`", &mut errors);
    let attr = errors.handle(JobAttr::from_list(&items));
    errors.finish_with(())?;
    attr.ok_or_else(|| darling::Error::custom("the attribute did not parse"))
}
