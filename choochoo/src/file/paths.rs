//! How values name their files: the paths every [`File`](crate::File) and
//! [`Dir`](crate::Dir) inside a value serializes, collected as the value is encoded, and the
//! portable form in which paths under the store's `work/` travel to other stores.

use serde::Deserializer;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// The paths of the files and directories met while encoding a value on this thread.
    static MET: RefCell<Option<Vec<PathBuf>>> = const { RefCell::new(None) };
}

/// Runs `encode` and returns what it returned with the paths of every `File` and `Dir`
/// it serialized, at any depth of the value (a `Vec<File>`, a struct with a `File` field).
pub(crate) fn collect_paths<R>(encode: impl FnOnce() -> R) -> (R, Vec<PathBuf>) {
    let outer = MET.with(|met| met.replace(Some(Vec::new())));
    let result = encode();
    let paths = MET.with(|met| met.replace(outer)).unwrap_or_default();
    (result, paths)
}

thread_local! {
    /// While a value is encoded or decoded for the remote cache: the store's `work/`
    /// directory, whose paths travel relative to it.
    static WORK: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Marks a path encoded relative to the store's `work/` directory. No real path starts with
/// a NUL byte, so a marked path cannot be mistaken for one.
#[cfg_attr(
    not(feature = "remote"),
    allow(dead_code, reason = "only the remote cache uses it")
)]
const WORK_MARK: &[u8] = b"\0work/";

/// Runs `code` with paths under `work` encoded relative to it, and relative paths decoded
/// under it (through [`names::join`](crate::names::join)): the form in which values travel
/// between stores at different places, since a station's files live in its store.
#[cfg_attr(
    not(feature = "remote"),
    allow(dead_code, reason = "only the remote cache uses it")
)]
pub(crate) fn portable<R>(work: &Path, code: impl FnOnce() -> R) -> R {
    let outer = WORK.with(|root| root.replace(Some(work.to_path_buf())));
    let result = code();
    WORK.with(|root| root.replace(outer));
    result
}

/// The bytes a path is encoded as: relative and marked under [`portable`], raw otherwise.
pub(super) fn encoded_path(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    WORK.with(|root| {
        let root = root.borrow();
        match root
            .as_deref()
            .and_then(|root| path.strip_prefix(root).ok())
        {
            Some(relative) => [WORK_MARK, path_bytes(relative)].concat().into(),
            None => path_bytes(path).into(),
        }
    })
}

/// The path `bytes` stand for: a marked path is joined under the `work/` directory of
/// [`portable`], and refused when it could leave it or when no such directory is set.
pub(super) fn decoded_path(bytes: Vec<u8>) -> Result<PathBuf, String> {
    let Some(relative) = bytes.strip_prefix(WORK_MARK) else {
        return path_from_bytes(bytes).map_err(str::to_owned);
    };
    let relative = path_from_bytes(relative.to_vec()).map_err(str::to_owned)?;
    WORK.with(|root| match root.borrow().as_deref() {
        Some(root) => crate::names::join(root, &relative).map_err(|error| error.to_string()),
        None => Err(format!(
            "a path relative to another store's work directory: {}",
            relative.display()
        )),
    })
}

pub(super) fn met(path: &Path) {
    MET.with(|met| {
        if let Some(paths) = met.borrow_mut().as_mut() {
            paths.push(path.to_path_buf());
        }
    });
}

pub(super) fn path_bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

#[cfg(unix)]
pub(super) fn path_from_bytes(bytes: Vec<u8>) -> Result<PathBuf, &'static str> {
    use std::os::unix::ffi::OsStringExt;
    Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
pub(super) fn path_from_bytes(bytes: Vec<u8>) -> Result<PathBuf, &'static str> {
    String::from_utf8(bytes)
        .map(PathBuf::from)
        .map_err(|_| "a path that is not UTF-8")
}

pub(super) fn serde_bytes_buf<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<u8>, D::Error> {
    struct Bytes;
    impl<'de> serde::de::Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a path as bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            Ok(v.as_bytes().to_vec())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(byte) = seq.next_element()? {
                out.push(byte);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_byte_buf(Bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::File;
    use serde::{Serialize, Serializer};

    #[test]
    fn paths_under_the_work_directory_travel_relative_to_it() {
        let (here, there) = (Path::new("/stores/a/work"), Path::new("/elsewhere/b/work"));
        let file = File::new(here.join("default/node/out.txt"));
        let outside = File::new("/data/input.csv");
        let encoded = portable(here, || crate::value::encode(&(file, outside.clone()))).unwrap();
        assert!(
            !encoded.windows(9).any(|w| w == b"/stores/a"),
            "{encoded:?}"
        );
        let decoded: (File, File) = portable(there, || crate::value::decode(&encoded)).unwrap();
        assert_eq!(decoded.0, File::new(there.join("default/node/out.txt")));
        assert_eq!(decoded.1, outside);
        // Outside `portable`, a relative path from another store is refused, not guessed.
        assert!(crate::value::decode::<(File, File)>(&encoded).is_err());
    }

    #[test]
    fn a_portable_path_cannot_leave_the_work_directory() {
        let work = tempfile::tempdir().unwrap();
        for name in [&b"../escape"[..], b"a/../../escape", b"/etc/passwd"] {
            let bytes = [WORK_MARK, name].concat();
            let encoded = postcard::to_stdvec(&serde_bytes_of(&bytes)).unwrap();
            let decoded = portable(work.path(), || crate::value::decode::<File>(&encoded));
            assert!(
                decoded.is_err(),
                "{:?}: {decoded:?}",
                String::from_utf8_lossy(name)
            );
        }
    }

    /// Serializes bytes as postcard encodes a path.
    fn serde_bytes_of(bytes: &[u8]) -> impl Serialize + '_ {
        struct Bytes<'a>(&'a [u8]);
        impl Serialize for Bytes<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(self.0)
            }
        }
        Bytes(bytes)
    }
}
