//! The `discovered` column of a record: the inputs its station found while it ran (see
//! [`crate::discovered`]), NULL when there are none. postcard of `Vec<(kind, name, digest)>`
//! with the kind `0` for a file, `1` for a directory, `2` for an environment variable, and
//! the name as raw bytes, so paths that are not UTF-8 survive.

use super::columns::path_from_bytes;
use crate::discovered::{Discovered, Source};
use crate::hash::Digest;

const FILE: u8 = 0;
const DIR: u8 = 1;
const ENV: u8 = 2;

/// The column for `discovered`: `None` when it is empty.
pub(crate) fn encode_discovered(
    discovered: &[Discovered],
) -> Result<Option<Vec<u8>>, postcard::Error> {
    if discovered.is_empty() {
        return Ok(None);
    }
    let rows: Vec<(u8, &[u8], Digest)> = discovered
        .iter()
        .map(|input| {
            let (kind, name) = match &input.source {
                Source::File(path) => (FILE, path.as_os_str().as_encoded_bytes()),
                Source::Dir(path) => (DIR, path.as_os_str().as_encoded_bytes()),
                Source::Env(name) => (ENV, name.as_bytes()),
            };
            (kind, name, input.digest)
        })
        .collect();
    postcard::to_stdvec(&rows).map(Some)
}

/// The discovered inputs from their column, or what is wrong with it.
pub(crate) fn decode_discovered(column: Option<&[u8]>) -> Result<Vec<Discovered>, String> {
    let Some(bytes) = column else {
        return Ok(Vec::new());
    };
    let rows: Vec<(u8, Vec<u8>, Digest)> = crate::value::bounded::from_bytes(bytes)
        .map_err(|error| format!("unreadable discovered inputs: {error}"))?;
    rows.into_iter()
        .map(|(kind, name, digest)| {
            let source = match kind {
                FILE => Source::File(path_from_bytes(name)),
                DIR => Source::Dir(path_from_bytes(name)),
                ENV => Source::Env(String::from_utf8(name).map_err(|_| {
                    "a discovered environment variable whose name is not UTF-8".to_owned()
                })?),
                other => return Err(format!("a discovered input of unknown kind {other}")),
            };
            Ok(Discovered { source, digest })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn inputs_round_trip_and_none_is_null() {
        assert_eq!(encode_discovered(&[]).unwrap(), None);
        assert_eq!(decode_discovered(None).unwrap(), []);
        let inputs = [
            Discovered {
                source: Source::File(PathBuf::from("src/lua.h")),
                digest: Digest::of(b"lua.h"),
            },
            Discovered {
                source: Source::Dir(PathBuf::from("/usr/include")),
                digest: Digest::of(b"include"),
            },
            Discovered {
                source: Source::Env("CC".to_owned()),
                digest: Digest::of(b"gcc"),
            },
        ];
        let column = encode_discovered(&inputs).unwrap().unwrap();
        assert_eq!(decode_discovered(Some(&column)).unwrap(), inputs);
        let error = decode_discovered(Some(&column[..column.len() - 1])).unwrap_err();
        assert!(error.starts_with("unreadable discovered inputs"), "{error}");
    }
}
