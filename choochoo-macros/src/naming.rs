//! The one naming rule both macros share.

/// `word_count` → `WordCount`: the name of the struct `#[station]` generates for a fn, which
/// `workflow!` derives again from the name the user calls.
pub(crate) fn upper_camel(snake: &str) -> String {
    snake
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
