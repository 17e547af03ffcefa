//! What each field of a `#[resource]` struct is to the server: its role, JSON name, text
//! rules and list markers, read from its markers and serde attributes. Mistakes are reported
//! at the marker or the type that makes them.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::{Ident, LitStr, Type};

use super::attr::{FieldAttr, ResourceAttr, parse_field};
use crate::util::type_head;

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
    /// The `id` / `parent = ..` marker, for errors about a second one.
    pub(crate) marker: Option<Span>,
    pub(crate) filter: bool,
    pub(crate) sort: bool,
    /// `#[resource(json)]`: stored as JSON, bound as `Value::Json`.
    pub(crate) json: bool,
    /// The field's name in JSON (`#[serde(rename)]`, the struct's `rename_all`), which the
    /// input types use too.
    pub(crate) json_name: String,
    pub(crate) text: Text,
    /// `#[serde(default)]` on the field: optional on create.
    pub(crate) default: bool,
    /// Its JSON leaves it out (`internal`, or `#[serde(skip..)]`): what serde writes of a row
    /// does not give it back.
    pub(crate) left_out_of_json: bool,
    pub(crate) docs: Vec<syn::Attribute>,
    pub(crate) validate: Vec<syn::Attribute>,
}

/// `Option<T>` → `T`.
fn option_inner(ty: &Type) -> Option<Type> {
    match type_head(ty)? {
        (head, args) if head == "Option" => args.into_iter().next(),
        _ => None,
    }
}

pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    type_head(ty).is_some_and(|(head, _)| head == name)
}

/// Skips the value of a serde/validator key this reader does not care about.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: proc_macro2::TokenStream = content.parse()?;
    }
    Ok(())
}

/// Whether one of `attrs` named `outer` holds the key `key` (`#[serde(default)]`).
fn has_key(attrs: &[syn::Attribute], outer: &str, key: &str) -> bool {
    attrs.iter().filter(|a| a.path().is_ident(outer)).any(|a| {
        let mut found = false;
        let _ = a.parse_nested_meta(|meta| {
            found |= meta.path.is_ident(key);
            skip_value(&meta)
        });
        found
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
                return Ok(());
            }
            skip_value(&meta)
        })?;
    }
    Ok(rename)
}

/// `#[serde(rename_all = "...")]` on the struct.
pub(crate) fn serde_rename_all(attrs: &[syn::Attribute]) -> Option<LitStr> {
    let mut rule = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") && meta.input.peek(syn::Token![=]) {
                rule = Some(meta.value()?.parse::<LitStr>()?);
                return Ok(());
            }
            skip_value(&meta)
        });
    }
    rule
}

fn json_name(
    field: &syn::Field,
    name: &str,
    rename_all: Option<&LitStr>,
    errors: &mut Accumulator,
) -> String {
    match (serde_rename(&field.attrs), rename_all) {
        (Err(error), _) => {
            errors.push(error.into());
            name.to_owned()
        }
        (Ok(Some(renamed)), _) => renamed.value(),
        (Ok(None), Some(rule)) => crate::schema::rename(name, rule).unwrap_or_else(|error| {
            errors.push(error.into());
            name.to_owned()
        }),
        (Ok(None), None) => name.to_owned(),
    }
}

fn role_of(attr: &ResourceAttr, ident: &Ident, markers: &FieldAttr) -> Role {
    let name = ident.to_string();
    if markers.id.is_some() {
        Role::Id
    } else if attr.owner.as_ref().is_some_and(|o| o == ident) {
        Role::Owner
    } else if attr.version.as_ref().is_some_and(|v| v == ident) {
        Role::Version
    } else if let Some((_, parent)) = &markers.parent {
        Role::Parent(parent.clone())
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
    }
}

/// The type a role needs, at the field's type: the server fills these fields in itself.
fn check_role_type(role: &Role, ident: &Ident, ty: &Type, errors: &mut Accumulator) {
    let (needed, what) = match role {
        Role::Id => (
            "Uuid",
            "the id field is a `Uuid` (the server generates UUIDv7s)",
        ),
        Role::Owner => ("Uuid", "the owner field is a `Uuid`: the caller's user id"),
        Role::Parent(_) => ("Uuid", "a parent field holds the parent's id, a `Uuid`"),
        Role::Version => ("i64", "the version field must be an `i64`"),
        Role::CreatedAt | Role::UpdatedAt => (
            "DateTime",
            "the server sets this field to the current time, a `DateTime<Utc>`",
        ),
        _ => return,
    };
    if is_named(ty, needed) {
        return;
    }
    let declared = if needed == "DateTime" {
        "DateTime<Utc>"
    } else {
        needed
    };
    let rename = match role {
        Role::CreatedAt | Role::UpdatedAt => {
            ", or rename the field if the server should not set it"
        }
        _ => "",
    };
    errors.push(
        Error::custom(format!(
            "{what}\nhelp: declare it as `pub {ident}: {declared}`{rename}"
        ))
        .with_span(ty),
    );
}

/// Marker combinations that cannot work, at the marker.
fn check_markers(markers: &FieldAttr, option_of: Option<&Type>, errors: &mut Accumulator) {
    if markers.json
        && let Some(span) = markers.filter.or(markers.sort)
    {
        errors.push(
            Error::custom("a json field cannot be a filter or a sort key (a JSON document has no order or equality the list could use)\nhelp: remove `filter`/`sort`, or store the value in its own column")
                .with_span(&span),
        );
    }
    if let Some(span) = markers.sort
        && option_of.is_some()
        && !markers.json
    {
        errors.push(
            Error::custom("a nullable field cannot be a sort key (keyset pages need a value on every row)\nhelp: remove `sort`, or make the field non-optional")
                .with_span(&span),
        );
    }
}

fn text_of(
    field: &syn::Field,
    markers: &FieldAttr,
    string: bool,
    errors: &mut Accumulator,
) -> Text {
    let text = match (string, has_key(&field.attrs, "validate", "email")) {
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
    text
}

fn attrs_named(field: &syn::Field, name: &str) -> Vec<syn::Attribute> {
    field
        .attrs
        .iter()
        .filter(|a| a.path().is_ident(name))
        .cloned()
        .collect()
}

/// One field (`None` only for an unnamed one).
pub(crate) fn check_field(
    attr: &ResourceAttr,
    field: &syn::Field,
    rename_all: Option<&LitStr>,
    errors: &mut Accumulator,
) -> Option<CheckedField> {
    let ident = field.ident.clone()?;
    // Markers that do not parse are reported; the field stays, as a plain column, so the
    // stand-ins still name it.
    let markers = parse_field(&field.attrs).unwrap_or_else(|error| {
        errors.push(error.into());
        FieldAttr::default()
    });
    let name = ident.to_string();
    let json_name = json_name(field, &name, rename_all, errors);
    let role = role_of(attr, &ident, &markers);
    check_role_type(&role, &ident, &field.ty, errors);
    let option_of = option_inner(&field.ty);
    check_markers(&markers, option_of.as_ref(), errors);
    let string = !markers.json && is_named(option_of.as_ref().unwrap_or(&field.ty), "String");
    let text = text_of(field, &markers, string, errors);
    let left_out_of_json = role == Role::Internal
        || ["skip", "skip_serializing", "skip_deserializing"]
            .iter()
            .any(|key| has_key(&field.attrs, "serde", key));
    Some(CheckedField {
        marker: markers
            .id
            .or(markers.parent.as_ref().map(|(span, _)| *span)),
        ty: field.ty.clone(),
        option_of,
        role,
        filter: markers.filter.is_some() && !markers.json,
        sort: markers.sort.is_some() && !markers.json,
        json: markers.json,
        json_name,
        text,
        default: has_key(&field.attrs, "serde", "default"),
        left_out_of_json,
        docs: attrs_named(field, "doc"),
        validate: attrs_named(field, "validate"),
        ident,
    })
}
