//! How a run decides. A station's key is the hash of the key schema version, the station's
//! id and code fingerprint, its output type, and the content hash of each input; inputs fed
//! by other stations contribute the hash of that station's *output*, so a station that runs
//! again and produces the same bytes stops the cascade (early cutoff).
//!
//! A value's content hash covers its encoding and, for every [`File`](crate::File) or
//! [`Dir`](crate::Dir) inside it, the path and the content of what is on disk.

use crate::hash::{Digest, Hasher};
use crate::stat::{FileState, Seen};
use crate::store::{Head, Record};
use std::path::PathBuf;

/// Changing how keys are made changes this, so old records can never be mistaken for new.
const KEY_SCHEMA: &[u8] = b"1";

/// The content of one node's value, as the run saw it.
#[derive(Debug)]
pub(crate) struct Content {
    pub digest: Digest,
    /// The files inside the value and their state when hashed, to notice later edits.
    pub files: Vec<(PathBuf, Seen)>,
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
        files,
    }
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
    let mut hasher = Hasher::new("choochoo/key");
    hasher
        .field("schema", KEY_SCHEMA)
        .field("station", station.as_bytes())
        .digest("fingerprint", fingerprint)
        .field("output", output_type.as_bytes());
    for input in inputs {
        hasher.digest("input", input);
    }
    hasher.finish()
}

/// Why a record cannot be used, when one exists.
pub(crate) fn stale_output(
    record: &Record,
    current: impl Fn(&std::path::Path) -> Option<Seen>,
) -> Option<String> {
    record
        .files
        .iter()
        .find_map(|(path, digest)| match current(path) {
            None => Some(format!("output {} cannot be read", path.display())),
            Some(seen) if seen.state.is_none() && !path.is_dir() => {
                Some(format!("output {} is missing", path.display()))
            }
            Some(seen) if seen.digest != *digest => {
                Some(format!("output {} was modified", path.display()))
            }
            Some(_) => None,
        })
}

/// Why a station with no usable record runs, compared with the node's last head.
pub(crate) fn reason(
    head: Option<&Head>,
    fingerprint: &Digest,
    inputs: &[Digest],
    names: &[&str],
) -> String {
    let Some(head) = head else {
        return "no record".to_owned();
    };
    let mut reasons = Vec::new();
    if head.fingerprint != *fingerprint {
        reasons.push("code changed".to_owned());
    }
    if head.inputs.len() != inputs.len() {
        reasons.push("inputs changed".to_owned());
    } else {
        let changed: Vec<String> = inputs
            .iter()
            .zip(&head.inputs)
            .enumerate()
            .filter(|(_, (now, before))| now != before)
            .map(|(i, _)| {
                names
                    .get(i)
                    .map_or_else(|| format!("#{}", i + 1), |name| format!("`{name}`"))
            })
            .collect();
        match changed.len() {
            0 => {}
            1 => reasons.push(format!("input {} changed", changed[0])),
            _ => reasons.push(format!("inputs {} changed", changed.join(", "))),
        }
    }
    if reasons.is_empty() {
        "no record".to_owned()
    } else {
        reasons.join("; ")
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
        let head = Head {
            key: a,
            fingerprint: fp,
            inputs: vec![a, a],
        };
        assert_eq!(reason(None, &fp, &[a], &["x"]), "no record");
        assert_eq!(
            reason(Some(&head), &fp, &[a, b], &["doc", "n"]),
            "input `n` changed"
        );
        assert_eq!(
            reason(Some(&head), &b, &[b, b], &["doc", "n"]),
            "code changed; inputs `doc`, `n` changed"
        );
    }
}
