//! The six CRUD endpoints of `endpoints(...)`: ordinary `#[endpoint]`s (so access, limits and
//! OpenAPI are exactly those of a hand-written one) over the generic store, inside an
//! anonymous const, mounted through `ResourceEndpoints`. Their options were checked once by
//! the resource's check, so none of the six reports an error of its own.

use darling::ast::NestedMeta;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, LitStr};

use super::Names;
use crate::paths::{
    API, API_RESULT, CREATED, CREATED_UNDER, CTX, ENDPOINT_ATTRIBUTE, IF_MATCH, JSON, LIST_QUERY,
    NO_CONTENT, ORIGINAL_URI, PAGINATED, PATH, PUBLIC_SCOPE, RESOURCE_ENDPOINTS, STORE, TAGGED,
    UUID,
};
use crate::resource::attr::EndpointsDecl;
use crate::resource::check::{CheckedEndpoints, Declaration};

/// The options of one generated endpoint: its own, then the user's, comma-separated.
fn options<'a>(own: TokenStream, user: impl IntoIterator<Item = &'a NestedMeta>) -> TokenStream {
    let user = user.into_iter();
    quote!(#own #(#user,)*)
}

/// Operation ids and doc comments, from the table (plural) and the singular name.
struct Docs {
    ids: [LitStr; 6],
    texts: [String; 6],
}

fn docs(declaration: &Declaration) -> Docs {
    let singular = declaration.name.replace(' ', "_");
    let plural = declaration.table.value();
    let name = &declaration.name;
    let op = |verb: &str, noun: &str| LitStr::new(&format!("{verb}_{noun}"), Span::call_site());
    let at_version = if declaration.versioned() {
        " at the version given (`version` in the body, or `If-Match`)"
    } else {
        ""
    };
    Docs {
        ids: [
            op("list", &plural),
            op("get", &singular),
            op("create", &singular),
            op("replace", &singular),
            op("patch", &singular),
            op("delete", &singular),
        ],
        texts: [
            format!("Lists the caller's {plural}."),
            format!("One of the caller's {plural}, with its version as `ETag`."),
            format!("Creates a {name} owned by the caller."),
            format!("Replaces every writable field of a {name}{at_version}."),
            format!("Changes the fields given of a {name}{at_version}."),
            format!("Deletes a {name}."),
        ],
    }
}

/// Each endpoint's `#[endpoint(...)]` arguments, in the order list, get, create, replace,
/// patch, delete.
fn arguments(declaration: &Declaration, decl: &EndpointsDecl) -> [TokenStream; 6] {
    let path = &decl.path;
    let item_path = LitStr::new(
        &format!("{}/{{id}}", path.value().trim_end_matches('/')),
        path.span(),
    );
    let tagged = decl.shared.iter().any(|item| match item {
        NestedMeta::Meta(meta) => meta.path().is_ident("tag"),
        NestedMeta::Lit(_) => false,
    });
    let tag = (!tagged).then(|| {
        let tag = LitStr::new(&declaration.table.value(), path.span());
        quote!(tag = #tag,)
    });
    let [list, get, create, replace, patch, delete] = &docs(declaration).ids;
    // Writes and deletes: 409 (a unique value taken, a stale version, or — on delete — rows
    // still referring to this one), and 412 for a stale If-Match on versioned resources.
    let write_errors = if declaration.versioned() {
        quote!(errors = [409, 412],)
    } else {
        quote!(errors = [409],)
    };
    let (shared, body, public) = (&decl.shared, &decl.body, &decl.public);
    let read = |own| options(own, shared.iter().chain(public).chain(&decl.cache));
    let with_body = |own| options(own, shared.iter().chain(body));
    [
        read(quote!(get = #path, operation_id = #list, #tag)),
        read(quote!(get = #item_path, operation_id = #get, #tag)),
        with_body(quote!(post = #path, operation_id = #create, errors = [409, 422], #tag)),
        with_body(quote!(put = #item_path, operation_id = #replace, #write_errors #tag)),
        with_body(quote!(patch = #item_path, operation_id = #patch, #write_errors #tag)),
        options(
            quote!(delete = #item_path, operation_id = #delete, #write_errors #tag),
            shared,
        ),
    ]
}

/// The generated handlers' arguments: each endpoint's `#[endpoint(...)]` options and doc.
struct Handler<'a> {
    arguments: TokenStream,
    doc: &'a str,
}

fn reads(ident: &Ident, read_scope: &TokenStream, [list, get]: [Handler<'_>; 2]) -> TokenStream {
    let (list_args, list_doc, get_args, get_doc) =
        (list.arguments, list.doc, get.arguments, get.doc);
    quote! {
            #[doc = #list_doc]
            #[#ENDPOINT_ATTRIBUTE(#list_args)]
            async fn __rampart_list(
                ctx: #CTX,
                store: #STORE<#ident>,
                query: #LIST_QUERY<#ident>,
            ) -> #API_RESULT<#PAGINATED<#ident>> {
                store.list(&#read_scope, &query).await
            }

            #[doc = #get_doc]
            #[#ENDPOINT_ATTRIBUTE(#get_args)]
            async fn __rampart_get(
                ctx: #CTX,
                store: #STORE<#ident>,
                #PATH(id): #PATH<#UUID>,
            ) -> #API_RESULT<#TAGGED<#ident>> {
                store.get(&#read_scope, id).await.map(#TAGGED::new)
            }

    }
}

fn writes(
    ident: &Ident,
    names: &Names,
    [create, replace, patch, delete]: [Handler<'_>; 4],
) -> TokenStream {
    let Names {
        new,
        patch: patch_name,
        replace: replace_name,
    } = names;
    let (create_args, create_doc) = (create.arguments, create.doc);
    let (replace_args, replace_doc) = (replace.arguments, replace.doc);
    let (patch_args, patch_doc) = (patch.arguments, patch.doc);
    let (delete_args, delete_doc) = (delete.arguments, delete.doc);
    quote! {
            #[doc = #create_doc]
            #[#ENDPOINT_ATTRIBUTE(#create_args)]
            async fn __rampart_create(
                ctx: #CTX,
                store: #STORE<#ident>,
                uri: #ORIGINAL_URI,
                #JSON(input): #JSON<#new>,
            ) -> #API_RESULT<#CREATED<#ident>> {
                let row = store.create(&ctx.scope()?, input).await?;
                ::core::result::Result::Ok(#CREATED_UNDER(&uri, row))
            }

            #[doc = #replace_doc]
            #[#ENDPOINT_ATTRIBUTE(#replace_args)]
            async fn __rampart_replace(
                ctx: #CTX,
                store: #STORE<#ident>,
                #PATH(id): #PATH<#UUID>,
                if_match: #IF_MATCH,
                #JSON(input): #JSON<#replace_name>,
            ) -> #API_RESULT<#TAGGED<#ident>> {
                store.replace(&ctx.scope()?, id, input, if_match).await.map(#TAGGED::new)
            }

            #[doc = #patch_doc]
            #[#ENDPOINT_ATTRIBUTE(#patch_args)]
            async fn __rampart_patch(
                ctx: #CTX,
                store: #STORE<#ident>,
                #PATH(id): #PATH<#UUID>,
                if_match: #IF_MATCH,
                #JSON(input): #JSON<#patch_name>,
            ) -> #API_RESULT<#TAGGED<#ident>> {
                store.patch(&ctx.scope()?, id, input, if_match).await.map(#TAGGED::new)
            }

            #[doc = #delete_doc]
            #[#ENDPOINT_ATTRIBUTE(#delete_args)]
            async fn __rampart_delete(
                ctx: #CTX,
                store: #STORE<#ident>,
                #PATH(id): #PATH<#UUID>,
                if_match: #IF_MATCH,
            ) -> #API_RESULT<#NO_CONTENT> {
                store.delete(&ctx.scope()?, id, if_match).await?;
                ::core::result::Result::Ok(#NO_CONTENT)
            }

    }
}

pub(super) fn crud_endpoints(
    declaration: &Declaration,
    names: &Names,
    endpoints: &CheckedEndpoints,
) -> TokenStream {
    let ident = &declaration.input.ident;
    let docs = docs(declaration);
    let [list, get, create, replace, patch, delete] = arguments(declaration, &endpoints.decl);
    let [
        list_doc,
        get_doc,
        create_doc,
        replace_doc,
        patch_doc,
        delete_doc,
    ] = &docs.texts;
    fn handler(arguments: TokenStream, doc: &str) -> Handler<'_> {
        Handler { arguments, doc }
    }
    // A public read serves anonymous callers too; everything else needs the caller's scope.
    let read_scope = if endpoints.decl.public.is_some() {
        quote!(#PUBLIC_SCOPE::<#ident>(&ctx)?)
    } else {
        quote!(ctx.scope()?)
    };
    let reads = reads(
        ident,
        &read_scope,
        [handler(list, list_doc), handler(get, get_doc)],
    );
    let writes = writes(
        ident,
        names,
        [
            handler(create, create_doc),
            handler(replace, replace_doc),
            handler(patch, patch_doc),
            handler(delete, delete_doc),
        ],
    );
    quote! {
        const _: () = {
            #reads
            #writes

            #[automatically_derived]
            impl #RESOURCE_ENDPOINTS for #ident {
                fn mount(api: #API) -> #API {
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
