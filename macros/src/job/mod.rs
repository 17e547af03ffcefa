//! `#[job(queue = "mail", retries = 8, ...)]`: parse (attr) → check (check) → expand (expand),
//! as `#[endpoint]`. Checking returns a different type, so unchecked input cannot reach code
//! generation; a rejected declaration leaves a stand-in (fallback).

mod attr;
mod check;
mod expand;
mod fallback;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[job] goes on an `async fn`\nhelp: write `#[job(queue = \"mail\")] async fn name(ctx: JobCtx, input: T) -> JobResult { .. }`",
            );
            let mut out = error.into_compile_error();
            out.extend(item);
            return out;
        }
    };
    let result = attr::parse(args)
        .map_err(|error| {
            // The fn's own mistakes are independent of the attribute's: report both.
            let mut errors = darling::Error::accumulator();
            errors.push(error);
            check::check_signature(&function, &mut errors);
            darling::Error::multiple(errors.into_inner())
        })
        .and_then(|attr| check::check(attr, &function))
        .map(|checked| expand::expand(&checked));
    match result {
        Ok(tokens) => tokens,
        // Fail soft: a stand-in keeps `JobSet::job(name)` and `jobs.enqueue(name, ..)`
        // compiling, so the only errors are ours.
        Err(error) => {
            let mut out = error.write_errors();
            out.extend(fallback::stand_in(&function));
            out
        }
    }
}
