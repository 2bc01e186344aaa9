//! The names a workflow calls. Each is imported under a name of its own (`__station_0`),
//! beside a stand-in of the same name that only a real station hides: `#[station]` puts its
//! station under the function's name, so a plain function imports only the function, and
//! the stand-in then answers with one error, "`double` is not a station". Each call's number
//! of arguments is checked in a constant against the station's parameters, so a wrong count
//! is one error that names the missing inputs or the extra arguments.

use super::parse::{Arg, Call, Output, Workflow};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

/// The distinct station paths a workflow calls, in order of first use.
pub(crate) struct Stations<'a> {
    paths: Vec<(String, &'a Path)>,
}

impl<'a> Stations<'a> {
    pub(crate) fn of(workflow: &Workflow<'a>) -> Stations<'a> {
        let mut stations = Stations { paths: Vec::new() };
        for call in calls(workflow) {
            let path = call.station;
            let key = quote!(#path).to_string();
            if !stations.paths.iter().any(|(known, _)| *known == key) {
                stations.paths.push((key, call.station));
            }
        }
        stations
    }

    /// The name `path` is imported under.
    pub(crate) fn alias(&self, path: &Path) -> Ident {
        let key = quote!(#path).to_string();
        let index = self.paths.iter().position(|(known, _)| *known == key);
        alias(index.unwrap_or_default(), path)
    }

    /// The imports and their stand-ins, for the top of the workflow's body.
    pub(crate) fn imports(&self) -> TokenStream {
        let imports = self.paths.iter().enumerate().map(|(index, (_, path))| {
            let alias = alias(index, path);
            // On the user's name: an unknown name is reported there.
            quote_spanned!(name_span(path)=> #[allow(unused_imports)] use #path as #alias;)
        });
        let stand_ins = self.paths.iter().enumerate().map(|(index, (_, path))| {
            let alias = alias(index, path);
            let module = format_ident!("station_{index}");
            // Named and spanned like the function, so the error reads "`double` is not a
            // station" on the user's call.
            let name = path.segments.last().map(|last| &last.ident);
            let stand_in = quote_spanned!(name_span(path)=> pub struct #name;);
            quote! {
                mod #module {
                    #stand_in
                }
                pub use self::#module::#name as #alias;
            }
        });
        quote! {
            #(#imports)*
            #[allow(dead_code, non_camel_case_types, unused_imports, unreachable_pub)]
            mod __stand_ins {
                #(#stand_ins)*
            }
            #[allow(unused_imports)]
            use __stand_ins::*;
        }
    }
}

/// The span of the function's name in a station path: where errors about the name go.
pub(crate) fn name_span(path: &Path) -> Span {
    path.segments
        .last()
        .map_or_else(|| path.span(), |last| last.ident.span())
}

/// `__station_0`, …, spanned on the name in `path`, so every error about the name (an unknown
/// one, one that is not a station) points at the user's call.
fn alias(index: usize, path: &Path) -> Ident {
    Ident::new(&format!("__station_{index}"), name_span(path))
}

/// Every call of the workflow: the steps', then the output's.
pub(crate) fn calls<'w, 'a>(workflow: &'w Workflow<'a>) -> Vec<&'w Call<'a>> {
    let mut calls: Vec<&Call<'a>> = workflow.steps.iter().map(|step| &step.call).collect();
    if let Output::Call(call) = &workflow.result {
        calls.push(call);
    }
    calls
}

/// A constant that fails to evaluate, with a message naming the inputs, when `call` does
/// not give one argument per input of its station: on the call's parentheses when arguments
/// are missing, on the last argument when some are extra.
pub(crate) fn arity_check(call: &Call<'_>, alias: &Ident) -> TokenStream {
    let texts = call.args.iter().map(|arg| match arg {
        Arg::Name(name) => name.to_string(),
        // `- 5` as the token stream prints it, `-5` as written.
        Arg::Literal(expr) => quote!(#expr).to_string().replace("- ", "-"),
    });
    let parens = call.expr.paren_token.span.join();
    let last = call.args.last().map_or(parens, arg_span);
    let missing = quote_spanned!(parens=> ::core::panic!("{}", __message));
    let extra = quote_spanned!(last=> ::core::panic!("{}", __message));
    let params = quote_spanned!(name_span(call.station)=> <#alias as ::choochoo::__private::Resolve>::PARAMS);
    quote! {
        const _: () = if let ::core::option::Option::Some((__mistake, __message)) =
            ::choochoo::__private::arity_error(#params, &[#(#texts),*])
        {
            let __message = __message.as_str();
            match __mistake {
                ::choochoo::__private::Mistake::Missing => #missing,
                ::choochoo::__private::Mistake::Extra => #extra,
            }
        };
    }
}

/// Where errors about an argument go.
pub(crate) fn arg_span(arg: &Arg<'_>) -> Span {
    match arg {
        Arg::Name(name) => name.span(),
        Arg::Literal(expr) => expr.span(),
    }
}
