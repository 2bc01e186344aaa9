//! Files and directories as values. A [`File`] or [`Dir`] is passed between stations by path;
//! its identity is its content, so a station reading it runs again when the bytes change and
//! not when only its timestamps do.
//!
//! `paths.rs` says how a value's paths are collected and carried between stores; `dir.rs`
//! holds [`Dir`], with its filters.

mod dir;
mod paths;

pub use dir::Dir;
pub(crate) use paths::collect_paths;
#[cfg_attr(
    not(feature = "remote"),
    allow(unused_imports, reason = "only the remote cache uses it")
)]
pub(crate) use paths::portable;

use paths::{decoded_path, encoded_path, met, serde_bytes_buf};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::{Path, PathBuf};

/// A file, passed by path, identified by its content.
///
/// As a station's input, a `File` is hashed (BLAKE3, with a stat cache so unchanged files
/// are not read again): the station runs again when the bytes change, not when only the
/// timestamps do. As a station's output — usually a file the station wrote into its own
/// directory, [`Ctx::output`](crate::Ctx::output) — its hash is recorded, and the result
/// counts only while the file is there with those bytes. A `File` anywhere inside a value
/// (a `Vec<File>`, a struct field) counts the same way.
///
/// ```
/// use choochoo::{station, workflow, File, Runner, Status, Store};
///
/// #[station]
/// fn lines(doc: &File) -> std::io::Result<usize> {
///     Ok(std::fs::read_to_string(doc.path())?.lines().count())
/// }
///
/// workflow! {
///     fn count(doc: File) -> usize {
///         lines(doc)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-file-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let doc = dir.join("notes.txt");
/// std::fs::write(&doc, "fail\nfix\n")?;
/// let store = Store::open(dir.join(".choochoo"))?;
/// let runner = Runner::new(&store);
/// assert_eq!(*runner.run(count(File::new(&doc)))?.output(), 2);
///
/// std::fs::write(&doc, "fail\nfix\n")?; // the same bytes again: nothing runs
/// assert_eq!(runner.run(count(File::new(&doc)))?.report().count(Status::Cached), 1);
///
/// std::fs::write(&doc, "fail\nfix\nrun again\n")?; // new content: the station runs
/// assert_eq!(*runner.run(count(File::new(&doc)))?.output(), 3);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct File {
    path: PathBuf,
}

impl File {
    /// A file at `path`. Nothing is read until a run hashes it.
    pub fn new(path: impl Into<PathBuf>) -> File {
        File { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl From<&str> for File {
    fn from(path: &str) -> File {
        File::new(path)
    }
}

impl From<PathBuf> for File {
    fn from(path: PathBuf) -> File {
        File::new(path)
    }
}

// Paths are encoded as their raw bytes, so names that are not UTF-8 still round-trip.
macro_rules! path_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                met(&self.path);
                // People read JSON: a path there is text when it can be.
                match self.path.to_str() {
                    Some(text) if serializer.is_human_readable() => serializer.serialize_str(text),
                    _ => serializer.serialize_bytes(&encoded_path(&self.path)),
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let bytes = serde_bytes_buf(deserializer)?;
                decoded_path(bytes)
                    .map($ty::new)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

path_serde!(File);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_text_in_json() {
        let file = File::new("/srv/app.zip");
        assert_eq!(serde_json::to_string(&file).unwrap(), "\"/srv/app.zip\"");
        assert_eq!(
            serde_json::from_str::<File>("\"/srv/app.zip\"").unwrap(),
            file
        );
    }

    #[test]
    fn paths_round_trip_through_the_encoding() {
        let file = File::new("/tmp/a b/ü.txt");
        assert_eq!(crate::value::copy(&file).unwrap(), file);
        let dir = Dir::new("out");
        assert_eq!(crate::value::copy(&dir).unwrap(), dir);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let file = File::new(std::ffi::OsStr::from_bytes(b"bad\xff.txt"));
        assert_eq!(crate::value::copy(&file).unwrap(), file);
    }
}
