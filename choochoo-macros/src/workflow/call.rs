//! Expands one station call. The name resolves to its station, and each argument is wired
//! by a trait method called on the user's argument with the type of the input at its
//! position, so a mismatch is one error on the argument that names both types; the number
//! of arguments is [checked apart](super::stations::arity_check).

use super::parse::{Arg, Call};
use super::stations::{arg_span, name_span};
use proc_macro2::{Delimiter, Group, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit};

/// `double(x, 5)` → `add(station, [edge of x, edge of 5], graph, label)`;
/// `map(double, xs, 5)` → `map(station, list xs, [edge of 5], graph, label)`. The whole
/// expression spans the user's call, so a mismatch with a declared output type is reported
/// on the call.
pub(crate) fn call(graph: &Ident, label: &str, call: &Call<'_>, alias: &Ident) -> TokenStream {
    let span = name_span(call.station);
    let station_type = quote_spanned!(span=> <#alias as ::choochoo::__private::Resolve>::Station);
    let input = |index: usize| {
        quote_spanned! {span=>
            <<#station_type as ::choochoo::__private::Step>::Input as ::choochoo::__private::InputAt<#index>>::Type
        }
    };
    let station = quote_spanned!(span=> <#alias as ::choochoo::__private::Resolve>::resolve());
    let first = usize::from(call.mapped);
    let edges = call
        .args
        .iter()
        .enumerate()
        .skip(first)
        .map(|(index, arg)| {
            let value = argument(graph, arg);
            let input = input(index);
            quote_spanned!(arg_span(arg)=> ::choochoo::__private::Wire::<#input>::edge(#value))
        });
    let edges = quote!([#(#edges),*]);
    let (function, list) = match call.args.first() {
        Some(list @ Arg::Name(_)) if call.mapped => {
            let item = input(0);
            let value = argument(graph, list);
            let list = quote_spanned!(arg_span(list)=> ::choochoo::__private::List::<#item>::list(#value),);
            (quote_spanned!(span=> ::choochoo::__private::map), list)
        }
        _ => (quote_spanned!(span=> ::choochoo::__private::add), quote!()),
    };
    let mut args = Group::new(
        Delimiter::Parenthesis,
        quote!(#station, #list #edges, #graph, #label),
    );
    args.set_span(call.expr.paren_token.span.join());
    quote!(#function #args)
}

/// A binding or parameter as it is; a literal as a constant input.
fn argument(graph: &Ident, arg: &Arg<'_>) -> TokenStream {
    match arg {
        Arg::Name(name) => quote!(#name),
        Arg::Literal(expr) => {
            let value = literal(expr);
            quote_spanned!(expr.span()=> ::choochoo::__private::constant(#graph, #value))
        }
    }
}

/// A number or other literal stays as written, so the station's input type decides its type;
/// a string literal converts into the input's type (`String`, `PathBuf`, `File`, …).
fn literal(expr: &Expr) -> TokenStream {
    match expr {
        Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_)) => {
            quote_spanned!(expr.span()=> ::core::convert::From::from(#expr))
        }
        _ => quote!(#expr),
    }
}
