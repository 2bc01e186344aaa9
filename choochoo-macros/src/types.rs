//! Types as the macros read and write them: the owned input type behind an ordinary
//! borrowed parameter (`&str` reads a `String`, `&[T]` a `Vec<T>`, `&Path` a `PathBuf`),
//! and a type as the user wrote it, for messages.

use syn::spanned::Spanned;
use syn::{PathArguments, Type};

/// A borrowed form and the owned type it borrows from.
enum Form<'a> {
    Str,
    Slice(&'a Type),
    Path,
    Other,
}

fn form(elem: &Type) -> Form<'_> {
    match elem {
        Type::Slice(slice) => Form::Slice(&slice.elem),
        Type::Path(path) if path.qself.is_none() => {
            let names: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|segment| match segment.arguments {
                    PathArguments::None => segment.ident.to_string(),
                    _ => String::new(),
                })
                .collect();
            if names == ["str"] {
                Form::Str
            } else if is_std_path(&names) {
                Form::Path
            } else {
                Form::Other
            }
        }
        _ => Form::Other,
    }
}

/// `Path`, `path::Path` or `std::path::Path` (not another crate's `Path`).
fn is_std_path(names: &[String]) -> bool {
    const FULL: [&str; 3] = ["std", "path", "Path"];
    names.len() <= FULL.len()
        && names
            .iter()
            .rev()
            .zip(FULL.iter().rev())
            .all(|(a, b)| a == b)
}

/// The input type of a parameter `&elem`: `String` for `&str`, `Vec<T>` for `&[T]`,
/// `PathBuf` for `&Path`, else `elem` itself. Spanned on `elem`, so errors about the input
/// type point at what the user wrote.
pub(crate) fn owned(elem: &Type) -> Type {
    let span = elem.span();
    match form(elem) {
        Form::Str => syn::parse_quote_spanned!(span=> ::choochoo::__private::String),
        Form::Slice(item) => syn::parse_quote_spanned!(span=> ::choochoo::__private::Vec<#item>),
        Form::Path => syn::parse_quote_spanned!(span=> ::choochoo::__private::PathBuf),
        Form::Other => elem.clone(),
    }
}

/// `String` for `str`, `Vec<T>` for `[T]`, `PathBuf` for `Path`: what a station returns
/// instead of a reference.
pub(crate) fn owned_text(elem: &Type) -> String {
    match form(elem) {
        Form::Str => "String".to_owned(),
        Form::Slice(item) => format!("Vec<{}>", text(item)),
        Form::Path => "PathBuf".to_owned(),
        Form::Other => text(elem),
    }
}

/// The parameter to write for an input of type `ty`: `&str` for `String`, `&[T]` for
/// `Vec<T>`, `&Path` for `PathBuf`, else `&ty`.
pub(crate) fn borrowed_text(ty: &Type) -> String {
    let last = match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    };
    let Some(last) = last else {
        return format!("&{}", text(ty));
    };
    match &last.arguments {
        PathArguments::None if last.ident == "String" => "&str".to_owned(),
        PathArguments::None if last.ident == "PathBuf" => "&Path".to_owned(),
        PathArguments::AngleBracketed(args) if last.ident == "Vec" && args.args.len() == 1 => {
            match args.args.first() {
                Some(syn::GenericArgument::Type(item)) => format!("&[{}]", text(item)),
                _ => format!("&{}", text(ty)),
            }
        }
        _ => format!("&{}", text(ty)),
    }
}

/// A type as the user wrote it: `Vec<String>`, not the token stream's `Vec < String >`.
pub(crate) fn text(ty: &Type) -> String {
    const TIGHT: [(&str, &str); 11] = [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
    ];
    let mut text = quote::quote!(#ty).to_string();
    for (spaced, tight) in TIGHT {
        text = text.replace(spaced, tight);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).unwrap()
    }

    fn owned_of(text: &str) -> String {
        let owned = owned(&ty(text));
        crate::types::text(&owned)
    }

    #[test]
    fn a_borrowed_parameter_reads_its_owned_type() {
        assert_eq!(owned_of("str"), "::choochoo::__private::String");
        assert_eq!(owned_of("[u64]"), "::choochoo::__private::Vec<u64>");
        assert_eq!(owned_of("Path"), "::choochoo::__private::PathBuf");
        assert_eq!(
            owned_of("std::path::Path"),
            "::choochoo::__private::PathBuf"
        );
        assert_eq!(owned_of("String"), "String");
        assert_eq!(owned_of("Vec<u64>"), "Vec<u64>");
    }

    #[test]
    fn another_crates_path_is_its_own_type() {
        assert_eq!(owned_of("syn::Path"), "syn::Path");
        assert_eq!(owned_of("my::str"), "my::str");
    }

    #[test]
    fn messages_suggest_the_ordinary_forms() {
        assert_eq!(borrowed_text(&ty("String")), "&str");
        assert_eq!(borrowed_text(&ty("Vec<Vec<u8>>")), "&[Vec<u8>]");
        assert_eq!(borrowed_text(&ty("std::path::PathBuf")), "&Path");
        assert_eq!(borrowed_text(&ty("u64")), "&u64");
        assert_eq!(owned_text(&ty("str")), "String");
        assert_eq!(owned_text(&ty("[u8]")), "Vec<u8>");
        assert_eq!(owned_text(&ty("Path")), "PathBuf");
        assert_eq!(owned_text(&ty("Config")), "Config");
    }
}
