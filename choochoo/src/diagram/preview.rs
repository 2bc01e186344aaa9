//! How an input's value is shown: as JSON for people, files by their paths, cut short.

/// Inputs shown by value are cut to this many characters.
const PREVIEW: usize = 32;

/// An input's value as a short text.
pub(super) fn preview(json: Option<serde_json::Value>) -> String {
    let text = match json {
        Some(serde_json::Value::String(text)) => format!("\"{text}\""),
        Some(value) => value.to_string(),
        None => "input".to_owned(),
    };
    if text.chars().count() <= PREVIEW {
        return text;
    }
    let cut: String = text.chars().take(PREVIEW - 1).collect();
    format!("{cut}…")
}

/// A value as JSON for people: `make` serializes it, and the files and directories inside
/// (which serialize as the bytes of their paths) are shown as their paths.
pub(crate) fn readable(
    make: impl FnOnce() -> Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    let (json, paths) = crate::file::collect_paths(make);
    let paths: Vec<(Vec<u8>, String)> = paths
        .iter()
        .map(|p| {
            let bytes = p.as_os_str().as_encoded_bytes().to_vec();
            (bytes, p.display().to_string())
        })
        .collect();
    json.map(|json| with_paths(json, &paths))
}

fn with_paths(json: serde_json::Value, paths: &[(Vec<u8>, String)]) -> serde_json::Value {
    use serde_json::Value;
    match json {
        Value::Array(items) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            if let Some((_, path)) = bytes.and_then(|b| paths.iter().find(|(p, _)| *p == b)) {
                return Value::String(path.clone());
            }
            Value::Array(items.into_iter().map(|i| with_paths(i, paths)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, with_paths(v, paths)))
                .collect(),
        ),
        other => other,
    }
}
