//! The optional methods of a station: its check, its clean function and its attempt policy.
//!
//! A check or a clean function is called through a small trait made for the one station,
//! implemented for every function that takes the station's inputs by reference, then its
//! output. A function of another shape does not implement it, and rustc says so with the
//! trait's message, which states the rule with the station's own types (`a check takes the
//! station's inputs by reference, then its output: fn(&str, &PathBuf) -> bool`), on the
//! user's path in `#[station(check = …)]`.

use super::expand::input_args;
use super::parse::Station;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// What a function named in the attribute does for the station.
#[derive(Clone, Copy)]
enum Role {
    Check,
    Clean,
}

impl Role {
    /// "a check", "a clean function": how the messages name it.
    fn noun(self) -> &'static str {
        match self {
            Role::Check => "a check",
            Role::Clean => "a clean function",
        }
    }

    /// What the expected signature returns, as written in the message.
    fn returns(self) -> &'static str {
        match self {
            Role::Check => " -> bool",
            Role::Clean => "",
        }
    }

    /// The trait whose message a function of the wrong shape gets; rustc names it too.
    fn trait_name(self) -> Ident {
        match self {
            Role::Check => format_ident!("__Check"),
            Role::Clean => format_ident!("__Clean"),
        }
    }

    fn may_return(self) -> &'static str {
        match self {
            Role::Check => "`Checked`, `Result<bool, E>` or `Result<Checked, E>`",
            Role::Clean => "`Result<(), E>`",
        }
    }
}

/// The optional methods: check, clean and the attempt policy.
pub(super) fn effects(station: &Station<'_>) -> TokenStream {
    let options = &station.options;
    let args = input_args(station);
    let check = options.check.as_ref().map(|path| {
        let (shape, call) = call(station, path, Role::Check);
        let into_check =
            quote_spanned!(path.span()=> ::choochoo::__private::IntoCheck::into_check(#call));
        quote! {
            fn has_check(&self) -> bool {
                true
            }

            fn check(
                &self,
                __input: <Self::Input as ::choochoo::__private::Inputs>::Refs<'_>,
                __output: &Self::Output,
            ) -> ::core::result::Result<::choochoo::__private::Checked, ::choochoo::__private::BoxError> {
                #shape
                let (#(#args,)*) = __input;
                #into_check
            }
        }
    });
    let clean = options.clean.as_ref().map(|path| {
        let (shape, call) = call(station, path, Role::Clean);
        let into_clean =
            quote_spanned!(path.span()=> ::choochoo::__private::IntoClean::into_clean(#call));
        quote! {
            fn has_clean(&self) -> bool {
                true
            }

            fn clean(
                &self,
                __input: <Self::Input as ::choochoo::__private::Inputs>::Refs<'_>,
                __output: &Self::Output,
            ) -> ::core::result::Result<(), ::choochoo::__private::BoxError> {
                #shape
                let (#(#args,)*) = __input;
                #into_clean
            }
        }
    });
    let policy = policy(station);
    quote!(#check #clean #policy)
}

/// The attempt policy the attribute sets: `retries`, `backoff`, `timeout`, and the
/// `resources` its attempts hold.
fn policy(station: &Station<'_>) -> TokenStream {
    let options = &station.options;
    let retries = options
        .retries
        .as_ref()
        .map(|n| quote!(fn retries(&self) -> u32 { #n }));
    let backoff = options.backoff.map(|ms| {
        quote!(fn backoff(&self) -> ::core::time::Duration { ::core::time::Duration::from_millis(#ms) })
    });
    let timeout = options.timeout.map(|ms| {
        quote! {
            fn timeout(&self) -> ::core::option::Option<::core::time::Duration> {
                ::core::option::Option::Some(::core::time::Duration::from_millis(#ms))
            }
        }
    });
    let resources = super::resources::expand(options.resources.as_deref());
    quote!(#retries #backoff #timeout #resources)
}

/// The items that check the shape of the function at `path`, and its call with the inputs
/// (`__input0`, …) and `__output`, spanned on `path`.
fn call(station: &Station<'_>, path: &syn::Path, role: Role) -> (TokenStream, TokenStream) {
    let span = path.span();
    let mut name = role.trait_name();
    let shape = shape(station, path, role, &name);
    name.set_span(span);
    let args = spanned(&input_args(station), span);
    let output = Ident::new("__output", span);
    let call = quote_spanned!(span=> #name::__call(&#path, #(#args,)* #output));
    (shape, call)
}

/// The trait `name`, which only functions of the right shape implement: each parameter
/// a borrowed form of its input (`&str` for a `String`), as the station's own may be. What
/// the function returns is left to `IntoCheck` or `IntoClean`, which have their own message.
fn shape(station: &Station<'_>, path: &syn::Path, role: Role, name: &Ident) -> TokenStream {
    let inputs = &station.inputs;
    let output = station.output.value_type();
    let params = input_args(station);
    let borrowed: Vec<Ident> = (0..inputs.len()).map(|i| format_ident!("__P{i}")).collect();
    let (message, label, note) = messages(station, path, role);
    // The second impl never applies (nothing implements `__Never`). It is there so that
    // rustc, finding no impl that fits, reports this trait's message rather than the first
    // impl's unmet bound (for a function of the wrong arity, "expected function that takes
    // 2 arguments", which does not say what the arguments are). The methods take `&String`
    // rather than `&str` on purpose, as the station's `run` does.
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        #[allow(clippy::ptr_arg)]
        trait #name<__Shape> {
            type Returns;
            fn __call(&self, #(#params: &#inputs,)* __output: &#output) -> Self::Returns;
        }

        #[diagnostic::do_not_recommend]
        #[allow(clippy::ptr_arg)]
        impl<__F, #(#borrowed: ?::core::marker::Sized,)* __PO: ?::core::marker::Sized, __R>
            #name<fn(#(&#borrowed,)* &__PO) -> __R> for __F
        where
            __F: ::core::ops::Fn(#(&#borrowed,)* &__PO) -> __R,
            #(#inputs: ::core::borrow::Borrow<#borrowed>,)*
            #output: ::core::borrow::Borrow<__PO>,
        {
            type Returns = __R;
            fn __call(&self, #(#params: &#inputs,)* __output: &#output) -> __R {
                self(#(::core::borrow::Borrow::borrow(#params),)* ::core::borrow::Borrow::borrow(__output))
            }
        }

        trait __Never {}
        enum __Decoy {}

        #[diagnostic::do_not_recommend]
        #[allow(clippy::ptr_arg)]
        impl<__F: __Never> #name<__Decoy> for __F {
            type Returns = ::core::convert::Infallible;
            fn __call(&self, #(_: &#inputs,)* _: &#output) -> ::core::convert::Infallible {
                ::core::unreachable!()
            }
        }
    }
}

/// The message, label and note of a function of the wrong shape.
fn messages(station: &Station<'_>, path: &syn::Path, role: Role) -> (String, String, String) {
    let message = format!(
        "{} takes the station's inputs by reference, then its output: `{}`",
        role.noun(),
        signature(station, role)
    );
    let label = format!(
        "`{}` is not {} of `{}`",
        path_text(path),
        role.noun(),
        station.item.sig.ident
    );
    let note = format!(
        "it may also return {}, and take `&str` for a `String` input, `&[T]` for a `Vec<T>`, `&Path` for a `PathBuf`",
        role.may_return()
    );
    (message, label, note)
}

/// The signature a check or clean function of the station has, with the types as the
/// station writes them: `fn(&str, &PathBuf) -> bool`. Braces are doubled: the text goes
/// into a `#[diagnostic::on_unimplemented]` format string.
fn signature(station: &Station<'_>, role: Role) -> String {
    let output = format!("&{}", crate::types::text(station.output.value_type()));
    let params: Vec<&str> = station
        .input_texts
        .iter()
        .map(String::as_str)
        .chain([output.as_str()])
        .collect();
    format!("fn({}){}", params.join(", "), role.returns())
        .replace('{', "{{")
        .replace('}', "}}")
}

/// The path as written: `is_created`, `checks::is_created`.
fn path_text(path: &syn::Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

/// The identifiers `args`, spanned on `span`.
fn spanned(args: &[Ident], span: Span) -> Vec<Ident> {
    args.iter()
        .map(|arg| {
            let mut arg = arg.clone();
            arg.set_span(span);
            arg
        })
        .collect()
}
