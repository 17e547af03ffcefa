//! The one table of runtime paths generated code uses (`::rampart::__private::...`).

use proc_macro2::TokenStream;
use quote::quote;

/// `::rampart::__private`, the hidden module every generated path starts from.
pub(crate) fn private() -> TokenStream {
    quote!(::rampart::__private)
}

/// The module `roles!` emits at the crate root; endpoints name roles and permissions in it.
pub(crate) const RBAC_MODULE: &str = "__rampart_rbac";
