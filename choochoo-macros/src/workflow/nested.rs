//! What makes a `workflow!` function callable from another `workflow!` like a station. Under
//! the function's name in the type namespace (where `#[station]` puts its station) goes
//! `Sub<__workflow_NAME, fn(A, B, ..) -> Nodes>`, the step of calling it; the hidden type
//! implements `Nested` for that signature, adding the workflow's steps to a graph with its
//! parameters fed by the caller's arguments. The workflow's own function builds its graph
//! through the same impl, so the body is expanded once.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

/// A workflow's parts that the items here are made of.
pub(crate) struct Parts<'a> {
    pub item: &'a syn::ItemFn,
    pub params: &'a [(&'a Ident, &'a Type)],
    /// The type of the output node(s): `Node<O>`, or a tuple of them.
    pub nodes: TokenStream,
}

impl Parts<'_> {
    /// The hidden type: `__workflow_NAME`.
    fn marker(&self) -> Ident {
        format_ident!("__workflow_{}", self.item.sig.ident)
    }

    /// `fn(A, B, ..) -> Nodes`.
    fn signature(&self) -> TokenStream {
        let types = self.params.iter().map(|(_, ty)| ty);
        let nodes = &self.nodes;
        quote!(fn(#(#types),*) -> #nodes)
    }

    /// The hidden type and the step under the workflow's name.
    pub(crate) fn items(&self) -> TokenStream {
        let (vis, name) = (&self.item.vis, &self.item.sig.ident);
        let marker = self.marker();
        let signature = self.signature();
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #marker {}

            #[doc(hidden)]
            #[allow(non_camel_case_types, private_interfaces)]
            #vis type #name = ::choochoo::__private::Sub<#marker, #signature>;
        }
    }

    /// The `Nested` impl: the parameters taken from the caller's edges, then `body` (the
    /// steps and the typed output), which names the graph `graph`.
    pub(crate) fn nested_impl(&self, graph: &Ident, body: TokenStream) -> TokenStream {
        let (marker, signature, nodes) = (self.marker(), self.signature(), &self.nodes);
        let name = self.item.sig.ident.to_string();
        let edges = Ident::new("__edges", Span::mixed_site());
        let names = self.params.iter().map(|(param, _)| param.to_string());
        let texts = self.params.iter().map(|(_, ty)| crate::types::text(ty));
        let params = self.params.iter().map(|(param, ty)| {
            let node = quote_spanned!(ty.span()=> ::choochoo::__private::Node<#ty>);
            quote!(let #param: #node = ::choochoo::__private::param(&mut #edges);)
        });
        quote! {
            impl ::choochoo::__private::Nested<#signature> for #marker {
                const NAME: &'static str = #name;
                const PARAMS: &'static ::choochoo::__private::Params = &::choochoo::__private::Params {
                    station: #name,
                    inputs: &[#((#names, #texts)),*],
                };

                #[allow(unused_mut, unused_variables)]
                fn build(
                    #graph: &mut ::choochoo::__private::Graph,
                    #edges: ::choochoo::__private::Vec<::choochoo::__private::Edge>,
                ) -> #nodes {
                    let mut #edges = #edges.into_iter();
                    #(#params)*
                    #body
                }
            }
        }
    }

    /// The workflow's own build: each parameter's value an input node of the graph, then
    /// the steps through the `Nested` impl.
    pub(crate) fn own_build(&self, graph: &Ident) -> TokenStream {
        let (marker, signature) = (self.marker(), self.signature());
        let inputs = self.params.iter().map(|(param, ty)| {
            let label = param.to_string();
            // The value spanned on its type: a parameter type that cannot flow is reported
            // there.
            let mut value = (*param).clone();
            value.set_span(ty.span());
            let input = quote_spanned!(ty.span()=> ::choochoo::__private::probe::Flows::input);
            quote!(let #param = #input(#value, #graph, #label);)
        });
        let edges = self
            .params
            .iter()
            .map(|(param, _)| quote!(::choochoo::__private::node_edge(#param)));
        quote! {
            #(#inputs)*
            <#marker as ::choochoo::__private::Nested<#signature>>::build(
                #graph,
                ::choochoo::__private::Vec::from([#(#edges),*]),
            )
        }
    }

    /// For a workflow whose body has errors: the step under its name still resolves, so a
    /// workflow calling it reports nothing more; it is never built.
    pub(crate) fn fallback(&self) -> TokenStream {
        let graph = Ident::new("__graph", Span::mixed_site());
        let items = self.items();
        let body = quote!(::core::unreachable!(
            "a workflow with compile errors is never built"
        ));
        let nested = self.nested_impl(&graph, body);
        quote! {
            #items
            const _: () = {
                #nested
            };
        }
    }
}
