//! Code generation for a checked resource: the struct (with `Serialize` and `Schema`), its
//! three input types, `Resource` and `Changes` impls, row decoding for both backends, and —
//! with `endpoints(...)` — six `#[endpoint]`s over the generic store.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use super::check::{CheckedField, CheckedResource, Role, Text};
use crate::paths::private;

fn input_path(name: &str) -> LitStr {
    LitStr::new(
        &format!("::rampart::__private::input::{name}"),
        Span::call_site(),
    )
}

/// serde attributes of a writable field in the create and replace inputs.
fn whole_field_serde(field: &CheckedField) -> TokenStream {
    let optional = field.option_of.is_some();
    let with = match (field.text, optional) {
        (Text::No, _) => None,
        (Text::Trim, false) => Some(input_path("trimmed")),
        (Text::TrimRaw, false) => Some(input_path("trimmed_allow_control")),
        (Text::TrimRaw, true) => Some(input_path("trimmed_option_allow_control")),
        (Text::Email, false) => Some(input_path("email")),
        (Text::Trim, true) => Some(input_path("trimmed_option")),
        (Text::Email, true) => Some(input_path("email_option")),
    };
    let default = (field.default || optional).then(|| quote!(default,));
    let with = with.map(|path| quote!(deserialize_with = #path,));
    if default.is_none() && with.is_none() {
        return TokenStream::new();
    }
    quote!(#[serde(#default #with)])
}

/// The name of a field in the input types: its JSON name (`#[serde(rename)]`, `rename_all`),
/// so that serde and the validation errors (which use the Rust name) both say what the client
/// sent. A JSON name that is no Rust identifier keeps the field's name and a serde rename.
fn input_name(field: &CheckedField) -> (Ident, TokenStream) {
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

/// The bound value of a field of the row (`self.x`, borrowed) or of an input (owned).
fn bind_value(field: &CheckedField, place: TokenStream, borrowed: bool) -> TokenStream {
    let p = private();
    match (field.json, field.option_of.is_some(), borrowed) {
        (true, false, _) => quote!(#p::Value::json(&#place)),
        (true, true, _) => quote!(#p::Value::json_option(&#place)),
        (false, _, true) => quote!(#p::IntoValue::into_value(&#place)),
        (false, _, false) => quote!(#p::IntoValue::into_value(#place)),
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
    match (&field.option_of, field.text) {
        (Some(_), text) => {
            let with = input_path(match text {
                Text::No => "nullable",
                Text::Trim => "nullable_trimmed",
                Text::TrimRaw => "nullable_trimmed_allow_control",
                Text::Email => "nullable_email",
            });
            (
                same_option(ty),
                quote!(#[serde(default, deserialize_with = #with)]),
            )
        }
        (None, text) => {
            let with = input_path(match text {
                Text::No => "present",
                Text::Trim => "present_trimmed",
                Text::TrimRaw => "present_trimmed_allow_control",
                Text::Email => "present_email",
            });
            (
                quote!(::core::option::Option<#ty>),
                // Left out keeps the value; `null` is refused, so the document says the type
                // alone (not "or null").
                quote!(#[serde(default, deserialize_with = #with)] #[schema(non_null)]),
            )
        }
    }
}

fn server_set_field(field: &CheckedField) -> TokenStream {
    let p = private();
    let (ident, rename) = input_name(field);
    quote! {
        #rename
        #[serde(default, skip_serializing)]
        #[validate(custom(function = #p::input::server_set))]
        #[allow(dead_code)]
        #ident: ::core::option::Option<#p::input::ServerSet>,
    }
}

fn input_struct(
    resource: &CheckedResource,
    name: &Ident,
    doc: &str,
    body: TokenStream,
) -> TokenStream {
    let p = private();
    let vis = &resource.input.vis;
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, #p::serde::Deserialize, #p::validator::Validate, #p::Schema)]
        #[serde(crate = "::rampart::__private::serde", deny_unknown_fields)]
        #[allow(non_snake_case)]
        #vis struct #name {
            #body
        }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn column(resource: &CheckedResource, role: &Role) -> Option<String> {
    resource
        .fields
        .iter()
        .find(|f| f.role == *role)
        .map(|f| f.ident.to_string())
}

pub(crate) fn expand(resource: &CheckedResource) -> TokenStream {
    let p = private();
    let ident = &resource.input.ident;

    let mut item = super::without_markers(resource.input.clone());
    if let syn::Data::Struct(data) = &mut item.data {
        for (field, checked) in data.fields.iter_mut().zip(&resource.fields) {
            if checked.role == Role::Internal {
                // Out of the JSON and, through `Schema`, out of the OpenAPI document.
                field
                    .attrs
                    .push(syn::parse_quote!(#[serde(skip_serializing)]));
            }
        }
    }

    let new_name = format_ident!("New{}", ident);
    let patch_name = format_ident!("{}Patch", ident);
    let replace_name = format_ident!("{}Replace", ident);
    let versioned = column(resource, &Role::Version).is_some();

    let mut new_body = TokenStream::new();
    let mut patch_body = TokenStream::new();
    let mut replace_body = TokenStream::new();
    let mut patch_changes = TokenStream::new();
    let mut replace_changes = TokenStream::new();
    for field in &resource.fields {
        let column = field.ident.to_string();
        let (name, rename) = input_name(field);
        let ty = &field.ty;
        let docs = &field.docs;
        let validate = &field.validate;
        if field.role.writable() {
            let serde = whole_field_serde(field);
            let whole = quote!(#(#docs)* #(#validate)* #rename #serde pub #name: #ty,);
            new_body.extend(whole.clone());
            replace_body.extend(whole);
            let (patch_ty, patch_serde) = patch_field(field);
            patch_body
                .extend(quote!(#(#docs)* #(#validate)* #rename #patch_serde pub #name: #patch_ty,));
            let patched = bind_value(field, quote!(value), false);
            patch_changes.extend(quote! {
                if let ::core::option::Option::Some(value) = self.#name {
                    changes.push((#column, #patched));
                }
            });
            let replaced = bind_value(field, quote!(self.#name), false);
            replace_changes.extend(quote! {
                changes.push((#column, #replaced));
            });
        } else if field.role == Role::Version {
            new_body.extend(server_set_field(field));
            let version = quote! {
                /// The version this change is based on (the `version` of the last read), here or
                /// as `If-Match: "<version>"`; one of the two is required. A stale one is a 409
                /// `VERSION_CONFLICT` (a stale `If-Match` a 412).
                #rename
                #[serde(default)]
                pub #name: #p::input::BodyVersion,
            };
            patch_body.extend(version.clone());
            replace_body.extend(version);
        } else if field.role == Role::Internal {
            // Not even named in the inputs: a client sending it gets the unknown-field 400.
        } else {
            let forbidden = server_set_field(field);
            new_body.extend(forbidden.clone());
            patch_body.extend(forbidden.clone());
            replace_body.extend(forbidden);
        }
    }
    let version_field = resource.fields.iter().find(|f| f.role == Role::Version);
    // `self.version` of the resource, and of the input types (where it is optional).
    let version_of_self = option(version_field.map(|field| {
        let name = &field.ident;
        quote!(self.#name)
    }));
    let version_of_input = match version_field {
        Some(field) => {
            let (name, _) = input_name(field);
            quote!(self.#name.0)
        }
        None => quote!(::core::option::Option::None),
    };
    let resource_name = &resource.name;
    let new_doc = format!("A new {resource_name}: the fields a client may set.");
    let patch_doc = format!(
        "A partial update of a {resource_name}: fields left out stay as they are{}.",
        if versioned {
            "; `version` (here or as `If-Match`) is required"
        } else {
            ""
        }
    );
    let replace_doc = format!(
        "A full replacement of a {resource_name}'s writable fields{}.",
        if versioned {
            "; `version` (here or as `If-Match`) is required"
        } else {
            ""
        }
    );
    let new_struct = input_struct(resource, &new_name, &new_doc, new_body);
    let patch_struct = input_struct(resource, &patch_name, &patch_doc, patch_body);
    let replace_struct = input_struct(resource, &replace_name, &replace_doc, replace_body);

    // The spec.
    let table = &resource.table;
    let columns: Vec<String> = resource
        .fields
        .iter()
        .map(|f| f.ident.to_string())
        .collect();
    let id_column = column(resource, &Role::Id).unwrap_or_default();
    let owner = option(column(resource, &Role::Owner).map(|c| quote!(#c)));
    let version = option(column(resource, &Role::Version).map(|c| quote!(#c)));
    let created_at = option(column(resource, &Role::CreatedAt).map(|c| quote!(#c)));
    let updated_at = option(column(resource, &Role::UpdatedAt).map(|c| quote!(#c)));
    let read_only_when = option(
        resource
            .read_only_when
            .as_ref()
            .map(|flag| flag.to_string())
            .map(|c| quote!(#c)),
    );
    let parent_field = resource
        .fields
        .iter()
        .find(|f| matches!(f.role, Role::Parent(_)));
    let parent = option(parent_field.and_then(|field| match &field.role {
        Role::Parent(parent) => {
            let column = field.ident.to_string();
            Some(quote_spanned! {parent.span()=>
                #p::ParentSpec {
                    column: #column,
                    table: <#parent as #p::Resource>::SPEC.table,
                    id: <#parent as #p::Resource>::SPEC.id,
                    owner: <#parent as #p::Resource>::SPEC.owner,
                    read_only_when: <#parent as #p::Resource>::SPEC.read_only_when,
                }
            })
        }
        _ => None,
    }));
    let writable: Vec<String> = resource
        .fields
        .iter()
        .filter(|f| f.role.writable())
        .map(|f| f.ident.to_string())
        .collect();
    let field_spec = |field: &CheckedField| {
        let name = field.ident.to_string();
        let ty = &field.ty;
        quote_spanned!(ty.span()=> #p::Field { name: #name, kind: <#ty as #p::IntoValue>::KIND })
    };
    let filters: Vec<TokenStream> = resource
        .fields
        .iter()
        .filter(|f| f.filter)
        .map(field_spec)
        .collect();
    let sorts: Vec<TokenStream> = resource
        .fields
        .iter()
        .filter(|f| f.sort)
        .map(field_spec)
        .collect();
    let default_sort = match &resource.default_sort {
        Some((name, descending)) => {
            let field = resource
                .fields
                .iter()
                .find(|f| f.ident == *name)
                .map(field_spec);
            quote!(#p::SortOrder { field: #field, descending: #descending })
        }
        None => quote!(#p::SortOrder {
            field: #p::Field { name: #id_column, kind: #p::Kind::Uuid },
            descending: false,
        }),
    };
    let pagination = if resource.cursor {
        quote!(#p::Pagination::Cursor)
    } else {
        quote!(#p::Pagination::Offset)
    };
    let table_name = table.value();
    let labels = ["get", "list", "count", "insert", "update", "delete"]
        .map(|op| format!("{table_name}.{op}"));
    let [
        get_label,
        list_label,
        count_label,
        insert_label,
        update_label,
        delete_label,
    ] = labels;

    let id_ident = resource
        .fields
        .iter()
        .find(|f| f.role == Role::Id)
        .map(|f| &f.ident);
    let sort_arms: Vec<TokenStream> = resource
        .fields
        .iter()
        .filter(|f| f.sort || f.role == Role::Id)
        .map(|f| {
            let name = &f.ident;
            let column = name.to_string();
            quote!(#column => ::core::option::Option::Some(#p::IntoValue::into_value(&self.#name)),)
        })
        .collect();
    let assemble: Vec<TokenStream> = resource
        .fields
        .iter()
        .map(|f| {
            let name = &f.ident;
            match f.role {
                Role::Id => quote!(#name: server.id),
                Role::Owner => quote!(#name: server.owner),
                Role::Parent(_) => quote!(#name: server.parent.unwrap_or_default()),
                Role::Version => quote!(#name: 1),
                Role::CreatedAt | Role::UpdatedAt => quote!(#name: server.now),
                Role::ReadOnly | Role::Internal => {
                    quote!(#name: ::core::default::Default::default())
                }
                Role::Writable => {
                    let (input_name, _) = input_name(f);
                    quote!(#name: input.#input_name)
                }
            }
        })
        .collect();
    let row_fields: Vec<TokenStream> = resource
        .fields
        .iter()
        .map(|field| {
            let name = &field.ident;
            let column = name.to_string();
            match (&field.option_of, field.json) {
                (_, false) => quote!(#name: __rampart_row.try_get(#column)?),
                (None, true) => {
                    let ty = &field.ty;
                    quote!(#name: __rampart_row.try_get::<#p::sqlx::types::Json<#ty>, _>(#column)?.0)
                }
                (Some(inner), true) => quote! {
                    #name: __rampart_row
                        .try_get::<::core::option::Option<#p::sqlx::types::Json<#inner>>, _>(#column)?
                        .map(|json| json.0)
                },
            }
        })
        .collect();
    let values: Vec<TokenStream> = resource
        .fields
        .iter()
        .map(|field| {
            let name = &field.ident;
            bind_value(field, quote!(self.#name), true)
        })
        .collect();

    let endpoints = resource
        .endpoints
        .as_ref()
        .map(|endpoints| crud_endpoints(resource, endpoints, versioned))
        .unwrap_or_default();

    quote! {
        #[derive(#p::serde::Serialize, #p::Schema)]
        #[serde(crate = "::rampart::__private::serde")]
        #item

        #new_struct
        #patch_struct
        #replace_struct

        #[automatically_derived]
        impl #p::Changes for #patch_name {
            fn expected_version(&self) -> ::core::option::Option<i64> {
                #version_of_input
            }
            fn into_changes(self) -> ::std::vec::Vec<(&'static str, #p::Value)> {
                let mut changes = ::std::vec::Vec::new();
                #patch_changes
                changes
            }
        }

        #[automatically_derived]
        impl #p::Changes for #replace_name {
            fn expected_version(&self) -> ::core::option::Option<i64> {
                #version_of_input
            }
            fn into_changes(self) -> ::std::vec::Vec<(&'static str, #p::Value)> {
                let mut changes = ::std::vec::Vec::new();
                #replace_changes
                changes
            }
        }

        #[automatically_derived]
        impl #p::Resource for #ident {
            const SPEC: #p::ResourceSpec = #p::ResourceSpec {
                name: #resource_name,
                table: #table,
                columns: &[#(#columns),*],
                id: #id_column,
                owner: #owner,
                version: #version,
                parent: #parent,
                read_only_when: #read_only_when,
                created_at: #created_at,
                updated_at: #updated_at,
                writable: &[#(#writable),*],
                filters: &[#(#filters),*],
                sorts: &[#(#sorts),*],
                default_sort: #default_sort,
                pagination: #pagination,
                labels: #p::Labels {
                    get: #get_label,
                    list: #list_label,
                    count: #count_label,
                    insert: #insert_label,
                    update: #update_label,
                    delete: #delete_label,
                },
            };
            type Create = #new_name;
            type Patch = #patch_name;
            type Replace = #replace_name;

            fn values(&self) -> ::std::vec::Vec<#p::Value> {
                ::std::vec![#(#values),*]
            }
            fn id(&self) -> #p::uuid::Uuid {
                self.#id_ident
            }
            fn version(&self) -> ::core::option::Option<i64> {
                #version_of_self
            }
            fn sort_value(&self, column: &str) -> ::core::option::Option<#p::Value> {
                match column {
                    #(#sort_arms)*
                    _ => ::core::option::Option::None,
                }
            }
            fn statements() -> &'static #p::StatementCache {
                static STATEMENTS: #p::StatementCache = #p::StatementCache::new();
                &STATEMENTS
            }
            fn assemble(input: #new_name, server: #p::ServerFields) -> Self {
                let _ = &input;
                Self { #(#assemble),* }
            }
        }

        #[automatically_derived]
        impl<'r> #p::sqlx::FromRow<'r, #p::sqlx::sqlite::SqliteRow> for #ident {
            fn from_row(__rampart_row: &'r #p::sqlx::sqlite::SqliteRow) -> ::core::result::Result<Self, #p::sqlx::Error> {
                use #p::sqlx::Row as _;
                ::core::result::Result::Ok(Self { #(#row_fields),* })
            }
        }

        #[automatically_derived]
        impl<'r> #p::sqlx::FromRow<'r, #p::sqlx::postgres::PgRow> for #ident {
            fn from_row(__rampart_row: &'r #p::sqlx::postgres::PgRow) -> ::core::result::Result<Self, #p::sqlx::Error> {
                use #p::sqlx::Row as _;
                ::core::result::Result::Ok(Self { #(#row_fields),* })
            }
        }

        #endpoints
    }
}

/// The six CRUD endpoints of `endpoints(...)`: ordinary `#[endpoint]`s (so access, rate
/// limits and OpenAPI are exactly those of a hand-written one) over the generic store,
/// inside an anonymous const, mounted through `ResourceEndpoints`.
fn crud_endpoints(
    resource: &CheckedResource,
    endpoints: &super::attr::EndpointsAttr,
    versioned: bool,
) -> TokenStream {
    let p = private();
    let ident = &resource.input.ident;
    let path = &endpoints.path;
    let item_path = LitStr::new(
        &format!("{}/{{id}}", path.value().trim_end_matches('/')),
        path.span(),
    );
    let mut shared = TokenStream::new();
    if let Some(role) = &endpoints.role {
        shared.extend(quote!(role = #role,));
    }
    if let Some(roles) = &endpoints.roles {
        shared.extend(quote!(roles = [#(#roles),*],));
    }
    if let Some(permission) = &endpoints.permission {
        shared.extend(quote!(permission = #permission,));
    }
    if let Some(rate_limit) = &endpoints.rate_limit {
        shared.extend(quote!(rate_limit = #rate_limit,));
    }
    if let Some(burst) = &endpoints.burst {
        shared.extend(quote!(burst = #burst,));
    }
    let tag = endpoints
        .tag
        .clone()
        .unwrap_or_else(|| LitStr::new(&resource.table.value(), path.span()));
    shared.extend(quote!(tag = #tag,));
    let body_limit = endpoints
        .body_limit
        .as_ref()
        .map(|limit| quote!(body_limit = #limit,));

    let singular = resource.name.replace(' ', "_");
    let plural = resource.table.value();
    let op = |verb: &str, noun: &str| LitStr::new(&format!("{verb}_{noun}"), Span::call_site());
    let (list_id, get_id, create_id, replace_id, patch_id, delete_id) = (
        op("list", &plural),
        op("get", &singular),
        op("create", &singular),
        op("replace", &singular),
        op("patch", &singular),
        op("delete", &singular),
    );
    let name = &resource.name;
    let list_doc = format!("Lists the caller's {plural}.");
    let get_doc = format!("One of the caller's {plural}, with its version as `ETag`.");
    let create_doc = format!("Creates a {name} owned by the caller.");
    let replace_doc = format!(
        "Replaces every writable field of a {name}{}.",
        if versioned {
            " at the version given (`version` in the body, or `If-Match`)"
        } else {
            ""
        }
    );
    let patch_doc = format!(
        "Changes the fields given of a {name}{}.",
        if versioned {
            " at the version given (`version` in the body, or `If-Match`)"
        } else {
            ""
        }
    );
    let delete_doc = format!("Deletes a {name}.");
    let new_name = format_ident!("New{}", ident);
    let patch_name = format_ident!("{}Patch", ident);
    let replace_name = format_ident!("{}Replace", ident);
    // Writes and deletes: 409 (a unique value taken, a stale version, or — on delete — rows
    // still referring to this one), and 412 for a stale If-Match on versioned resources.
    let write_errors = if versioned {
        quote!(errors = [409, 412],)
    } else {
        quote!(errors = [409],)
    };

    quote! {
        const _: () = {
            #[doc = #list_doc]
            #[::rampart::__private::endpoint(get = #path, operation_id = #list_id, #shared)]
            async fn __rampart_list(
                ctx: #p::Ctx,
                store: #p::Store<#ident>,
                query: #p::ListQuery<#ident>,
            ) -> #p::ApiResult<#p::Paginated<#ident>> {
                store.list(&ctx.scope()?, &query).await
            }

            #[doc = #get_doc]
            #[::rampart::__private::endpoint(get = #item_path, operation_id = #get_id, #shared)]
            async fn __rampart_get(
                ctx: #p::Ctx,
                store: #p::Store<#ident>,
                #p::Path(id): #p::Path<#p::uuid::Uuid>,
            ) -> #p::ApiResult<#p::Tagged<#ident>> {
                store.get(&ctx.scope()?, id).await.map(#p::Tagged::new)
            }

            #[doc = #create_doc]
            #[::rampart::__private::endpoint(post = #path, operation_id = #create_id, errors = [409, 422], #body_limit #shared)]
            async fn __rampart_create(
                ctx: #p::Ctx,
                store: #p::Store<#ident>,
                uri: #p::axum::extract::OriginalUri,
                #p::Json(input): #p::Json<#new_name>,
            ) -> #p::ApiResult<#p::Created<#ident>> {
                let row = store.create(&ctx.scope()?, input).await?;
                ::core::result::Result::Ok(#p::created_under(&uri, row))
            }

            #[doc = #replace_doc]
            #[::rampart::__private::endpoint(put = #item_path, operation_id = #replace_id, #write_errors #body_limit #shared)]
            async fn __rampart_replace(
                ctx: #p::Ctx,
                store: #p::Store<#ident>,
                #p::Path(id): #p::Path<#p::uuid::Uuid>,
                if_match: #p::IfMatch,
                #p::Json(input): #p::Json<#replace_name>,
            ) -> #p::ApiResult<#p::Tagged<#ident>> {
                store.replace(&ctx.scope()?, id, input, if_match).await.map(#p::Tagged::new)
            }

            #[doc = #patch_doc]
            #[::rampart::__private::endpoint(patch = #item_path, operation_id = #patch_id, #write_errors #body_limit #shared)]
            async fn __rampart_patch(
                ctx: #p::Ctx,
                store: #p::Store<#ident>,
                #p::Path(id): #p::Path<#p::uuid::Uuid>,
                if_match: #p::IfMatch,
                #p::Json(input): #p::Json<#patch_name>,
            ) -> #p::ApiResult<#p::Tagged<#ident>> {
                store.patch(&ctx.scope()?, id, input, if_match).await.map(#p::Tagged::new)
            }

            #[doc = #delete_doc]
            #[::rampart::__private::endpoint(delete = #item_path, operation_id = #delete_id, #write_errors #shared)]
            async fn __rampart_delete(
                ctx: #p::Ctx,
                store: #p::Store<#ident>,
                #p::Path(id): #p::Path<#p::uuid::Uuid>,
                if_match: #p::IfMatch,
            ) -> #p::ApiResult<#p::NoContent> {
                store.delete(&ctx.scope()?, id, if_match).await?;
                ::core::result::Result::Ok(#p::NoContent)
            }

            #[automatically_derived]
            impl #p::ResourceEndpoints for #ident {
                fn mount(api: #p::Api) -> #p::Api {
                    api.mount(__rampart_list)
                        .mount(__rampart_get)
                        .mount(__rampart_create)
                        .mount(__rampart_replace)
                        .mount(__rampart_patch)
                        .mount(__rampart_delete)
                }
            }
        };
    }
}
