//! Filtered directories: a [`Dir`](crate::Dir) with include and exclude globs counts only
//! the files they let through, so a source tree's build outputs and unrelated files do not
//! change it.
//!
//! A file counts when its path relative to the directory matches an include glob (any file,
//! when there is none) and no exclude glob. A directory an exclude glob matches is skipped
//! with everything in it, and so is one under a glob ending in `/**` (`build/**` skips
//! `build`). Globs are `globset`'s, with `*` and `?` never matching `/`: `*.c` is a file at
//! the top, `**/*.c` one at any depth. The identity of a filtered directory is the sorted
//! list of the files it counts, each with its relative path and content hash.
//!
//! Values name their files by path, and a filtered directory's filter travels with its path
//! as a *tagged path*: the path's bytes, a NUL (which no real path has), a mark and the
//! filter in hexadecimal. The stat cache hashes a tagged path as the filtered directory it
//! stands for.

use crate::error::Error;
use crate::globs::Matcher;
use crate::hash::{Digest, Hasher};
use std::path::{Path, PathBuf};

/// What separates a path from its filter in a tagged path.
const MARK: &[u8] = b"\0dir-filter:";

/// A directory's include and exclude globs, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Filter {
    pub(crate) include: Vec<String>,
    pub(crate) exclude: Vec<String>,
}

impl Filter {
    pub(crate) fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// The bytes that follow a filtered directory's path: the mark, then the globs.
    pub(crate) fn tag(&self) -> Vec<u8> {
        let globs = postcard::to_stdvec(&(&self.include, &self.exclude)).unwrap_or_default();
        [MARK, hex(&globs).as_bytes()].concat()
    }

    /// The filter a tag stands for.
    fn from_tag(tag: &[u8]) -> Result<Filter, String> {
        let bad = || "a directory filter that does not decode".to_owned();
        let hex = tag.strip_prefix(MARK).ok_or_else(bad)?;
        let bytes = unhex(hex).ok_or_else(bad)?;
        let (include, exclude) = crate::value::bounded::from_bytes(&bytes).map_err(|_| bad())?;
        Ok(Filter { include, exclude })
    }

    /// `src (include **/*.c; exclude build/**)`, for people.
    pub(crate) fn describe(&self, path: &Path) -> String {
        let mut parts = Vec::new();
        if !self.include.is_empty() {
            parts.push(format!("include {}", self.include.join(", ")));
        }
        if !self.exclude.is_empty() {
            parts.push(format!("exclude {}", self.exclude.join(", ")));
        }
        format!("{} ({})", path.display(), parts.join("; "))
    }
}

/// `path` with `filter` attached, as a value names a filtered directory.
pub(crate) fn tagged(path: &Path, filter: &Filter) -> PathBuf {
    let bytes = [path.as_os_str().as_encoded_bytes(), &filter.tag()].concat();
    path_from_bytes(bytes)
}

/// Splits encoded bytes into a path's and its filter's, if they have one.
pub(crate) fn split(bytes: &[u8]) -> Result<(&[u8], Filter), String> {
    match bytes.windows(MARK.len()).position(|window| window == MARK) {
        // A path starting with a NUL is a marked path under the store's `work/`, whose
        // filter, if any, comes later.
        Some(at) => Ok((&bytes[..at], Filter::from_tag(&bytes[at..])?)),
        None => Ok((bytes, Filter::default())),
    }
}

/// The directory and filter a tagged path stands for; `None` for any other path.
pub(crate) fn untag(path: &Path) -> Option<Result<(PathBuf, Filter), String>> {
    let bytes = path.as_os_str().as_encoded_bytes();
    bytes.windows(MARK.len()).position(|w| w == MARK)?;
    Some(split(bytes).map(|(dir, filter)| (path_from_bytes(dir.to_vec()), filter)))
}

/// A path as people should read it: a tagged path as its directory and filter.
pub(crate) fn shown(path: &Path) -> String {
    match untag(path) {
        Some(Ok((dir, filter))) => filter.describe(&dir),
        _ => path.display().to_string(),
    }
}

/// The real path of a tagged path (the path itself otherwise).
pub(crate) fn real(path: &Path) -> PathBuf {
    match untag(path) {
        Some(Ok((dir, _))) => dir,
        _ => path.to_path_buf(),
    }
}

/// A filter's globs, ready to match.
pub(crate) struct Globs {
    include: Option<Matcher>,
    exclude: Matcher,
    /// Directories whose whole content an exclude glob ending in `/**` matches.
    skip: Matcher,
}

impl Globs {
    /// Compiles a filter; a glob that does not parse is an error naming it and `dir`.
    pub(crate) fn new(dir: &Path, filter: &Filter) -> Result<Globs, Error> {
        let include = (!filter.include.is_empty())
            .then(|| Matcher::new(dir, filter.include.iter().map(String::as_str)))
            .transpose()?;
        let exclude = Matcher::new(dir, filter.exclude.iter().map(String::as_str))?;
        let skip = Matcher::new(
            dir,
            filter
                .exclude
                .iter()
                .filter_map(|glob| glob.strip_suffix("/**")),
        )?;
        Ok(Globs {
            include,
            exclude,
            skip,
        })
    }

    fn counts(&self, relative: &Path) -> bool {
        self.include
            .as_ref()
            .is_none_or(|include| include.is_match(relative))
            && !self.exclude.is_match(relative)
    }

    fn skips(&self, relative: &Path) -> bool {
        self.exclude.is_match(relative) || self.skip.is_match(relative)
    }
}

/// Every file under `root` that `globs` count, as (relative path, path), in a stable order
/// (each directory's entries sorted by name, depth first). Symbolic links are followed.
pub(crate) fn files(root: &Path, globs: &Globs) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    walk(root, Path::new(""), globs, &mut found)?;
    Ok(found)
}

fn walk(
    dir: &Path,
    relative: &Path,
    globs: &Globs,
    found: &mut Vec<(PathBuf, PathBuf)>,
) -> std::io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for name in names {
        let (path, inner) = (dir.join(&name), relative.join(&name));
        if std::fs::metadata(&path).is_ok_and(|meta| meta.is_dir()) {
            if !globs.skips(&inner) {
                walk(&path, &inner, globs, found)?;
            }
        } else if globs.counts(&inner) {
            found.push((inner, path));
        }
    }
    Ok(())
}

/// The identity of a filtered directory from the content hash of each file it counts.
pub(crate) fn digest(
    files: &[(PathBuf, PathBuf)],
    mut content: impl FnMut(&Path) -> std::io::Result<Digest>,
) -> std::io::Result<Digest> {
    let mut hasher = Hasher::new("choochoo/filtered-dir");
    for (relative, path) in files {
        hasher
            .field("path", relative.as_os_str().as_encoded_bytes())
            .digest("content", &content(path)?);
    }
    Ok(hasher.finish())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    let digit = |c: u8| char::from(c).to_digit(16);
    hex.chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((digit(*high)? * 16 + digit(*low)?) as u8),
            _ => None,
        })
        .collect()
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> Filter {
        Filter {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_tagged_path_gives_back_its_directory_and_filter() {
        let f = filter(&["**/*.c", "**/*.h"], &["build/**"]);
        let path = tagged(Path::new("src"), &f);
        assert!(path.parent().is_some_and(|p| p.as_os_str().is_empty()));
        assert_eq!(untag(&path), Some(Ok((PathBuf::from("src"), f.clone()))));
        assert_eq!(real(&path), PathBuf::from("src"));
        assert_eq!(
            shown(&path),
            "src (include **/*.c, **/*.h; exclude build/**)"
        );
        assert_eq!(untag(Path::new("src")), None);
    }

    #[test]
    fn globs_count_included_files_and_skip_excluded_trees() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "main.c",
            "README.md",
            "lib/a.c",
            "lib/a.h",
            "build/gen.c",
            "out/x.c",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        let names = |f: Filter| -> Vec<String> {
            let globs = Globs::new(dir.path(), &f).unwrap();
            let found = files(dir.path(), &globs).unwrap();
            found
                .iter()
                .map(|(relative, _)| relative.to_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            names(filter(&["**/*.c"], &["build/**", "out"])),
            ["lib/a.c", "main.c"]
        );
        assert_eq!(names(filter(&["*.c"], &[])), ["main.c"]);
        assert_eq!(
            names(filter(&[], &["*.md", "**/*.h"])),
            ["build/gen.c", "lib/a.c", "main.c", "out/x.c"]
        );
    }

    #[test]
    fn a_glob_that_does_not_parse_is_named() {
        let error = Globs::new(Path::new("src"), &filter(&["a[b"], &[]))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("directory src"), "{error}");
        assert!(error.contains("a[b"), "{error}");
    }
}
