//! Publishing a file atomically: written to a temp file under `tmp/`, synced, renamed into
//! place, and its directory synced, each step through [`Fs`] so that a test can fail any one
//! of them. A reader sees the whole file or none; a failed publish leaves nothing behind; a
//! process killed while writing leaves a temp file named by its id, which the next open
//! removes. Blobs and the files of a result restored from the remote cache are both
//! published this way.

use super::Store;
use crate::error::Error;
use crate::fs::Fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// What is published, as the errors of its steps name it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Published {
    /// An encoded output in `blobs/`.
    Blob,
    /// A file of a station's output, in its directory.
    #[cfg_attr(
        not(feature = "remote"),
        allow(dead_code, reason = "restored by the remote cache")
    )]
    File,
}

/// The operation of each step, for its error.
struct Steps {
    create_dir: &'static str,
    create: &'static str,
    write: &'static str,
    sync: &'static str,
    rename: &'static str,
    sync_dir: &'static str,
}

impl Published {
    fn steps(self) -> &'static Steps {
        match self {
            Published::Blob => &Steps {
                create_dir: "create the blob directory",
                create: "create the temp file",
                write: "write the blob to",
                sync: "sync the blob",
                rename: "publish the blob as",
                sync_dir: "sync the blob directory",
            },
            Published::File => &Steps {
                create_dir: "create the directory",
                create: "create the temp file",
                write: "write the file to",
                sync: "sync the file",
                rename: "publish the file as",
                sync_dir: "sync the directory",
            },
        }
    }
}

impl Store {
    /// Writes `bytes` as `path`: temp file, write, sync, rename into place, sync the
    /// directory. On an error nothing is left: the temp file goes, `path` is as it was.
    pub(crate) fn publish(&self, path: &Path, bytes: &[u8], what: Published) -> Result<(), Error> {
        let steps = what.steps();
        let parent = path.parent().unwrap_or(&self.dir);
        let fs = &*self.fs;
        fs.create_dir_all(parent)
            .map_err(|error| Error::io(steps.create_dir, parent, error))?;
        let temp = self.temp_path();
        if let Err(error) = write_and_rename(fs, steps, &temp, path, bytes) {
            let _ = std::fs::remove_file(&temp);
            return Err(error);
        }
        fs.sync_dir(parent)
            .map_err(|error| Error::io(steps.sync_dir, parent, error))
    }

    /// A fresh temp file name carrying this process's id, so a later open can tell an orphan.
    fn temp_path(&self) -> PathBuf {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join("tmp")
            .join(format!("{}-{n}", std::process::id()))
    }

    /// Removes temp files left by processes that are gone (killed mid-write).
    pub(super) fn remove_orphaned_temp_files(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("tmp")) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let pid = name
                .to_str()
                .and_then(|n| n.split('-').next())
                .and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !process_alive(pid)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The steps between creating the temp file and taking `path`'s name.
fn write_and_rename(
    fs: &dyn Fs,
    steps: &Steps,
    temp: &Path,
    path: &Path,
    bytes: &[u8],
) -> Result<(), Error> {
    let mut file = fs
        .create(temp)
        .map_err(|error| Error::io(steps.create, temp, error))?;
    fs.write_all(&mut file, temp, bytes)
        .map_err(|error| Error::io(steps.write, temp, error))?;
    fs.sync(&file, temp)
        .map_err(|error| Error::io(steps.sync, temp, error))?;
    fs.rename(temp, path)
        .map_err(|error| Error::io(steps.rename, path, error))
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}
