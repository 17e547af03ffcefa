//! Code generation for a checked repository: a struct under the trait's name that holds the
//! resource's `Store` (get/list/create/replace/patch/delete come from it), one inherent
//! method per `#[query]`, and an extractor impl. Owner scoping is asserted at compile time
//! against the resource's declaration, spanned at the query.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{ItemTrait, TraitItem, Type};

use super::check::{CheckedQuery, CheckedRepository, Fetch, ScopeArg};
use super::sql::Access;
use crate::paths::{
    ANY_ROW_FIELDS, API_ERROR, ASSERT_CACHED_ROW, CACHE_POLICY, CACHED_QUERY, DECLARED_TABLE,
    FROM_REQUEST_PARTS, HTTP_REQUEST_PARTS, INTO_VALUE, OWNER_CHECK_DECLARED,
    OWNER_CHECK_NOT_OWNER_COLUMN, OWNER_CHECK_ONLY_OWNER_COLUMN, OWNER_CHECK_OWNER_BOUND,
    OWNER_CHECK_PARENT, OWNER_CHECK_RESOURCE, OWNER_CHECK_UNOWNED, QUERY_POLICY, REJECTED_METHOD,
    RESOURCE, ROW_FIELDS, ROW_KEPT, ROW_NOT_KEPT, ROW_PROBE, STORE, TARGET, TX, WRITES_BEYOND,
};

/// The owner rule crossing macro calls: for every table the parsed statement touches, a const
/// assertion (spanned at the SQL) that a resource the repository knows declares it and that
/// `:owner` binds its owner column as the rule for that access requires. One assertion per
/// distinct failure, so one mistake is one error.
fn owner_assertions(repository: &CheckedRepository, query: &CheckedQuery) -> TokenStream {
    let resource = &repository.resource;
    let span = query.literal.span();
    let mut known = vec![
        quote_spanned!(span=> #OWNER_CHECK_RESOURCE(&<#resource as #RESOURCE>::SPEC)),
        quote_spanned!(span=> #OWNER_CHECK_PARENT(&<#resource as #RESOURCE>::SPEC)),
    ];
    for table in &repository.tables {
        known.push(
            quote_spanned!(table.span()=> #OWNER_CHECK_RESOURCE(&<#table as #RESOURCE>::SPEC)),
        );
    }
    let anchor = resource.to_token_stream().to_string().replace(' ', "");
    // (condition, message), deduplicated by message.
    let mut checks: Vec<(TokenStream, String)> = Vec::new();
    let mut push = |condition: TokenStream, message: String| {
        if !checks.iter().any(|(_, m)| *m == message) {
            checks.push((condition, message));
        }
    };
    for table_use in &query.analysis.tables {
        let table = &table_use.table;
        let columns = &table_use.owner_columns;
        let verb = table_use.access.verb();
        push(
            quote!(#OWNER_CHECK_DECLARED(__RAMPART_TABLES, #table)),
            format!(
                "`{table}` is not the table of a resource this repository knows\nhelp: declare it with `#[resource(table = \"{table}\")]` and name that resource: `#[repository({anchor}, tables(...))]`; tables no resource declares (identity, outbox) are not queried from a repository"
            ),
        );
        match &query.scope {
            ScopeArg::Admin(_) => {}
            ScopeArg::None => push(
                quote!(#OWNER_CHECK_UNOWNED(__RAMPART_TABLES, #table)),
                format!(
                    "`{table}` is owned: a query that {verb} it must bind `:owner`\nhelp: take `scope: &Scope` and add `owner_id = :owner`, or take `&UnscopedAdmin` to cross owners"
                ),
            ),
            ScopeArg::Owner(_) if table_use.access == Access::Assign => push(
                quote!(#OWNER_CHECK_NOT_OWNER_COLUMN(__RAMPART_TABLES, #table, &[#(#columns),*])),
                format!(
                    "this statement sets the owner column of `{table}`: that hands the row to another owner\nhelp: the owner column is set when a row is created; to cross owners, take `&UnscopedAdmin`"
                ),
            ),
            ScopeArg::Owner(_) => {
                if !columns.is_empty() {
                    push(
                        quote!(#OWNER_CHECK_ONLY_OWNER_COLUMN(__RAMPART_TABLES, #table, &[#(#columns),*])),
                        format!(
                            "`:owner` is compared with or written to a column of `{table}` that is not its owner column (or `{table}` has no owner)\nhelp: use `:owner` only for the owner column"
                        ),
                    );
                }
                let (condition, message) = match table_use.access {
                    Access::Read | Access::Update | Access::Delete => (
                        quote!(#OWNER_CHECK_OWNER_BOUND(__RAMPART_TABLES, #table, &[#(#columns),*])),
                        format!(
                            "`{table}` is owned, and this statement {verb} it without `<owner column> = :owner` in a top-level AND of the WHERE (or JOIN ... ON) that applies to it\nhelp: add `AND owner_id = :owner` (qualified when several tables are named) to that WHERE; a top-level OR, a condition in another SELECT, or one on a CTE does not constrain the table"
                        ),
                    ),
                    Access::Insert => (
                        quote!(#OWNER_CHECK_OWNER_BOUND(__RAMPART_TABLES, #table, &[#(#columns),*])),
                        format!(
                            "`{table}` is owned: an INSERT into it sets its owner column from `:owner`\nhelp: name the owner column with the value `:owner`: `INSERT INTO {table} (id, owner_id, ...) VALUES (:id, :owner, ...)`"
                        ),
                    ),
                    Access::Replace | Access::Assign => (
                        quote!(#OWNER_CHECK_UNOWNED(__RAMPART_TABLES, #table)),
                        format!(
                            "`{table}` is owned: REPLACE deletes the conflicting row, whoever owns it\nhelp: use `ON CONFLICT (...) DO UPDATE SET ... WHERE {table}.owner_id = :owner`"
                        ),
                    ),
                };
                push(condition, message);
            }
        }
    }
    let assertions = checks.iter().map(|(condition, message)| {
        quote_spanned! {span=>
            const _: () = ::core::assert!(#condition, #message);
        }
    });
    quote_spanned! {span=>
        const __RAMPART_TABLES: &[::core::option::Option<#DECLARED_TABLE>] = &[#(#known),*];
        #(#assertions)*
    }
}

fn method(repository: &CheckedRepository, query: &CheckedQuery) -> TokenStream {
    let vis = &repository.item.vis;
    let signature = &query.method.sig;
    let docs: Vec<&syn::Attribute> = query
        .method
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let assertions = owner_assertions(repository, query);
    let values: Vec<TokenStream> = query
        .params
        .iter()
        .map(|param| {
            if param == "owner" {
                let scope = match &query.scope {
                    ScopeArg::Owner(ident) => ident.clone(),
                    _ => format_ident!("scope"),
                };
                quote!(#INTO_VALUE::into_value(#scope.owner()))
            } else {
                let argument = format_ident!("{}", param);
                quote!(#INTO_VALUE::into_value(#argument))
            }
        })
        .collect();
    let admin_use = match &query.scope {
        ScopeArg::Admin(ident) => quote!(let _ = &#ident;),
        _ => TokenStream::new(),
    };
    let sql = &query.sql;
    let label = format!("{}.{}", repository.item.ident, signature.ident);
    let target = if query.reads {
        quote!(#TARGET::Read)
    } else {
        quote!(#TARGET::Write)
    };
    let mut tables: Vec<&str> = Vec::new();
    let mut written: Vec<&str> = Vec::new();
    for table_use in &query.analysis.tables {
        if !tables.contains(&table_use.table.as_str()) {
            tables.push(&table_use.table);
        }
        if table_use.access != Access::Read && !written.contains(&table_use.table.as_str()) {
            written.push(&table_use.table);
        }
    }
    let (call, cached) = match &query.cache {
        None => (uncached_call(query, &label, &target), TokenStream::new()),
        Some(cache) => {
            let span = cache.span;
            let ttl = cache.ttl_ms;
            let stale_if_error = match cache.stale_if_error_ms {
                Some(ms) => quote!(::core::time::Duration::from_millis(#ms)),
                None => quote!(#CACHE_POLICY::DEFAULT_STALE_IF_ERROR),
            };
            let declaration = quote! {
                static __RAMPART_CACHE: #CACHED_QUERY = #CACHED_QUERY {
                    label: #label,
                    sql: __RAMPART_SQL,
                    policy: #QUERY_POLICY {
                        ttl: ::core::time::Duration::from_millis(#ttl),
                        stale_if_error: #stale_if_error,
                        tables: &[#(#tables),*],
                    },
                };
            };
            // A row type that cannot be kept (no serde) is one error, at `cache`: the
            // assertion reports it, and the probe's `Refused` stands in for the cached call.
            // A resource whose JSON leaves fields out (`internal`) would come back from the
            // cache without them: one error, at `cache`.
            let left_out = format!(
                "`{}` leaves fields out of its JSON (`#[resource(internal)]` or `#[serde(skip..)]`), and a query cache keeps rows as JSON: they would come back defaulted, or not at all\nhelp: cache a row type of the columns the caller needs (a tuple, or a struct with `sqlx::FromRow` and serde), or remove `cache`",
                cache_row_name(&query.fetch)
            );
            let probed = |ty: &Type, method: TokenStream| {
                quote_spanned! {span=>
                    {
                        #[allow(unused_imports)]
                        use #ROW_KEPT as _;
                        #[allow(unused_imports)]
                        use #ROW_NOT_KEPT as _;
                        #[allow(unused_imports)]
                        use #ANY_ROW_FIELDS as _;
                        const _: () = ::core::assert!(
                            #ROW_FIELDS::<#ty>::LEFT_OUT_OF_JSON.is_empty(),
                            #left_out
                        );
                        #ASSERT_CACHED_ROW::<#ty>();
                        (&#ROW_PROBE::<#ty>::new())
                            .status()
                            .#method::<_, #ty>(&self.store, &__RAMPART_CACHE, __rampart_values)
                    }
                }
            };
            let call = match &query.fetch {
                Fetch::All(ty) => probed(ty, quote!(cached_all)),
                Fetch::Optional(ty) => probed(ty, quote!(cached_optional)),
                Fetch::One(ty) => probed(ty, quote!(cached_one)),
                // A write is refused `cache` by the check; a count is always kept.
                Fetch::Scalar | Fetch::Affected => {
                    quote_spanned!(span=> self.store.cached_scalar(&__RAMPART_CACHE, __rampart_values))
                }
            };
            (call, declaration)
        }
    };
    // A write's own resource's table (and its `cascades`) is made stale by the store; the
    // others it writes, the tables they cascade to and those it declares (`invalidates`),
    // here. A write of its own table alone makes no call (the const folds the branch away).
    let resource = &repository.resource;
    let invalidate = if !query.invalidates.is_empty() {
        let invalidates = &query.invalidates;
        quote!(self.store.invalidate(&[#(#written,)* #(#invalidates),*], __RAMPART_TABLES).await;)
    } else if written.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            const __RAMPART_WRITES_BEYOND: bool =
                #WRITES_BEYOND(&<#resource as #RESOURCE>::SPEC, &[#(#written),*]);
            if __RAMPART_WRITES_BEYOND {
                self.store.invalidate(&[#(#written),*], __RAMPART_TABLES).await;
            }
        }
    };
    quote! {
        #(#docs)*
        #vis #signature {
            #assertions
            #admin_use
            const __RAMPART_SQL: &str = #sql;
            #cached
            let __rampart_values = ::std::vec![#(#values),*];
            let __rampart_answer = #call.await;
            #invalidate
            __rampart_answer
        }
    }
}

/// The row type of a cached read, as written (for its message).
fn cache_row_name(fetch: &Fetch) -> String {
    match fetch {
        Fetch::All(ty) | Fetch::Optional(ty) | Fetch::One(ty) => {
            ty.to_token_stream().to_string().replace(' ', "")
        }
        Fetch::Scalar | Fetch::Affected => String::new(),
    }
}

/// The store call of a query run every time.
fn uncached_call(query: &CheckedQuery, label: &str, target: &TokenStream) -> TokenStream {
    match &query.fetch {
        Fetch::All(ty) => {
            quote!(self.store.fetch_all::<#ty>(#label, #target, __RAMPART_SQL, __rampart_values))
        }
        Fetch::Optional(ty) => {
            quote!(self.store.fetch_optional::<#ty>(#label, #target, __RAMPART_SQL, __rampart_values))
        }
        Fetch::One(ty) => {
            quote!(self.store.fetch_one::<#ty>(#label, #target, __RAMPART_SQL, __rampart_values))
        }
        Fetch::Affected => quote!(self.store.execute(#label, __RAMPART_SQL, __rampart_values)),
        Fetch::Scalar => {
            quote!(self.store.fetch_scalar(#label, #target, __RAMPART_SQL, __rampart_values))
        }
    }
}

pub(crate) fn expand(repository: &CheckedRepository) -> TokenStream {
    let methods: Vec<TokenStream> = repository
        .queries
        .iter()
        .map(|q| method(repository, q))
        .collect();
    structure(&repository.item, &repository.resource, &methods)
}

/// What a rejected repository leaves in place of the trait (fail soft): the same struct, with
/// every declared method under its own signature, so the code that uses the repository
/// compiles against it and the macro's errors are the only ones. `resource` is `None` when the
/// arguments do not name one; the struct then has only the methods.
pub(crate) fn stand_in(item: &ItemTrait, resource: Option<&Type>) -> TokenStream {
    let vis = &item.vis;
    let methods: Vec<TokenStream> = item
        .items
        .iter()
        .filter_map(|trait_item| match trait_item {
            TraitItem::Fn(method) => Some(method),
            _ => None,
        })
        .map(|method| {
            let signature = &method.sig;
            let docs = method.attrs.iter().filter(|a| a.path().is_ident("doc"));
            quote! {
                #(#docs)*
                #[allow(unused_variables, clippy::unused_async)]
                #vis #signature {
                    #REJECTED_METHOD()
                }
            }
        })
        .collect();
    match resource {
        Some(resource) => structure(item, resource, &methods),
        None => {
            let name = &item.ident;
            quote! {
                #vis struct #name;

                #[automatically_derived]
                impl #name {
                    #(#methods)*
                }
            }
        }
    }
}

fn structure(item: &ItemTrait, resource: &Type, methods: &[TokenStream]) -> TokenStream {
    let vis = &item.vis;
    let name = &item.ident;
    let docs: Vec<&syn::Attribute> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    quote! {
        #(#docs)*
        ///
        /// Generated by `#[repository]`: dereferences to the resource's `Store` for `get`,
        /// `list`, `create`, `replace`, `patch` and `delete`; it is also an extractor.
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #name {
            store: #STORE<#resource>,
        }

        #[automatically_derived]
        impl #name {
            /// A repository over a store.
            #vis fn new(store: #STORE<#resource>) -> Self {
                Self { store }
            }

            /// The same repository, running its statements inside `tx`.
            #vis fn in_tx(&self, tx: &#TX) -> Self {
                Self { store: self.store.in_tx(tx) }
            }

            #(#methods)*
        }

        #[automatically_derived]
        impl ::core::ops::Deref for #name {
            type Target = #STORE<#resource>;
            fn deref(&self) -> &Self::Target {
                &self.store
            }
        }

        #[automatically_derived]
        impl<S: ::core::marker::Send + ::core::marker::Sync> #FROM_REQUEST_PARTS<S> for #name {
            type Rejection = #API_ERROR;

            async fn from_request_parts(
                parts: &mut #HTTP_REQUEST_PARTS,
                state: &S,
            ) -> ::core::result::Result<Self, Self::Rejection> {
                let store = <#STORE<#resource> as #FROM_REQUEST_PARTS<S>>::from_request_parts(parts, state).await?;
                ::core::result::Result::Ok(Self { store })
            }
        }
    }
}
