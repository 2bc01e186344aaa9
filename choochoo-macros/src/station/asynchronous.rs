//! `#[station] async fn`: the station's `run` drives the function's future on the run's
//! Tokio runtime, through `choochoo::__private::async_station::block_on`, which exists only
//! with choochoo's `tokio` feature; without it, its stand-in's unmet bound is one error on
//! the user's `async` that says how to turn the feature on.

use super::parse::Station;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// The function's call, awaited when it is async.
pub(super) fn awaited(station: &Station<'_>, call: TokenStream) -> TokenStream {
    match station.item.sig.asyncness {
        Some(_) => quote!(#call.await),
        None => call,
    }
}

/// `run`'s body: as it is for a plain fn; for an async fn, the body as an `async` block
/// (which borrows the context and the inputs for as long as `run` lasts) driven to its end.
pub(super) fn body(station: &Station<'_>, body: TokenStream) -> TokenStream {
    let Some(token) = station.item.sig.asyncness else {
        return body;
    };
    quote_spanned! {token.span=>
        ::choochoo::__private::async_station::block_on(__ctx, async move { #body })
    }
}

/// The `Station::is_async` of an async fn: its time limit cancels the future.
pub(super) fn is_async(station: &Station<'_>) -> TokenStream {
    match station.item.sig.asyncness {
        Some(_) => quote! {
            fn is_async(&self) -> bool {
                true
            }
        },
        None => quote!(),
    }
}
