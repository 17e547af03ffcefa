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
    let args: check::RepositoryArgs = match syn::parse2(args.clone()) {
        Ok(args) => args,
        // Fail soft: the stand-in keeps the repository's uses compiling.
        Err(error) => {
            let mut out = error.into_compile_error();
            out.extend(expand::stand_in(
                &item_trait,
                check::resource_only(args).as_ref(),
            ));
            return out;
        }
    };
    let resource = args.resource.clone();
    match check::check(args, item_trait.clone()).map(|checked| expand::expand(&checked)) {
        Ok(tokens) => tokens,
        // Fail soft: a stand-in under the trait's name, with the declared methods, keeps the
        // code that uses the repository from adding errors to ours.
        Err(error) => {
            let mut out = error.write_errors();
            out.extend(expand::stand_in(&item_trait, Some(&resource)));
            out
        }
    }
}
