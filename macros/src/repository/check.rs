//! Checks a `#[repository(Resource)]` trait: every method is an `async fn` with a `#[query]`
//! whose named parameters are exactly its arguments, whose SQL parses (see `sql.rs`), and
//! whose owner binding agrees with its scope argument. Whether each table the statement
//! touches is owned is declared on `#[resource]` (another macro call), so that part is checked
//! by rustc through spanned const assertions in the expansion.

use darling::Error;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{FnArg, Ident, ItemTrait, LitStr, Pat, ReturnType, Token, TraitItem, Type};

use darling::ast::NestedMeta;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta};

use super::sql::{self, Analysis};
use crate::endpoint::check::{cache_lifetimes, table_list};
use crate::grammar::{Key, Shape, check_keys, key};
use crate::util::type_head;
use darling::FromMeta;

/// `#[repository(Task)]` or `#[repository(Task, tables(Project, Label))]`: the anchor
/// resource, and the other resources whose tables its queries name (the anchor's parent is
/// known already).
pub(crate) struct RepositoryArgs {
    pub(crate) resource: Type,
    pub(crate) tables: Vec<Type>,
}

impl Parse for RepositoryArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[repository]` names the resource its queries read\nhelp: write `#[repository(Task)]`",
            ));
        }
        let resource: Type = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "`#[repository(..)]` starts with the resource type\nhelp: write `#[repository(Task)]`, or `#[repository(Task, tables(Project))]`",
            )
        })?;
        let mut tables = Vec::new();
        if !input.is_empty() {
            input.parse::<Token![,]>().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected `,` after the resource\nhelp: write `#[repository(Task, tables(Project))]`",
                )
            })?;
        }
        if !input.is_empty() {
            let key: Ident = input.parse().map_err(|error| {
                syn::Error::new(error.span(), "unknown argument\nhelp: name the other resources a query reads as `tables(Project, Label)`")
            })?;
            if key != "tables" {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}` in `#[repository]`\nhelp: name the other resources a query reads as `tables(Project, Label)`"
                    ),
                ));
            }
            if !input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    key.span(),
                    "`tables` lists resource types in parentheses\nhelp: write `tables(Project, Label)`",
                ));
            }
            let content;
            syn::parenthesized!(content in input);
            let list: Punctuated<Type, Token![,]> = Punctuated::parse_terminated(&content)
                .map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        "`tables(..)` lists resource types\nhelp: write `tables(Project, Label)`",
                    )
                })?;
            tables.extend(list);
            input.parse::<Option<Token![,]>>()?;
            if !input.is_empty() {
                return Err(input.error(
                    "`tables(..)` is the last argument\nhelp: write `#[repository(Task, tables(Project, Label))]`",
                ));
            }
        }
        Ok(Self { resource, tables })
    }
}

/// The resource type alone, when the rest of the arguments is wrong: the stand-in still
/// dereferences to its `Store`.
pub(crate) fn resource_only(args: proc_macro2::TokenStream) -> Option<Type> {
    let parser = |input: ParseStream<'_>| {
        let resource: Type = input.parse()?;
        input.parse::<proc_macro2::TokenStream>()?;
        Ok(resource)
    };
    syn::parse::Parser::parse2(parser, args).ok()
}

/// How a method takes its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScopeArg {
    None,
    Owner(Ident),
    Admin(Ident),
}

/// What the method returns.
#[derive(Debug)]
pub(crate) enum Fetch {
    All(Type),
    Optional(Type),
    One(Type),
    Affected,
    Scalar,
}

#[derive(Debug)]
pub(crate) struct CheckedQuery {
    pub(crate) method: syn::TraitItemFn,
    pub(crate) literal: LitStr,
    /// The SQL with `:name` replaced by `$n`.
    pub(crate) sql: String,
    /// Parameter names in `$n` order (`owner` is the scope's owner).
    pub(crate) params: Vec<String>,
    pub(crate) scope: ScopeArg,
    pub(crate) fetch: Fetch,
    pub(crate) reads: bool,
    /// What the parsed statement touches (checked against the resources in the expansion).
    pub(crate) analysis: Analysis,
    /// `cache(..)`: the read's answers are kept.
    pub(crate) cache: Option<QueryCache>,
    /// `invalidates = [..]`: tables a write changes that its SQL does not name (triggers,
    /// `ON DELETE CASCADE`), made stale with the ones it names.
    pub(crate) invalidates: Vec<String>,
}

/// `cache(ttl = "60s", stale_if_error = "5m")` on a read query.
#[derive(Debug)]
pub(crate) struct QueryCache {
    pub(crate) ttl_ms: u64,
    /// `None`: the default of endpoints' caches.
    pub(crate) stale_if_error_ms: Option<u64>,
    /// The `cache` key (the row type's serde bounds are asserted there).
    pub(crate) span: Span,
}

/// `#[query("SQL", key = ..)]`: the statement, and the options after it.
struct QueryArgs {
    literal: LitStr,
    options: Vec<NestedMeta>,
}

impl Parse for QueryArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let literal: LitStr = input.parse()?;
        let mut options = Vec::new();
        if input.parse::<Option<Token![,]>>()?.is_some() {
            let rest = Punctuated::<NestedMeta, Token![,]>::parse_terminated(input)?;
            options.extend(rest);
        }
        Ok(Self { literal, options })
    }
}

const QUERY_KEYS: &[Key] = &[
    key(
        "cache",
        Shape::List,
        "options: a `ttl`, and a `stale_if_error`",
        "cache(ttl = \"60s\")",
    ),
    key(
        "invalidates",
        Shape::StrList,
        "a list of table names as strings",
        "invalidates = [\"task_counts\"]",
    ),
];

const QUERY_CACHE_KEYS: &[Key] = &[
    key(
        "ttl",
        Shape::Str,
        "a duration as a string like \"60s\"",
        "ttl = \"60s\"",
    ),
    key(
        "stale_if_error",
        Shape::Str,
        "a duration as a string like \"5m\"",
        "stale_if_error = \"5m\"",
    ),
];

/// The string value of `key = "..."` (its shape is checked already).
fn string_value(meta: &Meta) -> Option<LitStr> {
    let Meta::NameValue(item) = meta else {
        return None;
    };
    let mut expr = &item.value;
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    match expr {
        Expr::Lit(literal) => match &literal.lit {
            Lit::Str(text) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A query's options, checked: its `cache(..)` (`None` when there is none or it was refused)
/// and its `invalidates` (empty when there is none or it was refused), their errors pushed.
fn query_options(
    options: Vec<NestedMeta>,
    reads: bool,
    errors: &mut darling::error::Accumulator,
) -> (Option<QueryCache>, Vec<String>) {
    let options = check_keys(options, QUERY_KEYS, "`#[query(..)]`", errors);
    let (mut cache, mut invalidates) = (None, Vec::new());
    for option in options {
        let NestedMeta::Meta(meta) = option else {
            continue;
        };
        if meta.path().is_ident("invalidates") {
            invalidates = query_invalidates(&meta, reads, errors);
        } else if let Meta::List(list) = meta {
            cache = query_cache(list, reads, errors);
        }
    }
    (cache, invalidates)
}

/// `invalidates = ["table", ..]` on a write, checked.
fn query_invalidates(
    meta: &Meta,
    reads: bool,
    errors: &mut darling::error::Accumulator,
) -> Vec<String> {
    if reads {
        errors.push(
            Error::custom("`invalidates` is for writes: this statement only reads, and a read makes nothing stale\nhelp: remove `invalidates`; name it on the write that changes those tables")
                .with_span(&meta.path().span()),
        );
        return Vec::new();
    }
    match darling::util::SpannedValue::<Vec<LitStr>>::from_meta(meta) {
        Ok(list) => table_list(&list, "invalidates", errors),
        Err(error) => {
            errors.push(error);
            Vec::new()
        }
    }
}

/// The `cache(..)` of a query, checked: `None` when it was refused (its errors pushed).
fn query_cache(
    list: syn::MetaList,
    reads: bool,
    errors: &mut darling::error::Accumulator,
) -> Option<QueryCache> {
    let span = list.path.span();
    if !reads {
        errors.push(
            Error::custom("`cache` is for reads: this statement writes (or locks, or is run for its row count), and a write's answer is not kept\nhelp: remove `cache`; the reads of the tables it writes are made stale by it")
                .with_span(&span),
        );
        return None;
    }
    let items = match NestedMeta::parse_meta_list(list.tokens.clone()) {
        Ok(items) => items,
        Err(error) => {
            errors.push(error.into());
            return None;
        }
    };
    let ttl_written = items
        .iter()
        .any(|item| matches!(item, NestedMeta::Meta(meta) if meta.path().is_ident("ttl")));
    let items = check_keys(items, QUERY_CACHE_KEYS, "`cache(...)`", errors);
    let (mut ttl, mut stale_if_error) = (None, None);
    for item in &items {
        let NestedMeta::Meta(meta) = item else {
            continue;
        };
        if meta.path().is_ident("ttl") {
            ttl = string_value(meta);
        } else if meta.path().is_ident("stale_if_error") {
            stale_if_error = string_value(meta);
        }
    }
    let Some(ttl) = ttl else {
        // A `ttl` written wrong has had its error.
        if !ttl_written {
            errors.push(
                Error::custom("`cache` needs a `ttl`: how long an entry answers without running the statement\nhelp: write e.g. `cache(ttl = \"60s\")`")
                    .with_span(&span),
            );
        }
        return None;
    };
    let (ttl_ms, stale_if_error_ms) = cache_lifetimes(&ttl, stale_if_error.as_ref(), errors)?;
    Some(QueryCache {
        ttl_ms,
        stale_if_error_ms,
        span,
    })
}

#[derive(Debug)]
pub(crate) struct CheckedRepository {
    pub(crate) item: ItemTrait,
    pub(crate) resource: Type,
    /// Other resources whose tables the queries name.
    pub(crate) tables: Vec<Type>,
    pub(crate) queries: Vec<CheckedQuery>,
}

/// `... :name ...` → (`... $1 ...`, [name]); `::casts` and quoted text are left alone.
pub(crate) fn named_parameters(sql: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(sql.len());
    let mut params: Vec<String> = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let mut index = 0;
    let mut quoted = false;
    while index < chars.len() {
        let c = chars[index];
        if c == '\'' {
            quoted = !quoted;
            out.push(c);
            index += 1;
        } else if !quoted && c == ':' && chars.get(index + 1) == Some(&':') {
            out.push_str("::");
            index += 2;
        } else if !quoted
            && c == ':'
            && chars
                .get(index + 1)
                .is_some_and(|n| n.is_ascii_lowercase() || *n == '_')
        {
            let start = index + 1;
            let mut end = start;
            while chars
                .get(end)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
            {
                end += 1;
            }
            let name: String = chars[start..end].iter().collect();
            let position = match params.iter().position(|p| *p == name) {
                Some(position) => position,
                None => {
                    params.push(name);
                    params.len() - 1
                }
            };
            out.push_str(&format!("${}", position + 1));
            index = end;
        } else {
            out.push(c);
            index += 1;
        }
    }
    (out, params)
}

/// [`type_head`] through references: `&Scope` → ("Scope", []).
fn head(ty: &Type) -> Option<(String, Vec<Type>)> {
    match ty {
        Type::Reference(reference) => head(&reference.elem),
        _ => type_head(ty),
    }
}

fn fetch_of(output: &ReturnType) -> Option<Fetch> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let (result, args) = head(ty)?;
    if result != "ApiResult" && result != "Result" {
        return None;
    }
    let inner = args.into_iter().next()?;
    let (name, mut args) = head(&inner)?;
    Some(match name.as_str() {
        "Vec" if !args.is_empty() => Fetch::All(args.remove(0)),
        "Option" if !args.is_empty() => Fetch::Optional(args.remove(0)),
        "u64" => Fetch::Affected,
        "i64" => Fetch::Scalar,
        _ => Fetch::One(inner),
    })
}

fn check_method(
    method: syn::TraitItemFn,
    errors: &mut darling::error::Accumulator,
) -> Option<CheckedQuery> {
    let signature = &method.sig;
    let Some(attr) = method.attrs.iter().find(|a| a.path().is_ident("query")) else {
        errors.push(
            Error::custom("a repository method needs its SQL\nhelp: add `#[query(\"SELECT ... WHERE owner_id = :owner\")]`")
                .with_span(&signature.ident),
        );
        return None;
    };
    let QueryArgs { literal, options } = match attr.parse_args() {
        Ok(args) => args,
        Err(_) => {
            errors.push(
                Error::custom("`#[query]` takes the SQL as one string\nhelp: write `#[query(\"SELECT ... WHERE owner_id = :owner\")]`")
                    .with_span(&attr.meta),
            );
            return None;
        }
    };
    if signature.asyncness.is_none() {
        errors.push(
            Error::custom("repository methods are `async fn`\nhelp: write `async fn`")
                .with_span(&signature.fn_token),
        );
    }
    if let Some(body) = &method.default {
        errors.push(
            Error::custom("a repository method has no body: its SQL is the body\nhelp: remove the block and end the signature with `;`")
                .with_span(&body.brace_token.span.join()),
        );
    }
    let mut inputs = signature.inputs.iter().peekable();
    // Only a receiver is taken off: an argument written first is still an argument, so a
    // missing `&self` is one error and not also "`:name` is not an argument".
    let receiver = inputs.next_if(|input| matches!(input, FnArg::Receiver(_)));
    match receiver {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some() && receiver.mutability.is_none() => {}
        Some(other) => errors.push(
            Error::custom("a repository method takes `&self` first\nhelp: write `&self`: queries only read the repository's store")
                .with_span(other),
        ),
        None => errors.push(
            Error::custom("a repository method takes `&self` first\nhelp: write `(&self, ..)`")
                .with_span(&signature.paren_token.span.open()),
        ),
    }
    let mut scope = ScopeArg::None;
    let mut arguments: Vec<Ident> = Vec::new();
    for input in inputs {
        let FnArg::Typed(typed) = input else { continue };
        let Pat::Ident(pat) = &*typed.pat else {
            errors.push(
                Error::custom("a repository argument is a plain name: the query binds it as `:name`\nhelp: write e.g. `project: Uuid`, bound as `:project`")
                    .with_span(&typed.pat),
            );
            continue;
        };
        let ident = pat.ident.clone();
        match head(&typed.ty).map(|(name, _)| name).as_deref() {
            Some("Scope") => scope = ScopeArg::Owner(ident),
            Some("UnscopedAdmin") => scope = ScopeArg::Admin(ident),
            _ => arguments.push(ident),
        }
    }
    let Some(fetch) = fetch_of(&signature.output) else {
        let error = Error::custom(
            "a repository method returns `ApiResult<..>` of what its query yields\nhelp: write `-> ApiResult<Vec<R>>` (all rows), `ApiResult<Option<R>>`, `ApiResult<R>` (404 when none), `ApiResult<u64>` (rows changed) or `ApiResult<i64>` (a count)",
        );
        errors.push(match &signature.output {
            ReturnType::Type(_, ty) => error.with_span(ty),
            // No `->` at all: point after the arguments, where it goes.
            ReturnType::Default => error.with_span(&signature.paren_token.span.close()),
        });
        return None;
    };
    let (sql, params) = named_parameters(&literal.value());
    let binds_owner = params.iter().any(|p| p == "owner");
    for param in &params {
        if param == "owner" {
            if !matches!(scope, ScopeArg::Owner(_)) {
                errors.push(
                    Error::custom(if matches!(scope, ScopeArg::Admin(_)) {
                        "`:owner` cannot be bound from `UnscopedAdmin`, which is every owner\nhelp: take `scope: &Scope` instead"
                    } else {
                        "`:owner` is bound from a scope argument, and this method has none\nhelp: add `scope: &Scope`"
                    })
                    .with_span(&literal),
                );
            }
        } else if !arguments.iter().any(|a| a == param) {
            errors.push(
                Error::custom(format!(
                    "`:{param}` is not an argument of this method\nhelp: add an argument `{param}: T`, or fix the name in the query"
                ))
                .with_span(&literal),
            );
        }
    }
    for argument in &arguments {
        if !params.iter().any(|p| argument == p) {
            errors.push(
                Error::custom(format!(
                    "argument `{argument}` is never used in the query\nhelp: bind it as `:{argument}`, or remove it"
                ))
                .with_span(argument),
            );
        }
    }
    if let ScopeArg::Owner(ident) = &scope
        && !binds_owner
    {
        errors.push(
            Error::custom("this method takes a `Scope` but its query never binds `:owner`\nhelp: add `AND owner_id = :owner` to the query")
                .with_span(ident),
        );
    }
    let owner = params
        .iter()
        .position(|p| p == "owner")
        .map(|index| format!("${}", index + 1));
    let analysis = match sql::analyse(&sql, owner.as_deref()) {
        Ok(analysis) => analysis,
        Err(mut message) => {
            // Quote the SQL as written: `$2` back to `:owner` (highest index first).
            for (index, name) in params.iter().enumerate().rev() {
                message = message.replace(&format!("${}", index + 1), &format!(":{name}"));
            }
            errors.push(Error::custom(message).with_span(&literal));
            return None;
        }
    };
    // Reads go to the replica; anything that writes or locks (including a data-modifying CTE
    // and `FOR UPDATE`), and any statement run for its row count, to the primary.
    let reads = !analysis.writes && !matches!(fetch, Fetch::Affected);
    let (cache, invalidates) = query_options(options, reads, errors);
    Some(CheckedQuery {
        invalidates,
        method,
        literal,
        sql,
        params,
        scope,
        fetch,
        reads,
        analysis,
        cache,
    })
}

pub(crate) fn check(args: RepositoryArgs, item: ItemTrait) -> darling::Result<CheckedRepository> {
    let RepositoryArgs { resource, tables } = args;
    let mut errors = Error::accumulator();
    if !item.generics.params.is_empty() {
        errors.push(
            Error::custom("a repository cannot be generic (its queries read one resource)\nhelp: remove the type parameters; declare one repository per resource")
                .with_span(&item.generics),
        );
    }
    if item.colon_token.is_some() {
        errors.push(
            Error::custom("a repository has no supertraits: it becomes a struct, not a trait\nhelp: remove the bounds after the trait's name")
                .with_span(&item.supertraits),
        );
    }
    let mut queries = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            TraitItem::Fn(method) => {
                if let Some(query) = check_method(method.clone(), &mut errors) {
                    queries.push(query);
                }
            }
            other => errors.push(
                Error::custom("a repository holds only `#[query]` methods\nhelp: move this item out of the trait; the repository becomes a struct, with an inherent method per query")
                    .with_span(other),
            ),
        }
    }
    errors.finish()?;
    Ok(CheckedRepository {
        item,
        resource,
        tables,
        queries,
    })
}

#[cfg(test)]
mod tests {
    use super::named_parameters;

    #[test]
    fn named_parameters_become_positional() {
        let (sql, params) = named_parameters(
            "SELECT * FROM t WHERE a = :project AND b = :owner AND c = :project AND d::text = ':not' AND e = x::int",
        );
        assert_eq!(
            sql,
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $1 AND d::text = ':not' AND e = x::int"
        );
        assert_eq!(params, vec!["project", "owner"]);
    }
}
