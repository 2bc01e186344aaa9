//! `#[station(resources = ["db", "gpu"])]`: the resources a station holds a unit of while it
//! runs, read from the attribute and expanded to `Station::resources`.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, Lit, LitStr};

const FORM: &str = "`resources` takes a list of names, e.g. `resources = [\"db\"]`";

/// The names of `resources = [...]`, each a non-empty string given once; `None` (and an
/// error on the user's tokens) for anything else.
pub(crate) fn parse(value: &Expr, errors: &mut Errors) -> Option<Vec<LitStr>> {
    let Expr::Array(array) = value else {
        errors.add(value, FORM);
        return None;
    };
    let mut names: Vec<LitStr> = Vec::new();
    for element in &array.elems {
        let Expr::Lit(syn::ExprLit {
            lit: Lit::Str(name),
            ..
        }) = element
        else {
            let fix = match element {
                Expr::Path(path) => format!("write `\"{}\"`", quote!(#path)),
                _ => FORM.to_owned(),
            };
            errors.add(element, format!("a resource is named by a string; {fix}"));
            continue;
        };
        if name.value().trim().is_empty() {
            errors.add(name, "a resource needs a name, such as `\"db\"`");
        } else if names.iter().any(|seen| seen.value() == name.value()) {
            errors.add(
                name,
                format!("resource `{}` is named twice; name it once", name.value()),
            );
        } else {
            names.push(name.clone());
        }
    }
    Some(names)
}

/// `Station::resources`, when the attribute names some.
pub(crate) fn expand(resources: Option<&[LitStr]>) -> TokenStream {
    match resources {
        Some(names) if !names.is_empty() => quote! {
            fn resources(&self) -> &'static [&'static str] {
                &[#(#names),*]
            }
        },
        _ => TokenStream::new(),
    }
}
