//! `#[repository(Resource)]` on a trait of `#[query("...")]` methods: check → expand.

mod check;
mod expand;
mod sql;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_trait: syn::ItemTrait = match syn::parse2(item.clone()) {
        Ok(item_trait) => item_trait,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[repository(Resource)] goes on a trait of `#[query(\"...\")] async fn`s\nhelp: write `#[repository(Task)] pub trait TaskRepo {}`",
            );
            let mut out = error.into_compile_error();
            out.extend(item);
            return out;
        }
    };
    let args: check::RepositoryArgs = match syn::parse2(args) {
        Ok(args) => args,
        Err(error) => {
            let message = if error.to_string().contains("help:") {
                error.to_string()
            } else {
                "name the resource: `#[repository(Task)]`, or `#[repository(Task, tables(Project))]`"
                    .to_owned()
            };
            return syn::Error::new(error.span(), message).into_compile_error();
        }
    };
    match check::check(args, item_trait).map(|checked| expand::expand(&checked)) {
        Ok(tokens) => tokens,
        // Fail soft: an empty struct under the trait's name keeps later uses from erroring.
        Err(error) => error.write_errors(),
    }
}
