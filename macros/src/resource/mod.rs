//! `#[resource(table = "...", ...)]`: parse (attr) → check (check, fields) → expand (expand/).
//! A rejected declaration expands to its errors and stand-ins (expand/fallback.rs), so that one
//! mistake is one message.

mod attr;
mod check;
mod expand;
mod fields;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[resource] goes on a struct with named fields\nhelp: write `#[resource(table = \"notes\")] struct Note { #[resource(id)] id: Uuid, .. }`",
            );
            let mut out = error.into_compile_error();
            out.extend(item);
            return out;
        }
    };
    let attr = match attr::parse(args) {
        Ok(attr) => attr,
        Err(error) => {
            let span = input.ident.span();
            return expand::fallback::expand(error.write_errors(), &check::outline(input, span));
        }
    };
    match check::check(attr, input) {
        Ok(checked) => expand::expand(&checked),
        Err(rejected) => {
            expand::fallback::expand(rejected.error.write_errors(), &rejected.declaration)
        }
    }
}
