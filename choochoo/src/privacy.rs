//! The store is private to the user who runs the workflow: it holds every input of every
//! station (a password passed as an input, a customer file), so on Unix every directory the
//! runtime makes in it is created `0700` and every file `0600`, from its first write and
//! whatever the umask (a mode is given to the system call that creates it, and a umask only
//! ever takes bits away). SQLite's own files follow `store.db`, which is created here first:
//! SQLite gives its WAL, shared-memory and journal files the mode of the database. The files
//! a station writes into its own directory are its business; the directory itself is
//! private, which keeps them private too.
//!
//! [`wider_than_private`] finds what a store from before this rule, or a `chmod`, left open,
//! for `fsck` to warn about. On other platforms files get the system's defaults and nothing
//! is reported.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Creates `path` and any missing parents, each `0700`.
pub(crate) fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Options that create a missing file `0600`; the caller adds what it opens the file for.
pub(crate) fn open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates (or truncates) `path` for writing, `0600` if it is new.
pub(crate) fn create(path: &Path) -> io::Result<File> {
    open_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// Creates `path` empty, `0600`, unless it exists; what is in it is left alone.
pub(crate) fn touch(path: &Path) -> io::Result<()> {
    open_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
}

/// How many of a store's too-open entries a warning lists by name.
const LISTED: usize = 10;

/// The entries of the store in `dir` that others may read or enter, with their modes, the
/// first few of them and how many in all: the directory itself, `store.db` and its
/// companions, the blobs, temp and lock files, and the directories of `work/` down to each
/// station's own. What a station keeps inside its directory is its business and is not
/// looked at. Symbolic links are not followed.
pub(crate) fn wider_than_private(dir: &Path) -> (Vec<(PathBuf, u32)>, usize) {
    let mut found = Found::default();
    found.visit(dir, dir);
    (found.listed, found.count)
}

/// What [`wider_than_private`] found so far.
#[derive(Default)]
struct Found {
    listed: Vec<(PathBuf, u32)>,
    count: usize,
}

impl Found {
    fn visit(&mut self, store: &Path, path: &Path) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if let Some(mode) = open_mode(&meta) {
            self.count += 1;
            if self.listed.len() < LISTED {
                self.listed.push((path.to_owned(), mode));
            }
        }
        if !meta.is_dir() || !runtime_made_below(store, path) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            self.visit(store, &entry.path());
        }
    }
}

/// Whether the runtime makes the entries of directory `path` of the store: everywhere but
/// inside a station's own directory, `work/<profile>/<node>/`, and inside a kept failed
/// one, `work/<profile>/.failed/<node>.run<id>.<attempt>/`.
fn runtime_made_below(store: &Path, path: &Path) -> bool {
    let Ok(rest) = path.strip_prefix(store) else {
        return false;
    };
    let parts: Vec<_> = rest.components().map(|part| part.as_os_str()).collect();
    match parts.as_slice() {
        [first, ..] if *first != "work" => true,
        [] | [_] | [_, _] => true,
        [_, _, third] => *third == ".failed",
        _ => false,
    }
}

/// The permission bits of an entry that others may use (group or other bits set), if any.
#[cfg(unix)]
fn open_mode(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    (!meta.file_type().is_symlink() && mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn open_mode(_: &std::fs::Metadata) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_makes_everything_but_what_is_inside_a_stations_directory() {
        let store = Path::new("/s");
        let below = |rest: &str| runtime_made_below(store, &store.join(rest));
        assert!(runtime_made_below(store, store));
        for made in [
            "blobs",
            "blobs/ab",
            "work",
            "work/default",
            "work/default/.failed",
        ] {
            assert!(below(made), "{made}");
        }
        for station in [
            "work/default/deploy.db",
            "work/default/.failed/db.run3.0",
            "work/default/db/sub",
        ] {
            assert!(!below(station), "{station}");
        }
    }
}
