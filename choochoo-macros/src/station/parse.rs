//! Reads `#[station(...)]` options and the function signature into a [`Station`] model,
//! keeping the user's tokens so every error can point at them.

use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, GenericArgument, Ident, Lit, PathArguments, ReturnType, Token, Type};

/// A station as the macro understands it.
pub(crate) struct Station<'a> {
    pub item: &'a syn::ItemFn,
    pub options: Options,
    pub struct_name: Ident,
    pub takes_ctx: bool,
    /// The inputs' owned types: `String` for a parameter `&str`, `u64` for `&u64`.
    pub inputs: Vec<Type>,
    /// The parameter names of the inputs, for messages such as "input `doc` changed".
    pub input_names: Vec<String>,
    /// The inputs' types as written (`&str`), for messages about a call's arguments.
    pub input_texts: Vec<String>,
    pub output: Output,
}

/// What the function returns.
pub(crate) enum Output {
    /// `-> T`, or no return type (`()`).
    Plain(Type),
    /// `-> Result<T, E>` (any path ending in `Result`), and the span of `E` (of `Result`
    /// when it is implied, as in `io::Result<T>`), where a wrong error type is reported.
    Result(Type, Span),
}

impl Output {
    pub(crate) fn value_type(&self) -> &Type {
        match self {
            Output::Plain(ty) | Output::Result(ty, _) => ty,
        }
    }
}

/// The options written in `#[station(...)]`.
#[derive(Default)]
pub(crate) struct Options {
    pub version: Option<syn::LitInt>,
    pub name: Option<syn::LitStr>,
    pub check: Option<syn::Path>,
    pub clean: Option<syn::Path>,
    pub retries: Option<syn::LitInt>,
    /// In milliseconds.
    pub backoff: Option<u64>,
    /// In milliseconds.
    pub timeout: Option<u64>,
    pub resources: Option<Vec<syn::LitStr>>,
}

const OPTIONS: &str =
    "`version`, `name`, `check`, `clean`, `retries`, `backoff`, `timeout`, `resources`";

pub(crate) fn station(args: TokenStream, item: &syn::ItemFn) -> Result<Station<'_>, Errors> {
    let mut errors = Errors::default();
    let options = options(args, &mut errors);
    check_signature(&item.sig, &mut errors);
    let struct_name = struct_name(&item.sig.ident, &mut errors);
    let (takes_ctx, inputs, input_texts) = inputs(&item.sig, &mut errors);
    let input_names = input_names(&item.sig, takes_ctx);
    let output = output(&item.sig.output, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Station {
        item,
        options,
        struct_name,
        takes_ctx,
        inputs,
        input_names,
        input_texts,
        output,
    })
}

fn options(args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let parser = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated;
    let list = match syn::parse::Parser::parse2(parser, args) {
        Ok(list) => list,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!("expected `option = value` pairs; the options are {OPTIONS}"),
            ));
            return options;
        }
    };
    for option in list {
        let Some(key) = option.path.get_ident() else {
            errors.add(
                &option.path,
                format!("unknown station option; expected one of {OPTIONS}"),
            );
            continue;
        };
        match key.to_string().as_str() {
            "version" => match literal(&option.value) {
                Some(Lit::Int(version)) if version.base10_parse::<u64>().is_ok() => {
                    options.version = Some(version.clone())
                }
                _ => errors.add(
                    &option.value,
                    "`version` takes a whole number, e.g. `version = 2`",
                ),
            },
            "name" => match literal(&option.value) {
                Some(Lit::Str(name)) => options.name = Some(name.clone()),
                _ => errors.add(
                    &option.value,
                    "`name` takes a string, e.g. `name = \"Upload app\"`",
                ),
            },
            "check" | "clean" => match &option.value {
                Expr::Path(path) if path.qself.is_none() => {
                    let slot = if key == "check" { &mut options.check } else { &mut options.clean };
                    *slot = Some(path.path.clone());
                }
                _ => errors.add(
                    &option.value,
                    format!("`{key}` takes the path of a function, e.g. `{key} = {key}_database`"),
                ),
            },
            "retries" => match literal(&option.value) {
                Some(Lit::Int(n)) if n.base10_parse::<u32>().is_ok() => options.retries = Some(n.clone()),
                _ => errors.add(&option.value, "`retries` takes a whole number, e.g. `retries = 3`"),
            },
            "backoff" | "timeout" => match literal(&option.value).and_then(duration_ms) {
                Some(ms) => {
                    let slot = if key == "backoff" { &mut options.backoff } else { &mut options.timeout };
                    *slot = Some(ms);
                }
                None => errors.add(
                    &option.value,
                    format!("`{key}` takes a duration such as `\"250ms\"`, `\"30s\"`, `\"5m\"` or `\"1h\"`"),
                ),
            },
            "resources" => options.resources = super::resources::parse(&option.value, errors),
            _ => errors.add(
                key,
                format!("unknown station option `{key}`; expected one of {OPTIONS}"),
            ),
        }
    }
    options
}

/// `"250ms"`, `"30s"`, `"5m"`, `"1h"` → milliseconds.
fn duration_ms(lit: &Lit) -> Option<u64> {
    let Lit::Str(text) = lit else { return None };
    let text = text.value();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let scale = match &text[digits.len()..] {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(scale)
}

fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(lit) => Some(&lit.lit),
        _ => None,
    }
}

fn check_signature(sig: &syn::Signature, errors: &mut Errors) {
    if let Some(token) = &sig.unsafety {
        errors.add(token, "a station cannot be an `unsafe fn`; make the fn safe and keep `unsafe` blocks inside its body");
    }
    if let Some(abi) = &sig.abi {
        errors.add(abi, "a station cannot have an `extern` ABI; remove it");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.add(&sig.generics, "a station cannot be generic; use concrete input and output types (write one station per type)");
    }
    if let Some(variadic) = &sig.variadic {
        errors.add(variadic, "a station cannot be variadic");
    }
}

/// `word_count` → `WordCount`.
fn struct_name(ident: &Ident, errors: &mut Errors) -> Ident {
    let camel = crate::naming::upper_camel(&ident.to_string());
    if camel.is_empty() {
        errors.add(
            ident,
            "a station needs a name with letters, such as `word_count`",
        );
        return Ident::new("Station", Span::call_site());
    }
    Ident::new(&camel, ident.span())
}

fn inputs(sig: &syn::Signature, errors: &mut Errors) -> (bool, Vec<Type>, Vec<String>) {
    let mut takes_ctx = false;
    let mut inputs = Vec::new();
    let mut texts = Vec::new();
    for (index, arg) in sig.inputs.iter().enumerate() {
        let pat = match arg {
            FnArg::Receiver(receiver) => {
                errors.add(receiver, "a station is a free fn and cannot take `self`; move it out of the `impl` block and pass the value as an input");
                continue;
            }
            FnArg::Typed(pat) => pat,
        };
        let Some(elem) = input(&pat.ty, errors) else {
            continue;
        };
        if is_ctx(elem) {
            if index != 0 {
                errors.add(
                    &pat.ty,
                    "`&Ctx` must be the first parameter of a station; move it before the inputs",
                );
            }
            takes_ctx = true;
            continue;
        }
        if inputs.len() == crate::workflow::MAX_INPUTS {
            errors.add(
                &pat.ty,
                "a station takes at most 12 inputs; group some of them into a struct",
            );
            continue;
        }
        inputs.push(crate::types::owned(elem));
        texts.push(format!("&{}", crate::types::text(elem)));
    }
    (takes_ctx, inputs, texts)
}

/// The `T` of a parameter `&T`, or an error on the parameter's type.
fn input<'a>(ty: &'a Type, errors: &mut Errors) -> Option<&'a Type> {
    let Type::Reference(reference) = ty else {
        errors.add(
            ty,
            format!(
                "station inputs are taken by reference; write `{}`",
                crate::types::borrowed_text(ty)
            ),
        );
        return None;
    };
    let elem = &*reference.elem;
    if let Some(token) = &reference.mutability {
        let written = crate::types::text(elem);
        errors.add(
            token,
            format!("station inputs are read-only; write `&{written}`, not `&mut {written}`"),
        );
        return None;
    }
    if let Some(lifetime) = &reference.lifetime {
        errors.add(
            lifetime,
            "station inputs take no named lifetimes; write `&T`",
        );
        return None;
    }
    if let Type::ImplTrait(ty) = elem {
        errors.add(ty, "a station cannot be generic; use a concrete input type");
        return None;
    }
    Some(elem)
}

fn input_names(sig: &syn::Signature, takes_ctx: bool) -> Vec<String> {
    sig.inputs
        .iter()
        .skip(usize::from(takes_ctx))
        .map(|arg| match arg {
            FnArg::Typed(typed) => match &*typed.pat {
                syn::Pat::Ident(pat) => pat.ident.to_string(),
                pat => quote::quote!(#pat).to_string(),
            },
            FnArg::Receiver(_) => "self".to_owned(),
        })
        .collect()
}

fn is_ctx(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| last.ident == "Ctx" && last.arguments.is_empty()))
}

fn output(ret: &ReturnType, errors: &mut Errors) -> Output {
    let ty = match ret {
        ReturnType::Default => return Output::Plain(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => &**ty,
    };
    if let Type::ImplTrait(_) = ty {
        errors.add(
            ty,
            "a station returns a concrete type, not `impl Trait`; name the type",
        );
        return Output::Plain(ty.clone());
    }
    if let Type::Reference(reference) = ty {
        let owned = crate::types::owned_text(&reference.elem);
        errors.add(
            ty,
            format!(
                "a station returns an owned value; return `{owned}`, not `{}`",
                crate::types::text(ty)
            ),
        );
        return Output::Plain(ty.clone());
    }
    let output = match result_types(ty) {
        Some((ok, error)) => Output::Result(ok, error),
        None => Output::Plain(ty.clone()),
    };
    if is_secret(output.value_type()) {
        errors.add(
            output.value_type(),
            "a station cannot return a `Secret`: a secret is never stored; take it as an input \
             `&Secret<T>` and return what was made with it",
        );
    }
    output
}

/// `Secret<T>` (by its last path segment): the one output type known to be refused.
fn is_secret(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|last| last.ident == "Secret"))
}

/// `Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>` → `T`, and the span of `E`.
fn result_types(ty: &Type) -> Option<(Type, Span)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    let ok = types.next()?.clone();
    let error = types
        .next()
        .map_or_else(|| last.ident.span(), syn::spanned::Spanned::span);
    Some((ok, error))
}
