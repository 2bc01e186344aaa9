//! [`Dir`]: a directory tree as a value, whole or filtered by globs.

use super::paths::{decoded_path, encoded_path, met, serde_bytes_buf};
use crate::error::Error;
use crate::filter::{Filter, Globs};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::{Path, PathBuf};

/// A directory tree, passed by path, identified by its names and contents.
///
/// Adding, removing, renaming or editing a file inside it changes it. Otherwise it flows
/// like a [`File`](crate::File).
///
/// A source tree holds more than a station reads: build outputs, a README. Globs say what
/// counts: [`include`](Dir::include) and [`exclude`](Dir::exclude) take globs relative to the
/// directory (`*` and `?` never match `/`; `**/` matches any depth), and only the files they
/// let through make the directory's identity, so editing or adding any other runs nothing.
/// A file counts when it matches an include glob (any file, when none is given) and no
/// exclude glob; a directory an exclude glob matches is skipped with everything in it (and
/// `build/**` skips `build`). The globs are part of the value: the same path with other
/// globs is another input. [`files`](Dir::files) lists what counts, in the same order every
/// time.
///
/// ```
/// use choochoo::{station, workflow, Dir, Runner, Store};
///
/// #[station]
/// fn pages(site: &Dir) -> std::io::Result<usize> {
///     Ok(std::fs::read_dir(site.path())?.count())
/// }
///
/// workflow! {
///     fn count(site: Dir) -> usize {
///         pages(site)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-dir-{}", std::process::id()));
/// let site = dir.join("site");
/// std::fs::create_dir_all(&site)?;
/// std::fs::write(site.join("index.md"), "# Home")?;
/// let store = Store::open(dir.join(".choochoo"))?;
/// let runner = Runner::new(&store);
/// assert_eq!(*runner.run(count(Dir::new(&site)))?.output(), 1);
///
/// std::fs::write(site.join("about.md"), "# About")?; // a new page: the station runs again
/// assert_eq!(*runner.run(count(Dir::new(&site)))?.output(), 2);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
///
/// Filtered, a station compiling the C files of a tree runs again when one of them or a
/// header changes, not when the README or an object file inside the tree does:
///
/// ```
/// use choochoo::{station, workflow, Dir, Runner, Status, Store};
///
/// #[station]
/// fn sources(tree: &Dir) -> Result<usize, choochoo::Error> {
///     Ok(tree.files()?.len())
/// }
///
/// workflow! {
///     fn count(tree: Dir) -> usize {
///         sources(tree)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-dir-filter-{}", std::process::id()));
/// let src = dir.join("src");
/// std::fs::create_dir_all(src.join("build"))?;
/// std::fs::write(src.join("main.c"), "int main(void) { return 0; }")?;
/// let tree = || Dir::new(&src).include("**/*.c").include("**/*.h").exclude("build/**");
/// let store = Store::open(dir.join(".choochoo"))?;
/// let runner = Runner::new(&store);
/// assert_eq!(*runner.run(count(tree()))?.output(), 1);
///
/// std::fs::write(src.join("README.md"), "# Notes")?; // not included
/// std::fs::write(src.join("build/main.o"), "\x7fELF")?; // not included, and excluded
/// std::fs::write(src.join("build/gen.c"), "")?; // included, but excluded
/// assert_eq!(runner.run(count(tree()))?.report().count(Status::Cached), 1);
///
/// std::fs::write(src.join("util.h"), "#pragma once")?; // a new header: it runs
/// assert_eq!(*runner.run(count(tree()))?.output(), 2);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dir {
    path: PathBuf,
    filter: Filter,
}

impl Dir {
    /// A directory at `path`, every file in it counting.
    pub fn new(path: impl Into<PathBuf>) -> Dir {
        Dir {
            path: path.into(),
            filter: Filter::default(),
        }
    }

    /// Counts only files whose path relative to the directory matches `glob` (or another
    /// include glob): `"**/*.rs"`, `"src/*.c"`, `"*.{c,h}"`. A glob that does not parse is
    /// an error naming it when the directory is hashed.
    pub fn include(mut self, glob: impl Into<String>) -> Dir {
        self.filter.include.push(glob.into());
        self
    }

    /// Leaves out files whose relative path matches `glob`, and directories it matches with
    /// everything in them: `"target"`, `"build/**"`, `"**/*.o"`.
    pub fn exclude(mut self, glob: impl Into<String>) -> Dir {
        self.filter.exclude.push(glob.into());
        self
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files that count, each directory's entries by name, depth first: every file in
    /// the tree, or those its globs let through. Symbolic links are followed.
    pub fn files(&self) -> Result<Vec<PathBuf>, Error> {
        let globs = Globs::new(&self.path, &self.filter)?;
        let files = crate::filter::files(&self.path, &globs)
            .map_err(|error| Error::io("list the files of", &self.path, error))?;
        Ok(files.into_iter().map(|(_, path)| path).collect())
    }

    /// Decodes a directory from its encoding: its path's bytes, then its filter, if any.
    fn from_bytes(bytes: &[u8]) -> Result<Dir, String> {
        let (path, filter) = crate::filter::split(bytes)?;
        let path = decoded_path(path.to_vec())?;
        Ok(Dir { path, filter })
    }
}

impl From<&str> for Dir {
    fn from(path: &str) -> Dir {
        Dir::new(path)
    }
}

impl From<PathBuf> for Dir {
    fn from(path: PathBuf) -> Dir {
        Dir::new(path)
    }
}

// A whole directory encodes as its path, exactly as before filters existed, so stored values
// still decode; a filtered one as its path's bytes and then its filter (see `filter.rs`),
// and in JSON as `{"path", "include", "exclude"}`.
impl Serialize for Dir {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.filter.is_empty() {
            met(&self.path);
        } else {
            met(&crate::filter::tagged(&self.path, &self.filter));
        }
        match self.path.to_str() {
            Some(text) if serializer.is_human_readable() && self.filter.is_empty() => {
                serializer.serialize_str(text)
            }
            Some(text) if serializer.is_human_readable() => {
                let mut fields = serializer.serialize_struct("Dir", 3)?;
                fields.serialize_field("path", text)?;
                fields.serialize_field("include", &self.filter.include)?;
                fields.serialize_field("exclude", &self.filter.exclude)?;
                fields.end()
            }
            _ if self.filter.is_empty() => serializer.serialize_bytes(&encoded_path(&self.path)),
            _ => {
                let bytes = [&*encoded_path(&self.path), &self.filter.tag()].concat();
                serializer.serialize_bytes(&bytes)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Dir {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dir, D::Error> {
        if deserializer.is_human_readable() {
            return deserializer.deserialize_any(Readable);
        }
        let bytes = serde_bytes_buf(deserializer)?;
        Dir::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

/// A directory in a format for people: a path, its bytes, or a map with its globs.
struct Readable;

impl<'de> Visitor<'de> for Readable {
    type Value = Dir;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a directory's path, or a map of its path, include and exclude globs")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Dir, E> {
        self.visit_bytes(text.as_bytes())
    }

    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Dir, E> {
        Dir::from_bytes(bytes).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dir, A::Error> {
        let mut bytes = Vec::new();
        while let Some(byte) = seq.next_element()? {
            bytes.push(byte);
        }
        self.visit_bytes(&bytes)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dir, A::Error> {
        let mut dir: Option<Dir> = None;
        let mut filter = Filter::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "path" => dir = Some(map.next_value::<Dir>()?),
                "include" => filter.include = map.next_value()?,
                "exclude" => filter.exclude = map.next_value()?,
                other => {
                    return Err(serde::de::Error::unknown_field(
                        other,
                        &["path", "include", "exclude"],
                    ));
                }
            }
        }
        let dir = dir.ok_or_else(|| serde::de::Error::missing_field("path"))?;
        Ok(Dir { filter, ..dir })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered() -> Dir {
        Dir::new("src").include("**/*.c").exclude("build/**")
    }

    #[test]
    fn a_whole_directory_encodes_as_before() {
        let bytes = crate::value::encode(&Dir::new("out")).unwrap();
        assert_eq!(
            bytes,
            crate::value::encode(&crate::file::File::new("out")).unwrap()
        );
    }

    #[test]
    fn a_filtered_directory_round_trips_with_its_globs() {
        let dir = filtered();
        assert_eq!(crate::value::copy(&dir).unwrap(), dir);
        assert_ne!(crate::value::copy(&dir).unwrap(), Dir::new("src"));
        let json = serde_json::to_string(&dir).unwrap();
        assert_eq!(
            json,
            r#"{"path":"src","include":["**/*.c"],"exclude":["build/**"]}"#
        );
        assert_eq!(serde_json::from_str::<Dir>(&json).unwrap(), dir);
        assert_eq!(
            serde_json::from_str::<Dir>("\"src\"").unwrap(),
            Dir::new("src")
        );
    }

    #[test]
    fn the_globs_are_part_of_the_paths_a_value_names() {
        let (_, paths) = crate::file::collect_paths(|| crate::value::encode(&filtered()));
        assert_eq!(crate::filter::real(&paths[0]), Path::new("src"));
        assert_ne!(paths[0], Path::new("src"));
    }

    #[test]
    fn a_filtered_directory_under_the_work_directory_travels_relative_to_it() {
        let (here, there) = (Path::new("/stores/a/work"), Path::new("/elsewhere/b/work"));
        let dir = Dir::new(here.join("default/site")).exclude("*.tmp");
        let encoded = crate::file::portable(here, || crate::value::encode(&dir)).unwrap();
        let decoded: Dir = crate::file::portable(there, || crate::value::decode(&encoded)).unwrap();
        assert_eq!(
            decoded,
            Dir::new(there.join("default/site")).exclude("*.tmp")
        );
    }
}
