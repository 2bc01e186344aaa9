//! `workflow!`: parse the body into a model of steps, check the bindings, then expand to
//! builder calls that let rustc check every edge's type on the user's argument.

mod call;
mod check;
mod expand;
mod nested;
mod parse;
mod stations;

pub(crate) use parse::MAX_INPUTS;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let item: syn::ItemFn = match syn::parse2(input) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = crate::errors::Errors::default();
    let model = parse::workflow(&item, &mut errors);
    if let Some(model) = &model {
        check::bindings(model, &mut errors);
        check::no_self_call(model, &mut errors);
    }
    match model {
        Some(model) if errors.is_empty() => expand::workflow(&model),
        _ => {
            let mut out = errors.to_compile_errors();
            out.extend(expand::fallback(&item));
            out
        }
    }
}
