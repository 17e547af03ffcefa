//! The `ResourceSpec` of a resource: its declaration as data, which the runtime builds its
//! statements, lists and cursors from (and `#[repository]` checks ownership against).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::option;
use crate::paths::{
    FIELD, INTO_VALUE, KIND, LABELS, PAGINATION, PARENT_SPEC, RESOURCE, RESOURCE_SPEC, SORT_ORDER,
};
use crate::resource::check::Declaration;
use crate::resource::fields::{CheckedField, Role};

fn field_spec(field: &CheckedField) -> TokenStream {
    let name = field.ident.to_string();
    let ty = &field.ty;
    quote_spanned!(ty.span()=> #FIELD { name: #name, kind: <#ty as #INTO_VALUE>::KIND })
}

/// The parent's table, id, owner and freeze flag, read from the parent's own spec.
fn parent(declaration: &Declaration) -> TokenStream {
    let parent = declaration
        .fields
        .iter()
        .find_map(|field| match &field.role {
            Role::Parent(parent) => {
                let column = field.ident.to_string();
                Some(quote_spanned! {parent.span()=>
                    #PARENT_SPEC {
                        column: #column,
                        table: <#parent as #RESOURCE>::SPEC.table,
                        id: <#parent as #RESOURCE>::SPEC.id,
                        owner: <#parent as #RESOURCE>::SPEC.owner,
                        read_only_when: <#parent as #RESOURCE>::SPEC.read_only_when,
                        cascades: <#parent as #RESOURCE>::SPEC.cascades,
                    }
                })
            }
            _ => None,
        });
    option(parent)
}

fn default_sort(declaration: &Declaration, id_column: &str) -> TokenStream {
    let declared = declaration
        .default_sort
        .as_ref()
        .and_then(|(name, descending)| {
            let field = declaration.fields.iter().find(|f| f.ident == *name)?;
            let field = field_spec(field);
            Some(quote!(#SORT_ORDER { field: #field, descending: #descending }))
        });
    declared.unwrap_or_else(|| {
        quote!(#SORT_ORDER {
            field: #FIELD { name: #id_column, kind: #KIND::Uuid },
            descending: false,
        })
    })
}

/// `db_query_duration_seconds{query}` labels: `tasks.get`, `tasks.list`, ...
fn labels(declaration: &Declaration) -> TokenStream {
    let table = declaration.table.value();
    let [get, list, count, insert, update, delete] =
        ["get", "list", "count", "insert", "update", "delete"].map(|op| format!("{table}.{op}"));
    quote! {
        #LABELS {
            get: #get,
            list: #list,
            count: #count,
            insert: #insert,
            update: #update,
            delete: #delete,
        }
    }
}

fn names_of(declaration: &Declaration, keep: impl Fn(&CheckedField) -> bool) -> Vec<String> {
    declaration
        .fields
        .iter()
        .filter(|f| keep(f))
        .map(|f| f.ident.to_string())
        .collect()
}

/// The `ResourceSpec` expression.
pub(super) fn spec(declaration: &Declaration) -> TokenStream {
    let column = |role: Role| option(declaration.column(&role).map(|c| quote!(#c)));
    let id_column = declaration.column(&Role::Id).unwrap_or_default();
    let (owner, version) = (column(Role::Owner), column(Role::Version));
    let (created_at, updated_at) = (column(Role::CreatedAt), column(Role::UpdatedAt));
    let read_only_when = option(
        declaration
            .read_only_when
            .as_ref()
            .map(|flag| flag.to_string())
            .map(|c| quote!(#c)),
    );
    let fields = |keep: fn(&CheckedField) -> bool| -> Vec<TokenStream> {
        declaration
            .fields
            .iter()
            .filter(|f| keep(f))
            .map(field_spec)
            .collect()
    };
    let (filters, sorts) = (fields(|f| f.filter), fields(|f| f.sort));
    let columns = names_of(declaration, |_| true);
    let left_out_of_json = names_of(declaration, |f| f.left_out_of_json);
    let cascades = &declaration.cascades;
    let writable = names_of(declaration, |f| f.role.writable());
    let pagination = if declaration.cursor {
        quote!(#PAGINATION::Cursor)
    } else {
        quote!(#PAGINATION::Offset)
    };
    let (name, table) = (&declaration.name, &declaration.table);
    let (parent, default_sort, labels) = (
        parent(declaration),
        default_sort(declaration, &id_column),
        labels(declaration),
    );
    quote! {
        #RESOURCE_SPEC {
            name: #name,
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
            labels: #labels,
            cascades: &[#(#cascades),*],
            left_out_of_json: &[#(#left_out_of_json),*],
        }
    }
}
