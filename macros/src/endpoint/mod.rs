//! `#[endpoint(get = "/path", ...)]`: parse (attr) → check (check) → expand (expand).
//! Checking returns a different type, so unchecked input cannot reach code generation.

// `pub(crate)`: `#[resource(endpoints(...))]` parses and checks its options with these.
pub(crate) mod attr;
pub(crate) mod check;
pub(crate) mod deps;
mod expand;
mod extractors;
mod fallback;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[endpoint] goes on an `async fn`\nhelp: write `#[endpoint(get = \"/path\")] async fn name(..) -> ApiResult<T> { .. }`",
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
        // Fail soft: a stand-in keeps `Api::mount(name)` compiling, so the only errors are ours.
        Err(error) => {
            let mut out = error.write_errors();
            out.extend(fallback::stand_in(&function));
            out
        }
    }
}
