//! Expands a checked workflow to builder calls. Each call hands rustc a tuple of the user's
//! arguments, spanned on their tokens, so a type mismatch points at the argument and names
//! both types, and a wrong number of arguments points at the parentheses.

use super::parse::{Arg, Call, Output, Workflow};
use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, Type};

const GRAPH: &str = "__graph";

pub(crate) fn workflow(workflow: &Workflow<'_>) -> TokenStream {
    let graph = Ident::new(GRAPH, Span::mixed_site());
    let item = workflow.item;
    let (attrs, vis, name) = (&item.attrs, &item.vis, &item.sig.ident);
    let params = &item.sig.inputs;
    let output = workflow.output;
    let name_str = name.to_string();
    let inputs = workflow.params.iter().map(|(param, ty)| {
        let label = param.to_string();
        let input = quote_spanned!(ty.span()=> ::choochoo::__private::input::<#ty>);
        quote!(let #param = #input(#graph, #label, #param);)
    });
    let steps = workflow.steps.iter().map(|step| {
        let binding = step.binding;
        let add = add(&graph, &binding.to_string(), &step.call);
        // A binding nothing reads still runs (for its effects): not an unused variable.
        quote!(let #binding = #add; let _ = &#binding;)
    });
    let result = result(&graph, workflow);
    // Spanned on the user's output expression: where the output type can only be checked
    // through `Outputs` (a type alias), rustc reports the mismatch there, once.
    let span = result_span(&workflow.result);
    let build = quote_spanned!(span=> move |#graph: &mut ::choochoo::__private::Graph| {
        #(#inputs)*
        #(#steps)*
        #result
    });
    let mut args = Group::new(Delimiter::Parenthesis, quote!(#name_str, #build));
    args.set_span(span);
    let workflow_fn = quote_spanned!(span=> ::choochoo::__private::workflow::<#output, _, _>);
    let returns = quote_spanned!(span=> impl ::choochoo::__private::Workflow<Output = #output>);
    quote! {
        #(#attrs)*
        #vis fn #name(#params) -> #returns {
            #workflow_fn #args
        }
    }
}

fn result_span(result: &Output<'_>) -> Span {
    match result {
        Output::Call(call) => call
            .station
            .segments
            .last()
            .map_or_else(|| call.expr.span(), |last| last.ident.span()),
        Output::Name(name) => name.span(),
        Output::Tuple(tuple, _) => tuple.paren_token.span.join(),
    }
}

/// The workflow's output expression, checked against the declared output type. Where the
/// nodes' type can be written from the declared type, a typed `let` makes a mismatch an
/// ordinary "expected `Node<String>`, found `Node<u64>`" on the user's expression, with
/// "expected due to this" on the declared type. Otherwise (a type alias for a tuple) the
/// `Outputs` bound of `__private::workflow` checks it, spanned on the same expression.
fn result(graph: &Ident, workflow: &Workflow<'_>) -> TokenStream {
    let output = workflow.output;
    let expr = match &workflow.result {
        Output::Call(call) => add(graph, "output", call),
        Output::Name(name) => quote!(#name),
        Output::Tuple(tuple, names) => quote_spanned!(tuple.span()=> (#(#names,)*)),
    };
    let value = Ident::new("__output", Span::mixed_site());
    let ty = match nodes_type(output, &workflow.result) {
        Some(nodes) => nodes,
        None => quote!(_),
    };
    quote! {
        let #value: #ty = #expr;
        #value
    }
}

/// `T` → `Node<T>` for a single node; `(A, B)` → `(Node<A>, Node<B>)` for a tuple of bindings.
fn nodes_type(output: &Type, result: &Output<'_>) -> Option<TokenStream> {
    let node = |ty: &Type| quote_spanned!(ty.span()=> ::choochoo::__private::Node<#ty>);
    match result {
        Output::Call(_) | Output::Name(_) => Some(node(output)),
        Output::Tuple(_, names) => match output {
            Type::Tuple(tuple) if tuple.elems.len() == names.len() => {
                let nodes = tuple.elems.iter().map(node);
                Some(quote!((#(#nodes,)*)))
            }
            Type::Paren(paren) if names.len() == 1 => nodes_type(&paren.elem, result),
            _ => None,
        },
    }
}

/// `station_fn(a, 5)` → `add(<StationFn>::default(), (a, constant(graph, 5)), graph, label)`.
/// The station is spanned on the user's call, the tuple on the user's parentheses and each
/// element on the user's argument, which is where rustc then reports a mismatch.
fn add(graph: &Ident, label: &str, call: &Call<'_>) -> TokenStream {
    if call.mapped {
        return map(graph, label, call);
    }
    let args = call.args.iter().map(|arg| match arg {
        Arg::Name(name) => quote!(#name),
        Arg::Literal(expr) => {
            let value = literal(expr);
            quote_spanned!(expr.span()=> ::choochoo::__private::constant(#graph, #value))
        }
    });
    let parens = call.expr.paren_token.span.join();
    let mut tuple = Group::new(Delimiter::Parenthesis, quote!(#(#args,)*));
    tuple.set_span(parens);
    let (station, span) = station(call);
    // The arguments come before the graph, so a literal's `constant(graph, …)` borrows it first.
    let mut add_args = Group::new(
        Delimiter::Parenthesis,
        quote!(#station, #tuple, #graph, #label),
    );
    add_args.set_span(parens);
    let add = quote_spanned!(span=> ::choochoo::__private::add);
    quote!(#add #add_args)
}

/// `map(station_fn, list, shared…)` → `map(<station_fn>::default(), &list, (shared…,), graph,
/// label)`: rustc checks that `list` is a `Node<Vec<T>>` for the station's first input `&T`,
/// on the user's `list`, and the shared arguments like any call's.
fn map(graph: &Ident, label: &str, call: &Call<'_>) -> TokenStream {
    let (list, shared) = match call.args.split_first() {
        Some((Arg::Name(list), shared)) => (list, shared),
        _ => return quote!(),
    };
    let shared = shared.iter().map(|arg| match arg {
        Arg::Name(name) => quote!(#name),
        Arg::Literal(expr) => {
            let value = literal(expr);
            quote_spanned!(expr.span()=> ::choochoo::__private::constant(#graph, #value))
        }
    });
    let list = quote_spanned!(list.span()=> &#list);
    let (station, span) = station(call);
    let map = quote_spanned!(span=> ::choochoo::__private::map);
    quote!(#map(#station, #list, (#(#shared,)*), #graph, #label))
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

/// `tasks::word_count(…)` → `<tasks::word_count as Default>::default()`: `#[station]` adds a
/// type alias named like the function, so the station is found wherever the function is in
/// scope. Spanned on the user's call and fn name: a plain fn that is not a station is then
/// one error there ("expected type, found function").
fn station(call: &Call<'_>) -> (TokenStream, Span) {
    let path = call.station;
    let span = path
        .segments
        .last()
        .map_or_else(|| path.span(), |last| last.ident.span());
    let mut parens = Group::new(Delimiter::Parenthesis, TokenStream::new());
    parens.set_span(call.expr.paren_token.span.join());
    (
        quote_spanned!(span=> <#path as ::core::default::Default>::default #parens),
        span,
    )
}

/// What is emitted when the body has errors: the same signature, so callers keep compiling.
pub(crate) fn fallback(item: &syn::ItemFn) -> TokenStream {
    let (attrs, vis, name, params) = (&item.attrs, &item.vis, &item.sig.ident, &item.sig.inputs);
    let output = match &item.sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    };
    quote! {
        #(#attrs)*
        #[allow(unused_variables)]
        #vis fn #name(#params) -> impl ::choochoo::__private::Workflow<Output = #output> {
            ::choochoo::__private::unbuildable::<#output>()
        }
    }
}
