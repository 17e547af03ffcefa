//! The three input types of a resource (`NewTask`, `TaskPatch`, `TaskReplace`) and the
//! `Changes` impls that turn a patch or a replacement into bound columns.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, LitStr};

use super::{Names, bind_value};
use crate::paths::{
    BODY_VERSION, CHANGES, DESERIALIZE, INPUT, SCHEMA_DERIVE, SERDE, SERVER_SET, SERVER_SET_CHECK,
    VALIDATE, VALUE,
};
use crate::resource::check::Declaration;
use crate::resource::fields::{CheckedField, Role, Text};

/// The input types, and the `Changes` impls of the patch and the replacement.
pub(super) struct Inputs {
    pub(super) types: TokenStream,
    pub(super) changes: TokenStream,
}

/// serde attributes of a writable field in the create and replace inputs.
fn whole_field_serde(field: &CheckedField) -> TokenStream {
    let optional = field.option_of.is_some();
    let with = match (field.text, optional) {
        (Text::No, _) => None,
        (Text::Trim, false) => Some("trimmed"),
        (Text::TrimRaw, false) => Some("trimmed_allow_control"),
        (Text::TrimRaw, true) => Some("trimmed_option_allow_control"),
        (Text::Email, false) => Some("email"),
        (Text::Trim, true) => Some("trimmed_option"),
        (Text::Email, true) => Some("email_option"),
    };
    let default = (field.default || optional).then(|| quote!(default,));
    let with = with.map(|name| {
        let path = INPUT.member_lit(name);
        quote!(deserialize_with = #path,)
    });
    if default.is_none() && with.is_none() {
        return TokenStream::new();
    }
    quote!(#[serde(#default #with)])
}

/// The name of a field in the input types: its JSON name (`#[serde(rename)]`, `rename_all`),
/// so that serde and the validation errors (which use the Rust name) both say what the client
/// sent. A JSON name that is no Rust identifier keeps the field's name and a serde rename.
pub(super) fn input_name(field: &CheckedField) -> (Ident, TokenStream) {
    if field.ident == field.json_name {
        return (field.ident.clone(), TokenStream::new());
    }
    match syn::parse_str::<Ident>(&field.json_name) {
        Ok(ident) => (ident, TokenStream::new()),
        Err(_) => {
            let name = LitStr::new(&field.json_name, field.ident.span());
            (field.ident.clone(), quote!(#[serde(rename = #name)]))
        }
    }
}

/// `Option<Option<T>>` for a field declared `Option<T>`, the outer `Option` spelled as the
/// field spells its own (so it resolves where the field's does). validator's derive counts the
/// `Option`s of a field by their path, and must see both here to run the field's rules —
/// `nested` included, which has no `Option` impl — on the inner value.
fn same_option(ty: &syn::Type) -> TokenStream {
    if let syn::Type::Path(path) = ty {
        let mut outer = path.clone();
        if let Some(last) = outer.path.segments.last_mut() {
            last.arguments = syn::PathArguments::AngleBracketed(syn::parse_quote!(<#ty>));
            return quote!(#outer);
        }
    }
    quote!(::core::option::Option<#ty>)
}

/// The patch form of a field: absent leaves it, `null` clears a nullable one and is a 400 on a
/// required one.
fn patch_field(field: &CheckedField) -> (TokenStream, TokenStream) {
    let ty = &field.ty;
    if field.option_of.is_some() {
        let with = INPUT.member_lit(match field.text {
            Text::No => "nullable",
            Text::Trim => "nullable_trimmed",
            Text::TrimRaw => "nullable_trimmed_allow_control",
            Text::Email => "nullable_email",
        });
        return (
            same_option(ty),
            quote!(#[serde(default, deserialize_with = #with)]),
        );
    }
    let with = INPUT.member_lit(match field.text {
        Text::No => "present",
        Text::Trim => "present_trimmed",
        Text::TrimRaw => "present_trimmed_allow_control",
        Text::Email => "present_email",
    });
    (
        quote!(::core::option::Option<#ty>),
        // Left out keeps the value; `null` is refused, so the document says the type alone
        // (not "or null").
        quote!(#[serde(default, deserialize_with = #with)] #[schema(non_null)]),
    )
}

/// A field the client may not set, declared only to be refused with a 400 naming it.
fn server_set_field(field: &CheckedField) -> TokenStream {
    let (ident, rename) = input_name(field);
    // Any value, `null` too, is `Some` (named in the 400): serde alone reads `null` into the
    // `Option` as "absent", and `{"archived": null}` would be a write that ignored the field.
    let present = INPUT.member_lit("server_set_present");
    quote! {
        #rename
        #[serde(default, skip_serializing, deserialize_with = #present)]
        #[validate(custom(function = #SERVER_SET_CHECK))]
        #[allow(dead_code)]
        #ident: ::core::option::Option<#SERVER_SET>,
    }
}

/// The bodies of the three structs and of the two `into_changes`, one field at a time.
#[derive(Default)]
struct Bodies {
    new: TokenStream,
    patch: TokenStream,
    replace: TokenStream,
    patch_changes: TokenStream,
    replace_changes: TokenStream,
}

impl Bodies {
    fn writable(&mut self, field: &CheckedField) {
        let column = field.ident.to_string();
        let (name, rename) = input_name(field);
        let (ty, docs, validate) = (&field.ty, &field.docs, &field.validate);
        let serde = whole_field_serde(field);
        let whole = quote!(#(#docs)* #(#validate)* #rename #serde pub #name: #ty,);
        self.new.extend(whole.clone());
        self.replace.extend(whole);
        let (patch_ty, patch_serde) = patch_field(field);
        self.patch
            .extend(quote!(#(#docs)* #(#validate)* #rename #patch_serde pub #name: #patch_ty,));
        let patched = bind_value(field, quote!(value), false);
        self.patch_changes.extend(quote! {
            if let ::core::option::Option::Some(value) = self.#name {
                changes.push((#column, #patched));
            }
        });
        let replaced = bind_value(field, quote!(self.#name), false);
        self.replace_changes
            .extend(quote!(changes.push((#column, #replaced));));
    }

    fn version(&mut self, field: &CheckedField) {
        self.new.extend(server_set_field(field));
        let (name, rename) = input_name(field);
        let version = quote! {
            /// The version this change is based on (the `version` of the last read), here or
            /// as `If-Match: "<version>"`; one of the two is required. A stale one is a 409
            /// `VERSION_CONFLICT` (a stale `If-Match` a 412).
            #rename
            #[serde(default)]
            pub #name: #BODY_VERSION,
        };
        self.patch.extend(version.clone());
        self.replace.extend(version);
    }

    fn of(declaration: &Declaration) -> Self {
        let mut bodies = Self::default();
        for field in &declaration.fields {
            match field.role {
                Role::Writable => bodies.writable(field),
                Role::Version => bodies.version(field),
                // Not even named in the inputs: a client sending it gets the unknown-field 400.
                Role::Internal => {}
                _ => {
                    let forbidden = server_set_field(field);
                    bodies.new.extend(forbidden.clone());
                    bodies.patch.extend(forbidden.clone());
                    bodies.replace.extend(forbidden);
                }
            }
        }
        bodies
    }
}

fn input_struct(
    declaration: &Declaration,
    name: &Ident,
    doc: &str,
    body: &TokenStream,
) -> TokenStream {
    let vis = &declaration.input.vis;
    let serde = SERDE.lit();
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, #DESERIALIZE, #VALIDATE, #SCHEMA_DERIVE)]
        #[serde(crate = #serde, deny_unknown_fields)]
        #[allow(non_snake_case)]
        #vis struct #name {
            #body
        }
    }
}

fn changes_impl(name: &Ident, version_of_input: &TokenStream, body: &TokenStream) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl #CHANGES for #name {
            fn expected_version(&self) -> ::core::option::Option<i64> {
                #version_of_input
            }
            fn into_changes(self) -> ::std::vec::Vec<(&'static str, #VALUE)> {
                let mut changes = ::std::vec::Vec::new();
                #body
                changes
            }
        }
    }
}

pub(super) fn inputs(declaration: &Declaration, names: &Names) -> Inputs {
    let bodies = Bodies::of(declaration);
    let resource_name = &declaration.name;
    let needs_version = if declaration.versioned() {
        "; `version` (here or as `If-Match`) is required"
    } else {
        ""
    };
    let new_doc = format!("A new {resource_name}: the fields a client may set.");
    let patch_doc = format!(
        "A partial update of a {resource_name}: fields left out stay as they are{needs_version}."
    );
    let replace_doc =
        format!("A full replacement of a {resource_name}'s writable fields{needs_version}.");
    let types = [
        input_struct(declaration, &names.new, &new_doc, &bodies.new),
        input_struct(declaration, &names.patch, &patch_doc, &bodies.patch),
        input_struct(declaration, &names.replace, &replace_doc, &bodies.replace),
    ];
    // The version the client based the change on, where the input types keep it (optional).
    let version_of_input = match declaration.fields.iter().find(|f| f.role == Role::Version) {
        Some(field) => {
            let (name, _) = input_name(field);
            quote!(self.#name.0)
        }
        None => quote!(::core::option::Option::None),
    };
    let changes = [
        changes_impl(&names.patch, &version_of_input, &bodies.patch_changes),
        changes_impl(&names.replace, &version_of_input, &bodies.replace_changes),
    ];
    Inputs {
        types: quote!(#(#types)*),
        changes: quote!(#(#changes)*),
    }
}
