//! Expands a checked workflow to builder calls. Each argument goes through a small generic
//! helper spanned on the user's token, so a type mismatch names the input and both types.

use super::parse::{Arg, Call, Output, Workflow};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit};

const GRAPH: &str = "__graph";

pub(crate) fn workflow(workflow: &Workflow<'_>) -> TokenStream {
    let graph = Ident::new(GRAPH, Span::mixed_site());
    let item = workflow.item;
    let (attrs, vis, name) = (&item.attrs, &item.vis, &item.sig.ident);
    let params = &item.sig.inputs;
    let output = workflow.output;
    let name_str = name.to_string();
    let inputs = workflow.params.iter().map(|(param, _)| {
        let label = param.to_string();
        quote!(let #param = ::choochoo::__private::input(#graph, #label, #param);)
    });
    let steps = workflow.steps.iter().map(|step| {
        let binding = step.binding;
        let add = add(&graph, &binding.to_string(), &step.call);
        // A binding nothing reads still runs (for its effects): not an unused variable.
        quote!(let #binding = #add; let _ = &#binding;)
    });
    let result = match &workflow.result {
        Output::Call(call) => add(&graph, "output", call),
        Output::Name(name) => quote!(#name),
        Output::Tuple(tuple, names) => quote_spanned!(tuple.span()=> (#(#names,)*)),
    };
    let result_span = match &workflow.result {
        Output::Call(call) => call.expr.span(),
        Output::Name(name) => name.span(),
        Output::Tuple(tuple, _) => tuple.span(),
    };
    let check_output = quote_spanned!(result_span=> ::choochoo::__private::output::<#output, _>(#result));
    quote! {
        #(#attrs)*
        #vis fn #name(#params) -> impl ::choochoo::Workflow<Output = #output> {
            ::choochoo::__private::workflow::<#output, _, _>(#name_str, move |#graph: &mut ::choochoo::Graph| {
                #(#inputs)*
                #(#steps)*
                #check_output
            })
        }
    }
}

/// `station_fn(a, 5)` → a block that wires each argument and adds the station.
fn add(graph: &Ident, label: &str, call: &Call<'_>) -> TokenStream {
    let station = station_type(call.station);
    let edges: Vec<_> = (0..call.args.len()).map(|i| format_ident!("__edge{i}", span = Span::mixed_site())).collect();
    let wires = call.args.iter().enumerate().map(|(index, arg)| {
        let edge = &edges[index];
        let wire = match arg {
            Arg::Name(name) => quote_spanned! {name.span()=>
                ::choochoo::__private::wire::<#station, #index, _>(&#name)
            },
            Arg::Literal(expr) => literal(graph, &station, index, expr),
        };
        quote!(let #edge = #wire;)
    });
    let arity = call.args.len();
    let call_span = call.expr.span();
    quote_spanned! {call_span=>
        {
            ::choochoo::__private::arity::<#station, #arity>();
            #(#wires)*
            ::choochoo::__private::add::<#station>(#graph, #label, ::std::vec![#(#edges),*])
        }
    }
}

fn literal(graph: &Ident, station: &TokenStream, index: usize, expr: &Expr) -> TokenStream {
    let is_str = matches!(expr, Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_)));
    if is_str {
        quote_spanned!(expr.span()=> ::choochoo::__private::constant_from::<#station, #index, _>(#graph, #expr))
    } else {
        quote_spanned!(expr.span()=> ::choochoo::__private::constant::<#station, #index>(#graph, #expr))
    }
}

/// `tasks::word_count` → `tasks::WordCount`, spanned on the user's fn name.
fn station_type(path: &syn::Path) -> TokenStream {
    let mut path = path.clone();
    if let Some(last) = path.segments.last_mut() {
        let camel = crate::naming::upper_camel(&last.ident.to_string());
        last.ident = Ident::new(&camel, last.ident.span());
    }
    quote!(#path)
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
        #vis fn #name(#params) -> impl ::choochoo::Workflow<Output = #output> {
            ::choochoo::__private::unbuildable::<#output>()
        }
    }
}
