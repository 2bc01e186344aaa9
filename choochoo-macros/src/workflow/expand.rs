//! Expands a checked workflow to builder calls: the stations it names are imported (see
//! [`stations`](super::stations)), each call is wired on the user's tokens (see
//! [`call`](super::call)), and the output expression is checked against the declared type.

use super::nested;
use super::parse::{Call, Output, Workflow};
use super::stations::{self, Stations};
use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

const GRAPH: &str = "__graph";

pub(crate) fn workflow(workflow: &Workflow<'_>) -> TokenStream {
    let graph = Ident::new(GRAPH, Span::mixed_site());
    let stations = Stations::of(workflow);
    let item = workflow.item;
    let (attrs, vis, name) = (&item.attrs, &item.vis, &item.sig.ident);
    let params = &item.sig.inputs;
    let output = workflow.output;
    let name_str = name.to_string();
    let steps = workflow.steps.iter().map(|step| {
        let binding = step.binding;
        let add = add(&graph, &binding.to_string(), &step.call, &stations);
        // A binding nothing reads still runs (for its effects): not an unused variable.
        quote!(let #binding = #add; let _ = &#binding;)
    });
    let imports = stations.imports();
    let arity_checks = stations::calls(workflow)
        .into_iter()
        .map(|call| stations::arity_check(call, &stations.alias(call.station)));
    let result = result(&graph, workflow, &stations);
    let parts = nested::Parts {
        item,
        params: &workflow.params,
        nodes: nodes_type(output, &workflow.result),
    };
    let nested = parts.nested_impl(&graph, quote!(#(#steps)* #result));
    let items = parts.items();
    let own_build = parts.own_build(&graph);
    // Spanned on the user's output expression, where any mismatch with `Outputs` is reported.
    let span = result_span(&workflow.result);
    let build = quote_spanned!(span=> move |#graph: &mut ::choochoo::__private::Graph| {
        #own_build
    });
    let mut args = Group::new(Delimiter::Parenthesis, quote!(#name_str, #build));
    args.set_span(span);
    let workflow_fn = quote_spanned!(span=> ::choochoo::__private::workflow::<#output, _, _>);
    let returns = quote_spanned!(span=> impl ::choochoo::__private::Workflow<Output = #output>);
    quote! {
        #items

        // The steps, with the names they call imported, in a block of their own.
        const _: () = {
            #imports
            #(#arity_checks)*
            #nested
        };

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

/// The workflow's output expression, checked against the declared output type: a typed
/// `let` makes a mismatch an ordinary "expected `Node<String>`, found `Node<u64>`" on the
/// user's expression, with "expected due to this" on the declared type.
fn result(graph: &Ident, workflow: &Workflow<'_>, stations: &Stations<'_>) -> TokenStream {
    let output = workflow.output;
    let expr = match &workflow.result {
        Output::Call(call) => add(graph, "output", call, stations),
        Output::Name(name) => quote!(#name),
        Output::Tuple(tuple, names) => quote_spanned!(tuple.span()=> (#(#names,)*)),
    };
    let value = Ident::new("__output", Span::mixed_site());
    let ty = nodes_type(output, &workflow.result);
    quote! {
        let #value: #ty = #expr;
        #value
    }
}

/// `T` → `Node<T>` for a single node; `(A, B)` → `(Node<A>, Node<B>)` for a tuple of
/// bindings, through `TupleNodes` where the tuple is behind a type alias.
fn nodes_type(output: &Type, result: &Output<'_>) -> TokenStream {
    let node = |ty: &Type| quote_spanned!(ty.span()=> ::choochoo::__private::Node<#ty>);
    match (result, output) {
        (Output::Call(_) | Output::Name(_), _) => node(output),
        (Output::Tuple(..), Type::Tuple(tuple)) => {
            let nodes = tuple.elems.iter().map(node);
            quote!((#(#nodes,)*))
        }
        (Output::Tuple(_, names), Type::Paren(paren)) if names.len() == 1 => {
            nodes_type(&paren.elem, result)
        }
        (Output::Tuple(..), _) => {
            quote_spanned!(output.span()=> <#output as ::choochoo::__private::TupleNodes>::Nodes)
        }
    }
}

fn add(graph: &Ident, label: &str, call: &Call<'_>, stations: &Stations<'_>) -> TokenStream {
    super::call::call(graph, label, call, &stations.alias(call.station))
}

/// What is emitted when the body has errors: the same signature, so callers keep compiling.
pub(crate) fn fallback(item: &syn::ItemFn) -> TokenStream {
    let (attrs, vis, name, params) = (&item.attrs, &item.vis, &item.sig.ident, &item.sig.inputs);
    let output = match &item.sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    };
    let typed: Vec<(&Ident, &Type)> = params
        .iter()
        .filter_map(|arg| match arg {
            syn::FnArg::Typed(typed) => match &*typed.pat {
                syn::Pat::Ident(pat) => Some((&pat.ident, &*typed.ty)),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    // A generic signature is an error of its own: its types cannot be named outside it.
    let nested = item.sig.generics.params.is_empty().then(|| {
        nested::Parts {
            item,
            params: &typed,
            nodes: quote!(::choochoo::__private::Node<#output>),
        }
        .fallback()
    });
    quote! {
        #nested

        #(#attrs)*
        #[allow(unused_variables)]
        #vis fn #name(#params) -> impl ::choochoo::__private::Workflow<Output = #output> {
            ::choochoo::__private::unbuildable::<#output>()
        }
    }
}
