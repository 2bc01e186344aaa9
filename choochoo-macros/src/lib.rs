//! Procedural macros for [choochoo](https://docs.rs/choochoo): `#[station]` and `workflow!`.
//!
//! Use them through the `choochoo` crate, which re-exports both and documents them; the
//! generated code names only `::choochoo::__private::…` and `::core::…` paths.

mod errors;
mod naming;
mod station;
mod types;
mod workflow;

use proc_macro::TokenStream;

/// Turns a plain function into a station. Documented on `choochoo::station`.
#[proc_macro_attribute]
pub fn station(args: TokenStream, item: TokenStream) -> TokenStream {
    station::expand(args.into(), item.into()).into()
}

/// Wires stations into a typed workflow. Documented on `choochoo::workflow`.
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    workflow::expand(input.into()).into()
}
