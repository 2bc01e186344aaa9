//! Procedural macros for [choochoo](https://docs.rs/choochoo): `#[station]` and `workflow!`.
//!
//! Use them through the `choochoo` crate, which re-exports both: its pages for
//! `choochoo::station` and `choochoo::workflow` are the reference. The generated code names
//! only `::choochoo::__private::…` and `::core::…` paths.

mod errors;
mod naming;
mod station;
mod types;
mod workflow;

use proc_macro::TokenStream;

/// `#[station]` is defined in the `choochoo-macros` crate and used through `choochoo`, which
/// re-exports it: `use choochoo::station;`.
#[proc_macro_attribute]
pub fn station(args: TokenStream, item: TokenStream) -> TokenStream {
    station::expand(args.into(), item.into()).into()
}

/// `workflow!` is defined in the `choochoo-macros` crate and used through `choochoo`, which
/// re-exports it: `use choochoo::workflow;`.
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    workflow::expand(input.into()).into()
}
