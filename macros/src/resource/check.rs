//! Checks a `#[resource]` declaration. Every mistake is reported at once, each at the field,
//! marker or key that makes it. What was learnt is kept either way: a [`CheckedResource`] when
//! nothing is wrong (only that reaches the full expansion), otherwise a [`Rejected`] whose
//! [`Declaration`] feeds the stand-ins that keep one mistake to one message.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use super::attr::{EndpointsDecl, RawEndpoints, ResourceAttr, parse_endpoints};
use super::fields::{CheckedField, Role, check_field, serde_rename_all};
use crate::endpoint::check::{check_options, parse_template, table_list};
use crate::util::{is_snake_ident, type_head};

/// What the declaration says, as far as it could be read.
#[derive(Debug)]
pub(crate) struct Declaration {
    pub(crate) input: DeriveInput,
    pub(crate) fields: Vec<CheckedField>,
    pub(crate) table: LitStr,
    pub(crate) name: String,
    pub(crate) cursor: bool,
    pub(crate) default_sort: Option<(Ident, bool)>,
    /// The `bool` column that makes a row read-only.
    pub(crate) read_only_when: Option<Ident>,
    /// `cascades = [..]`: the other tables a write to this one changes.
    pub(crate) cascades: Vec<String>,
    /// `endpoints(...)` was written (or, when the attribute did not parse, may have been).
    pub(crate) endpoints_declared: bool,
}

impl Declaration {
    /// The column of the field with `role`.
    pub(crate) fn column(&self, role: &Role) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.role == *role)
            .map(|f| f.ident.to_string())
    }

    pub(crate) fn versioned(&self) -> bool {
        self.column(&Role::Version).is_some()
    }
}

/// `endpoints(...)` after checking: the options as written, sorted by the endpoints they go to.
pub(crate) struct CheckedEndpoints {
    pub(crate) decl: EndpointsDecl,
}

/// A declaration that passed every check.
pub(crate) struct CheckedResource {
    pub(crate) declaration: Declaration,
    pub(crate) endpoints: Option<CheckedEndpoints>,
}

/// A declaration with mistakes: the errors, and what could be read for the stand-ins.
pub(crate) struct Rejected {
    pub(crate) error: Error,
    pub(crate) declaration: Box<Declaration>,
}

/// The struct's named fields, or the error at what makes it no such struct.
fn named_fields(input: &DeriveInput) -> Result<Vec<syn::Field>, Error> {
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Ok(named.named.iter().cloned().collect()),
            Fields::Unnamed(unnamed) => Err(Error::custom(
                "#[resource] needs a struct with named fields (columns are named after them)\nhelp: name the fields: `struct Task { id: Uuid, .. }`",
            )
            .with_span(&unnamed.paren_token.span.join())),
            Fields::Unit => Err(Error::custom(
                "#[resource] needs a struct with named fields; this one has none\nhelp: add the columns: `struct Task { #[resource(id)] id: Uuid, .. }`",
            )
            .with_span(&input.ident)),
        },
        Data::Enum(data) => Err(Error::custom(
            "#[resource] goes on a struct, not an enum\nhelp: a resource is a table row: declare a struct with named fields",
        )
        .with_span(&data.enum_token)),
        Data::Union(data) => Err(Error::custom(
            "#[resource] goes on a struct, not a union\nhelp: a resource is a table row: declare a struct with named fields",
        )
        .with_span(&data.union_token)),
    }
}

fn pagination(attr: &ResourceAttr, errors: &mut Accumulator) -> bool {
    match attr.pagination.as_ref().map(LitStr::value).as_deref() {
        None | Some("cursor") => true,
        Some("offset") => false,
        Some(_) => {
            if let Some(literal) = &attr.pagination {
                errors.push(
                    Error::custom("`pagination` is \"offset\" or \"cursor\"\nhelp: write `pagination = \"cursor\"` (keyset pages, the default) or `pagination = \"offset\"`")
                        .with_span(literal),
                );
            }
            true
        }
    }
}

fn field_list(fields: &[CheckedField], keep: impl Fn(&CheckedField) -> bool) -> String {
    let names: Vec<String> = fields
        .iter()
        .filter(|f| keep(f))
        .map(|f| format!("`{}`", f.ident))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// One id, at most one parent: the second marker is the mistake.
fn check_unique_roles(input: &DeriveInput, fields: &[CheckedField], errors: &mut Accumulator) {
    let ids: Vec<&CheckedField> = fields.iter().filter(|f| f.role == Role::Id).collect();
    match ids.as_slice() {
        [] => errors.push(
            Error::custom(
                "a resource needs an id field\nhelp: mark it: `#[resource(id)] pub id: Uuid`",
            )
            .with_span(&input.ident),
        ),
        [first, rest @ ..] => {
            for second in rest {
                errors.push(
                    Error::custom(format!("a resource has one id field, and `{}` is already it\nhelp: remove this `id` marker", first.ident))
                        .with_span(&second.marker.unwrap_or_else(|| second.ident.span())),
                );
            }
        }
    }
    let parents: Vec<&CheckedField> = fields
        .iter()
        .filter(|f| matches!(f.role, Role::Parent(_)))
        .collect();
    if let [first, rest @ ..] = parents.as_slice() {
        for second in rest {
            errors.push(
                Error::custom(format!("a resource has at most one parent, and `{}` is already it\nhelp: remove this `parent` marker; refer to the other row with a plain `Uuid` column", first.ident))
                    .with_span(&second.marker.unwrap_or_else(|| second.ident.span())),
            );
        }
    }
}

/// `owner = f`, `version = f`, `read_only_when = f` name fields of the struct.
fn check_named_fields(attr: &ResourceAttr, fields: &[CheckedField], errors: &mut Accumulator) {
    if let Some(flag) = &attr.read_only_when {
        let bools = || {
            field_list(fields, |f| {
                type_head(&f.ty).is_some_and(|(h, _)| h == "bool")
            })
        };
        match fields.iter().find(|f| f.ident == *flag) {
            None => errors.push(
                Error::custom(format!("`read_only_when = {flag}` names no field of this struct\nhelp: name a `bool` field (here: {})", bools()))
                    .with_span(flag),
            ),
            Some(field) if type_head(&field.ty).is_none_or(|(head, _)| head != "bool") => errors
                .push(
                    Error::custom(format!(
                        "`read_only_when = {flag}` needs a `bool` field\nhelp: declare `{flag}: bool`, true while the row is read-only"
                    ))
                    .with_span(flag),
                ),
            Some(_) => {}
        }
    }
    for (declared, what) in [(&attr.owner, "owner"), (&attr.version, "version")] {
        if let Some(ident) = declared
            && !fields.iter().any(|f| f.ident == *ident)
        {
            errors.push(
                Error::custom(format!(
                    "`{what} = {ident}` names no field of this struct\nhelp: name one of its fields: {}",
                    field_list(fields, |_| true)
                ))
                .with_span(ident),
            );
        }
    }
}

fn default_sort(
    attr: &ResourceAttr,
    fields: &[CheckedField],
    errors: &mut Accumulator,
) -> Option<(Ident, bool)> {
    let literal = attr.default_sort.as_ref()?;
    let text = literal.value();
    let (descending, name) = match text.strip_prefix('-') {
        Some(name) => (true, name.to_owned()),
        None => (false, text.clone()),
    };
    if let Some(field) = fields.iter().find(|f| f.ident == name && f.sort) {
        return Some((field.ident.clone(), descending));
    }
    let sortable = field_list(fields, |f| f.sort);
    errors.push(
        Error::custom(format!(
            "`{name}` is not a sort field of this resource\nhelp: mark the field `#[resource(sort)]`{}",
            if sortable == "none" {
                String::new()
            } else {
                format!(", or use one of: {sortable}")
            }
        ))
        .with_span(literal),
    );
    None
}

/// `endpoints(...)`: its own keys here, every `#[endpoint]` option through `#[endpoint]`'s
/// checks, once.
fn check_endpoints(
    raw: &RawEndpoints,
    attr: &ResourceAttr,
    fields: &[CheckedField],
    errors: &mut Accumulator,
) -> Option<CheckedEndpoints> {
    let (decl, options) = errors.handle(parse_endpoints(raw, &attr.table))?;
    let mut failed = false;
    let mut push = |error: Error| {
        failed = true;
        errors.push(error);
    };
    match parse_template(&decl.path.value()) {
        Err(message) => push(
            Error::custom(format!(
                "invalid path template: {message}\nhelp: write a path like \"/notes\""
            ))
            .with_span(&decl.path),
        ),
        Ok(params) if !params.is_empty() => push(
            Error::custom("`endpoints(path = ..)` is the collection's path and binds no parameter; the item endpoints add `/{id}`\nhelp: write e.g. `path = \"/notes\"`")
                .with_span(&decl.path),
        ),
        Ok(_) => {}
    }
    if let Some(parent) = fields.iter().find(|f| matches!(f.role, Role::Parent(_))) {
        push(
            Error::custom(format!("`endpoints(...)` serves top-level resources, and `{}` makes this one a child\nhelp: remove `endpoints(...)` and write `#[endpoint]`s over its repository (`list_under`, `create_under`)", parent.ident))
                .with_span(&decl.keyword),
        );
    }
    if let (Some(public), Some(owner)) = (&decl.public, &attr.owner) {
        push(
            Error::custom(format!("an owned resource has no public rows: an anonymous caller owns none (`owner = {owner}`)\nhelp: remove `public`, or remove `owner` for a table everyone reads"))
                .with_span(public),
        );
    }
    if let (Some(shared), Some(owner)) = (decl.cache.as_ref().and_then(shared_flag), &attr.owner) {
        push(
            Error::custom(format!("an owned resource's rows are each caller's own (`owner = {owner}`): one entry for every caller would answer one caller's rows to another\nhelp: remove `shared`; each caller gets an entry of their own"))
                .with_span(&shared),
        );
    }
    // The probe path has no parameter, so a wrong `path` is reported once, above.
    let probe = LitStr::new("/", decl.path.span());
    if let Err(error) = check_options(options, &probe) {
        push(error);
    }
    (!failed).then_some(CheckedEndpoints { decl })
}

/// The `shared` inside `cache(..)`, if any.
fn shared_flag(cache: &darling::ast::NestedMeta) -> Option<syn::Path> {
    let darling::ast::NestedMeta::Meta(syn::Meta::List(list)) = cache else {
        return None;
    };
    let options = list
        .parse_args_with(
            syn::punctuated::Punctuated::<darling::ast::NestedMeta, syn::Token![,]>::parse_terminated,
        )
        .ok()?;
    options.into_iter().find_map(|option| match option {
        darling::ast::NestedMeta::Meta(syn::Meta::Path(path)) if path.is_ident("shared") => {
            Some(path)
        }
        _ => None,
    })
}

/// The struct-level rules that need no field.
fn check_attr(attr: &ResourceAttr, input: &DeriveInput, errors: &mut Accumulator) {
    if !input.generics.params.is_empty() {
        errors.push(
            Error::custom("a resource cannot be generic (its table and columns are fixed)\nhelp: remove the type parameters")
                .with_span(&input.generics),
        );
    }
    if !is_snake_ident(&attr.table.value()) {
        errors.push(
            Error::custom(
                "`table` must be a plain snake_case name\nhelp: write e.g. `table = \"tasks\"`",
            )
            .with_span(&attr.table),
        );
    }
}

fn snake_name(ident: &Ident) -> String {
    let mut out = String::new();
    for (index, c) in ident.to_string().chars().enumerate() {
        if c.is_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn check(attr: ResourceAttr, input: DeriveInput) -> Result<CheckedResource, Rejected> {
    let mut errors = Error::accumulator();
    let named = errors.handle(named_fields(&input));
    let struct_ok = named.is_some();
    let fields = named.unwrap_or_default();
    check_attr(&attr, &input, &mut errors);
    let cursor = pagination(&attr, &mut errors);
    let rename_all = serde_rename_all(&input.attrs);
    let fields: Vec<CheckedField> = fields
        .iter()
        .filter_map(|field| check_field(&attr, field, rename_all.as_ref(), &mut errors))
        .collect();
    // Without named fields there is nothing to look for an id in: one error is enough.
    if struct_ok {
        check_unique_roles(&input, &fields, &mut errors);
    }
    check_named_fields(&attr, &fields, &mut errors);
    let default_sort = default_sort(&attr, &fields, &mut errors);
    let endpoints = attr
        .endpoints
        .as_ref()
        .and_then(|raw| check_endpoints(raw, &attr, &fields, &mut errors));
    let cascades = match &attr.cascades {
        Some(list) => table_list(list, "cascades", &mut errors),
        None => Vec::new(),
    };
    let declaration = Declaration {
        cascades,
        name: match &attr.name {
            Some(name) => name.value(),
            None => snake_name(&input.ident).replace('_', " "),
        },
        endpoints_declared: attr.endpoints.is_some(),
        fields,
        table: attr.table,
        cursor,
        default_sort,
        read_only_when: attr.read_only_when,
        input,
    };
    match errors.finish() {
        Ok(()) => Ok(CheckedResource {
            declaration,
            endpoints,
        }),
        Err(error) => Err(Rejected {
            error,
            declaration: Box::new(declaration),
        }),
    }
}

/// What can be read of a declaration whose attribute did not parse: the fields, under a
/// placeholder attribute. Its own findings are not reported (the placeholder would cause
/// some); the attribute's errors are, and the next build reports the rest.
pub(crate) fn outline(input: DeriveInput, span: Span) -> Declaration {
    let placeholder = ResourceAttr {
        table: LitStr::new("", span),
        owner: None,
        version: None,
        name: None,
        pagination: None,
        default_sort: None,
        read_only_when: None,
        cascades: None,
        endpoints: None,
    };
    let mut declaration = match check(placeholder, input) {
        Ok(checked) => checked.declaration,
        Err(rejected) => *rejected.declaration,
    };
    // Unknown: `Api::resource::<T>()` elsewhere must not add an error of its own.
    declaration.endpoints_declared = true;
    declaration
}
