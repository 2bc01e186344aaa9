//! How a run decides. A station's key is the hash of the key schema version, the station's
//! id and code fingerprint, its output type, and the content hash of each input; inputs fed
//! by other stations contribute the hash of that station's *output*, so a station that runs
//! again and produces the same bytes stops the cascade (early cutoff).
//!
//! A value's content hash covers its encoding and, for every [`File`](crate::File) or
//! [`Dir`](crate::Dir) inside it, the path and the content of what is on disk.
//!
//! A [`Record`] is what a station produced for one key and a [`Head`] the last key a node
//! had; the store keeps both (`store/records.rs`).

use crate::discovered::Discovered;
use crate::hash::{Digest, Hasher};
use crate::stat::{FileState, Seen};
use std::path::PathBuf;

/// A memo record: what a station produced for one key.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub key: Digest,
    pub output_hash: Digest,
    pub encoding_hash: Digest,
    pub size: u64,
    /// The encoded output when it is small; `None` when it is a blob named `encoding_hash`.
    pub inline: Option<Vec<u8>>,
    /// The files and directories inside the output, with their content hashes.
    pub files: Vec<(PathBuf, Digest)>,
    /// Whether the station left its directory behind: deleting it replays the station.
    pub used_dir: bool,
    /// The inputs its station discovered while it ran, with their content hashes.
    pub discovered: Vec<Discovered>,
}

/// The last key a node had, and what it was made of, to explain the next change.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Head {
    pub key: Digest,
    pub fingerprint: Digest,
    pub inputs: Vec<Digest>,
    /// Small inputs as JSON, to name the field that changed next time.
    pub values: Vec<Option<String>>,
}

/// Changing how keys are made changes this, so old records can never be mistaken for new.
const KEY_SCHEMA: &[u8] = b"1";

/// The content of one node's value, as the run saw it.
#[derive(Debug)]
pub(crate) struct Content {
    pub digest: Digest,
    /// The files inside the value and their state when hashed, to notice later edits.
    pub files: Files,
}

/// The files inside a value, each with its state when hashed: nothing at all when there
/// are none, as for most nodes (every node of a run keeps a content, and this is 8 bytes
/// of it).
#[derive(Debug, Default)]
#[allow(
    clippy::box_collection,
    reason = "a thin pointer: 8 bytes in every node's content, where a boxed slice is 16"
)]
pub(crate) struct Files(Option<Box<Vec<(PathBuf, Seen)>>>);

impl From<Vec<(PathBuf, Seen)>> for Files {
    fn from(files: Vec<(PathBuf, Seen)>) -> Files {
        Files((!files.is_empty()).then(|| Box::new(files)))
    }
}

impl std::ops::Deref for Files {
    type Target = [(PathBuf, Seen)];

    fn deref(&self) -> &[(PathBuf, Seen)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<'a> IntoIterator for &'a Files {
    type Item = &'a (PathBuf, Seen);
    type IntoIter = std::slice::Iter<'a, (PathBuf, Seen)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The content hash of an encoded value and the files it names.
pub(crate) fn content(encoded: &[u8], files: Vec<(PathBuf, Seen)>) -> Content {
    let mut hasher = Hasher::new("choochoo/value");
    hasher.field("encoding", encoded);
    for (path, seen) in &files {
        hasher
            .field("path", path.as_os_str().as_encoded_bytes())
            .digest("content", &seen.digest);
    }
    Content {
        digest: hasher.finish(),
        files: Files::from(files),
    }
}

/// The content hash of a value in the portable form the remote cache uses: its encoding
/// with paths under the store's `work/` relative to it, and the content of its files.
#[cfg_attr(
    not(feature = "remote"),
    allow(dead_code, reason = "only the remote cache uses it")
)]
pub(crate) fn portable<'a>(encoded: &[u8], files: impl IntoIterator<Item = &'a Digest>) -> Digest {
    let mut hasher = Hasher::new("choochoo/portable");
    hasher.field("encoding", encoded);
    for digest in files {
        hasher.digest("content", digest);
    }
    hasher.finish()
}

/// The hash of a fan-in input: the content hashes of its elements, in order.
pub(crate) fn many(digests: impl IntoIterator<Item = Digest>) -> Digest {
    let mut hasher = Hasher::new("choochoo/many");
    for digest in digests {
        hasher.digest("element", &digest);
    }
    hasher.finish()
}

/// A station's key.
pub(crate) fn key(
    station: &str,
    fingerprint: &Digest,
    output_type: &str,
    inputs: &[Digest],
) -> Digest {
    let parts = [
        station.as_bytes(),
        fingerprint.as_bytes(),
        output_type.as_bytes(),
    ];
    let start = |hasher: &mut Hasher| {
        hasher
            .field("schema", KEY_SCHEMA)
            .field("station", station.as_bytes())
            .digest("fingerprint", fingerprint)
            .field("output", output_type.as_bytes());
    };
    Hasher::shared_start("choochoo/key", &parts, start, |hasher| {
        for input in inputs {
            hasher.digest("input", input);
        }
    })
}

/// Why a record cannot be used, when one exists. An absent file that `remote` says is in
/// the remote cache only, with its recorded content, is not missing.
pub(crate) fn stale_output(
    record: &Record,
    current: impl Fn(&std::path::Path) -> Option<Seen>,
    remote: impl Fn(&std::path::Path, &Digest) -> bool,
) -> Option<String> {
    record.files.iter().find_map(|(path, digest)| {
        // A filtered directory is named by its path with its globs attached.
        let shown = || crate::filter::shown(path);
        match current(path) {
            None => Some(format!("output {} cannot be read", shown())),
            Some(_) if remote(path, digest) => None,
            Some(seen) if seen.state.is_none() && !crate::filter::real(path).is_dir() => {
                Some(format!("output {} is missing", shown()))
            }
            Some(seen) if seen.digest != *digest => {
                Some(format!("output {} was modified", shown()))
            }
            Some(_) => None,
        }
    })
}

/// Inputs whose JSON form is at most this long are kept with a node's head, so the next
/// change can be explained field by field.
pub(crate) const SMALL_VALUE: usize = 1024;

/// Why a station runs, as its report entry says: most often a phrase of the runtime's own
/// (`no record`), which a large run keeps for each of its stations without an allocation.
pub(crate) type Reason = std::borrow::Cow<'static, str>;

/// Why a station with no usable record runs, compared with the node's last head. When an
/// input's old and new values are known, the first changed field is named.
pub(crate) fn reason(
    before: Option<&Head>,
    now: &Head,
    names: &[&str],
    current: impl Fn(usize) -> Option<serde_json::Value>,
) -> Reason {
    let Some(before) = before else {
        return Reason::Borrowed("no record");
    };
    let mut reasons = Vec::new();
    if before.fingerprint != now.fingerprint {
        reasons.push("code changed".to_owned());
    }
    if before.inputs.len() != now.inputs.len() {
        reasons.push("inputs changed".to_owned());
    } else {
        let name = |i: usize| {
            names
                .get(i)
                .map_or_else(|| format!("#{}", i + 1), |name| format!("`{name}`"))
        };
        let changed: Vec<usize> = (0..now.inputs.len())
            .filter(|&i| now.inputs[i] != before.inputs[i])
            .collect();
        match changed.as_slice() {
            [] => {}
            [i] => {
                let old = before
                    .values
                    .get(*i)
                    .cloned()
                    .flatten()
                    .and_then(|old| serde_json::from_str::<serde_json::Value>(&old).ok());
                reasons.push(input_change(name(*i), old, current(*i)));
            }
            many => {
                let names: Vec<String> = many.iter().map(|i| name(*i)).collect();
                reasons.push(format!("inputs {} changed", names.join(", ")));
            }
        }
    }
    if reasons.is_empty() {
        Reason::Borrowed("no record")
    } else {
        Reason::Owned(reasons.join("; "))
    }
}

/// Why one input changed: its first changed field when both values are known; a secret
/// when the only change is one the values do not show, in a [`Secret`](crate::Secret).
fn input_change(
    name: String,
    old: Option<serde_json::Value>,
    new: Option<serde_json::Value>,
) -> String {
    let detail = old
        .as_ref()
        .zip(new.as_ref())
        .and_then(|(old, new)| field_change(old, new, String::new()));
    match (detail, new) {
        (Some(detail), _) => format!("input {name} changed: {detail}"),
        // Without the old value, only an input that is a secret is known to be one.
        (None, Some(new)) if old.map_or(crate::secret::is(&new), |old| old == new) => {
            if crate::secret::shows(&new) {
                format!("secret {name} changed")
            } else {
                format!("input {name} changed")
            }
        }
        (None, _) => format!("input {name} changed"),
    }
}

/// The first difference between two values: `field `port` 5432 → 5433`.
fn field_change(old: &serde_json::Value, new: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|key| {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => field_change(x, y, field),
                    _ => Some(format!("field `{field}` added or removed")),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| field_change(x, y, format!("{path}[{i}]"))),
        _ if old == new => None,
        _ if path.is_empty() => Some(format!("{} → {}", short(old), short(new))),
        _ => Some(format!("field `{path}` {} → {}", short(old), short(new))),
    }
}

fn short(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 40 {
        text
    } else {
        format!("{}…", text.chars().take(39).collect::<String>())
    }
}

/// Whether any file read as an input changed since it was hashed; returns its path.
pub(crate) fn changed_during_run<'a>(
    files: impl IntoIterator<Item = &'a (PathBuf, Seen)>,
) -> Option<&'a PathBuf> {
    files.into_iter().find_map(|(path, seen)| {
        let now = FileState::read(path).ok().flatten();
        (seen.state.is_some() && now != seen.state).then_some(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_the_key_counts() {
        let fp = Digest::of(b"fn");
        let a = Digest::of(b"a");
        let base = key("m::s", &fp, "u64", &[a]);
        assert_ne!(base, key("m::t", &fp, "u64", &[a]));
        assert_ne!(base, key("m::s", &Digest::of(b"fn2"), "u64", &[a]));
        assert_ne!(base, key("m::s", &fp, "i64", &[a]));
        assert_ne!(base, key("m::s", &fp, "u64", &[Digest::of(b"b")]));
        assert_ne!(base, key("m::s", &fp, "u64", &[a, a]));
        assert_eq!(base, key("m::s", &fp, "u64", &[a]));
    }

    #[test]
    fn reasons_name_the_changed_input() {
        let fp = Digest::of(b"fn");
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let head = |fingerprint, inputs: Vec<Digest>| Head {
            key: a,
            fingerprint,
            inputs,
            values: vec![],
        };
        let none = |_| None;
        assert_eq!(reason(None, &head(fp, vec![a]), &["x"], none), "no record");
        let before = head(fp, vec![a, a]);
        assert_eq!(
            reason(Some(&before), &head(fp, vec![a, b]), &["doc", "n"], none),
            "input `n` changed"
        );
        assert_eq!(
            reason(Some(&before), &head(b, vec![b, b]), &["doc", "n"], none),
            "code changed; inputs `doc`, `n` changed"
        );
    }

    #[test]
    fn reasons_name_the_changed_field() {
        let fp = Digest::of(b"fn");
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let before = Head {
            key: a,
            fingerprint: fp,
            inputs: vec![a],
            values: vec![Some(
                r#"{"db":{"host":"x","port":5432},"tags":["a"]}"#.to_owned(),
            )],
        };
        let now = Head {
            key: b,
            fingerprint: fp,
            inputs: vec![b],
            values: vec![],
        };
        let new = serde_json::json!({"db": {"host": "x", "port": 5433}, "tags": ["a"]});
        assert_eq!(
            reason(Some(&before), &now, &["config"], |_| Some(new.clone())),
            "input `config` changed: field `db.port` 5432 → 5433"
        );
        let scalar = Head {
            values: vec![Some("3".to_owned())],
            ..before
        };
        assert_eq!(
            reason(Some(&scalar), &now, &["n"], |_| Some(serde_json::json!(4))),
            "input `n` changed: 3 → 4"
        );
    }
}
