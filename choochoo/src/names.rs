//! Output names: relative paths that choochoo turns into files under a directory it owns (a
//! station's directory, or one an output is restored into). A name comes from a station or
//! from stored or remote data, so it is checked before it is joined: no `..`, no absolute
//! path or drive prefix, no NUL byte, no empty name, and no ancestor under the root that is a
//! symbolic link (which could point anywhere). A name that fails is refused with an error
//! naming it; nothing is created.

use crate::error::Error;
use std::path::{Component, Path, PathBuf};

/// Joins `name` under `root`, refusing names that could leave it.
pub(crate) fn join(root: &Path, name: &Path) -> Result<PathBuf, Error> {
    let refuse = |why: &str| {
        Error::usage(format!(
            "output name {:?} under {} is refused: {why}",
            name,
            root.display()
        ))
    };
    if name.as_os_str().is_empty() {
        return Err(refuse("it is empty"));
    }
    if name.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(refuse("it contains a NUL byte"));
    }
    let mut path = root.to_path_buf();
    for component in name.components() {
        match component {
            Component::Normal(part) => {
                path.push(part);
                // Every ancestor that exists must be a real directory, not a link out.
                if let Ok(meta) = std::fs::symlink_metadata(&path)
                    && meta.file_type().is_symlink()
                {
                    return Err(refuse(&format!("{} is a symbolic link", path.display())));
                }
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(refuse("it contains `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse("it is an absolute path"));
            }
        }
    }
    if path == root {
        return Err(refuse("it names the directory itself"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::join;
    use std::path::Path;

    #[test]
    fn plain_names_join_under_the_root() {
        let root = tempfile::tempdir().unwrap();
        let path = join(root.path(), Path::new("a/b.txt")).unwrap();
        assert_eq!(path, root.path().join("a").join("b.txt"));
        let path = join(root.path(), Path::new("./c")).unwrap();
        assert_eq!(path, root.path().join("c"));
    }

    #[test]
    fn names_that_could_leave_the_root_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let refused = |name: &str, why: &str| {
            let error = join(root.path(), Path::new(name)).unwrap_err().to_string();
            assert!(error.contains(why), "{name:?}: {error}");
            assert!(error.contains(&format!("{name:?}")), "{error}");
        };
        refused("../x", "`..`");
        refused("a/../../x", "`..`");
        refused("/etc/passwd", "absolute");
        refused("a\0b", "NUL");
        refused("", "empty");
        refused(".", "directory itself");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_ancestor_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        let error = join(root.path(), Path::new("link/file"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("symbolic link"), "{error}");
        // The final name itself being a link is refused too: writing through it would follow.
        std::os::unix::fs::symlink(outside.path().join("f"), root.path().join("f")).unwrap();
        assert!(join(root.path(), Path::new("f")).is_err());
        // A real directory is fine.
        std::fs::create_dir(root.path().join("real")).unwrap();
        assert!(join(root.path(), Path::new("real/file")).is_ok());
    }
}
