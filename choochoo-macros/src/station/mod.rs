//! `#[station]`: parse the options and the signature, then expand to the user's function
//! plus a unit struct implementing `choochoo::Station`.

mod asynchronous;
mod effects;
mod expand;
mod parse;
mod resources;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = syn::Error::new(error.span(), "`#[station]` goes on a plain `fn`");
            let mut out = error.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    match parse::station(args, &item) {
        Ok(model) => expand::station(&model),
        Err(errors) => {
            // Still emit the function so the rest of the user's crate type-checks.
            let mut out = errors.to_compile_errors();
            out.extend(quote::ToTokens::into_token_stream(item));
            out
        }
    }
}
