//! Checks a `#[resource]` declaration and turns it into a [`CheckedResource`]; every mistake
//! is reported at its token, all at once.

use darling::Error;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};

use super::attr::{EndpointsAttr, ResourceAttr, parse_field};
use crate::util::{is_snake_ident, type_head};

/// What a field is to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    Id,
    Owner,
    Version,
    Parent(syn::Path),
    CreatedAt,
    UpdatedAt,
    ReadOnly,
    /// Never serialized, never in an input: secrets and bookkeeping columns.
    Internal,
    Writable,
}

impl Role {
    /// Fields the client may set.
    pub(crate) fn writable(&self) -> bool {
        *self == Role::Writable
    }
}

/// How a string field is normalised while deserializing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    No,
    Trim,
    /// Trimmed, control characters allowed (`#[resource(allow_control)]`).
    TrimRaw,
    Email,
}

#[derive(Debug)]
pub(crate) struct CheckedField {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// `Option<T>` → T.
    pub(crate) option_of: Option<Type>,
    pub(crate) role: Role,
    pub(crate) filter: bool,
    pub(crate) sort: bool,
    /// `#[resource(json)]`: stored as JSON, bound as [`Value::Json`].
    pub(crate) json: bool,
    /// The field's name in JSON (`#[serde(rename)]`, the struct's `rename_all`), which the
    /// input types use too.
    pub(crate) json_name: String,
    pub(crate) text: Text,
    /// `#[serde(default)]` on the field: optional on create.
    pub(crate) default: bool,
    pub(crate) docs: Vec<syn::Attribute>,
    pub(crate) validate: Vec<syn::Attribute>,
}

#[derive(Debug)]
pub(crate) struct CheckedResource {
    pub(crate) input: DeriveInput,
    pub(crate) fields: Vec<CheckedField>,
    pub(crate) table: LitStr,
    pub(crate) name: String,
    pub(crate) cursor: bool,
    pub(crate) default_sort: Option<(Ident, bool)>,
    /// The `bool` column that makes a row read-only.
    pub(crate) read_only_when: Option<Ident>,
    pub(crate) endpoints: Option<EndpointsAttr>,
}

/// `Option<T>` → `T`.
fn option_inner(ty: &Type) -> Option<Type> {
    match type_head(ty)? {
        (head, args) if head == "Option" => args.into_iter().next(),
        _ => None,
    }
}

fn is_named(ty: &Type, name: &str) -> bool {
    type_head(ty).is_some_and(|(head, _)| head == name)
}

fn has_serde_default(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            let mut default = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    default = true;
                }
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            default
        })
}

/// `#[serde(rename = "...")]` on a field. The two-sided form (`rename(serialize = ..)`) would
/// give a response and its inputs different names: refused.
fn serde_rename(attrs: &[syn::Attribute]) -> syn::Result<Option<LitStr>> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if meta.input.peek(syn::Token![=]) {
                    rename = Some(meta.value()?.parse::<LitStr>()?);
                } else {
                    return Err(meta.error(
                        "a resource field has one JSON name, in its responses and its inputs\nhelp: write `#[serde(rename = \"name\")]`",
                    ));
                }
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let _: proc_macro2::TokenStream = content.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(rename)
}

/// `#[serde(rename_all = "...")]` on the struct.
fn serde_rename_all(attrs: &[syn::Attribute]) -> Option<LitStr> {
    let mut rule = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") && meta.input.peek(syn::Token![=]) {
                rule = Some(meta.value()?.parse::<LitStr>()?);
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let _: proc_macro2::TokenStream = content.parse()?;
            }
            Ok(())
        });
    }
    rule
}

fn validates_email(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("validate"))
        .any(|a| {
            let mut email = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("email") {
                    email = true;
                }
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let _: proc_macro2::TokenStream = content.parse()?;
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            email
        })
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

pub(crate) fn check(attr: ResourceAttr, input: DeriveInput) -> darling::Result<CheckedResource> {
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named.named.iter().cloned().collect::<Vec<_>>(),
            _ => {
                return Err(Error::custom(
                    "#[resource] needs a struct with named fields\nhelp: name the fields: `struct Task { id: Uuid, .. }`",
                )
                .with_span(&input.ident));
            }
        },
        Data::Enum(data) => {
            return Err(Error::custom(
                "#[resource] goes on a struct, not an enum\nhelp: a resource is a table row: declare a struct with named fields",
            )
            .with_span(&data.enum_token));
        }
        Data::Union(data) => {
            return Err(Error::custom("#[resource] goes on a struct, not a union")
                .with_span(&data.union_token));
        }
    };
    let mut errors = Error::accumulator();
    if !input.generics.params.is_empty() {
        errors.push(Error::custom("a resource cannot be generic").with_span(&input.generics));
    }
    if !is_snake_ident(&attr.table.value()) {
        errors.push(
            Error::custom("`table` must be a plain snake_case name such as \"tasks\"")
                .with_span(&attr.table),
        );
    }
    let cursor = match attr.pagination.as_ref().map(LitStr::value).as_deref() {
        None | Some("cursor") => true,
        Some("offset") => false,
        Some(_) => {
            if let Some(literal) = &attr.pagination {
                errors.push(
                    Error::custom("`pagination` is \"offset\" or \"cursor\"").with_span(literal),
                );
            }
            true
        }
    };

    let rename_all = serde_rename_all(&input.attrs);
    let mut checked = Vec::new();
    for field in &fields {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let markers = match parse_field(&field.attrs) {
            Ok(markers) => markers,
            Err(error) => {
                errors.push(error.into());
                continue;
            }
        };
        let name = ident.to_string();
        let json_name = match (serde_rename(&field.attrs), &rename_all) {
            (Err(error), _) => {
                errors.push(error.into());
                name.clone()
            }
            (Ok(Some(renamed)), _) => renamed.value(),
            (Ok(None), Some(rule)) => match crate::schema::rename(&name, rule) {
                Ok(renamed) => renamed,
                Err(error) => {
                    errors.push(error.into());
                    name.clone()
                }
            },
            (Ok(None), None) => name.clone(),
        };
        if markers.json {
            let marker = markers.filter.or(markers.sort);
            if let Some(span) = marker {
                errors.push(
                    Error::custom("a json field cannot be a filter or a sort key (a JSON document has no order or equality the list could use)\nhelp: remove `filter`/`sort`, or store the value in its own column")
                        .with_span(&span),
                );
            }
        }
        let role = if markers.id {
            Role::Id
        } else if attr.owner.as_ref().is_some_and(|o| *o == ident) {
            Role::Owner
        } else if attr.version.as_ref().is_some_and(|v| *v == ident) {
            Role::Version
        } else if let Some(parent) = markers.parent.clone() {
            Role::Parent(parent)
        } else if name == "created_at" {
            Role::CreatedAt
        } else if name == "updated_at" {
            Role::UpdatedAt
        } else if markers.internal {
            Role::Internal
        } else if markers.read_only {
            Role::ReadOnly
        } else {
            Role::Writable
        };
        match &role {
            Role::Id | Role::Owner | Role::Parent(_) if !is_named(&field.ty, "Uuid") => {
                errors.push(
                    Error::custom("ids, owners and parents are `Uuid` columns")
                        .with_span(&field.ty),
                );
            }
            Role::Version if !is_named(&field.ty, "i64") => {
                errors.push(
                    Error::custom("the version field must be an `i64`\nhelp: declare it as `pub version: i64`")
                        .with_span(&field.ty),
                );
            }
            _ => {}
        }
        let option_of = option_inner(&field.ty);
        if let Some(span) = markers.sort
            && option_of.is_some()
            && !markers.json
        {
            errors.push(
                Error::custom("a nullable field cannot be a sort key (keyset pages need a value on every row)")
                    .with_span(&span),
            );
        }
        let string = !markers.json && is_named(option_of.as_ref().unwrap_or(&field.ty), "String");
        let text = match (string, validates_email(&field.attrs)) {
            (false, _) => Text::No,
            (true, true) => Text::Email,
            (true, false) if markers.allow_control.is_some() => Text::TrimRaw,
            (true, false) => Text::Trim,
        };
        if let Some(span) = markers.allow_control
            && text != Text::TrimRaw
        {
            errors.push(
                Error::custom(
                    "`allow_control` is for `String` fields that are not emails\nhelp: remove it (other fields hold no text; an email never holds control characters)",
                )
                .with_span(&span),
            );
        }
        checked.push(CheckedField {
            ident,
            ty: field.ty.clone(),
            option_of,
            role,
            filter: markers.filter.is_some() && !markers.json,
            sort: markers.sort.is_some() && !markers.json,
            json: markers.json,
            json_name,
            text,
            default: has_serde_default(&field.attrs),
            docs: field
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect(),
            validate: field
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("validate"))
                .cloned()
                .collect(),
        });
    }

    let ids = checked.iter().filter(|f| f.role == Role::Id).count();
    if ids == 0 {
        errors.push(
            Error::custom(
                "a resource needs an id field\nhelp: mark it: `#[resource(id)] pub id: Uuid`",
            )
            .with_span(&input.ident),
        );
    } else if ids > 1 {
        errors
            .push(Error::custom("only one field can be `#[resource(id)]`").with_span(&input.ident));
    }
    if checked
        .iter()
        .filter(|f| matches!(f.role, Role::Parent(_)))
        .count()
        > 1
    {
        errors.push(Error::custom("a resource has at most one parent").with_span(&input.ident));
    }
    if let Some(flag) = &attr.read_only_when {
        match checked.iter().find(|f| f.ident == *flag) {
            None => errors.push(
                Error::custom(format!("`read_only_when = {flag}` names no field of this struct"))
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
            && !checked.iter().any(|f| f.ident == *ident)
        {
            errors.push(
                Error::custom(format!("`{what} = {ident}` names no field of this struct"))
                    .with_span(ident),
            );
        }
    }
    let default_sort = attr.default_sort.as_ref().and_then(|literal| {
        let text = literal.value();
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name.to_owned()),
            None => (false, text.clone()),
        };
        match checked.iter().find(|f| f.ident == name && f.sort) {
            Some(field) => Some((field.ident.clone(), descending)),
            None => {
                let sortable: Vec<String> = checked
                    .iter()
                    .filter(|f| f.sort)
                    .map(|f| f.ident.to_string())
                    .collect();
                errors.push(
                    Error::custom(format!(
                        "`{name}` is not a sort field of this resource\nhelp: mark the field `#[resource(sort)]`{}",
                        if sortable.is_empty() {
                            String::new()
                        } else {
                            format!(", or use one of: {}", sortable.join(", "))
                        }
                    ))
                    .with_span(literal),
                );
                None
            }
        }
    });
    if let Some(endpoints) = &attr.endpoints
        && checked.iter().any(|f| matches!(f.role, Role::Parent(_)))
    {
        errors.push(
            Error::custom("`endpoints(...)` serves top-level resources; a resource with a parent gets hand-written #[endpoint]s over its repository")
                .with_span(&endpoints.path),
        );
    }
    errors.finish()?;
    let name = match &attr.name {
        Some(name) => name.value(),
        None => snake_name(&input.ident).replace('_', " "),
    };
    Ok(CheckedResource {
        fields: checked,
        table: attr.table,
        name,
        cursor,
        default_sort,
        read_only_when: attr.read_only_when,
        endpoints: attr.endpoints,
        input,
    })
}
