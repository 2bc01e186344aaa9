//! The file-system operations that publish an output into the store, behind a trait so that
//! a test can fail any one of them.
//!
//! A publish (of a blob, or of a file restored from the remote cache; see `store/publish.rs`)
//! is: create its directory, create a temp file, write it, sync it, rename it into place, sync
//! the directory — then commit the record that names it. Each step is one call here. `Faults`
//! (`faults.rs`, feature `test-util`) fails the N-th call (once, or that one and every later
//! one) with an operating-system error of the test's choice, which is how the tests prove
//! that a failure at any step leaves the store consistent and the run resumable.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

/// One step of a publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    CreateDir,
    Create,
    Write,
    Sync,
    Rename,
    SyncDir,
    /// A batch of entries written at the end of the record log and synced: durable once
    /// this step returns, absent if it fails.
    Append,
}

/// The steps of a publish, done for real by [`Real`] and with failures by `Faults`.
pub(crate) trait Fs: Send + Sync + fmt::Debug {
    /// Does `op` on `path` (for `Rename`, `path` is the destination).
    fn run(&self, op: Op, path: &Path, step: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()>;

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.run(Op::CreateDir, path, &mut || {
            crate::privacy::create_dir_all(path)
        })
    }

    fn create(&self, path: &Path) -> io::Result<std::fs::File> {
        let mut file = None;
        self.run(Op::Create, path, &mut || {
            file = Some(crate::privacy::create(path)?);
            Ok(())
        })?;
        file.ok_or_else(|| io::Error::other("the file was not created"))
    }

    fn write_all(&self, file: &mut std::fs::File, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.run(Op::Write, path, &mut || file.write_all(bytes))
    }

    fn sync(&self, file: &std::fs::File, path: &Path) -> io::Result<()> {
        self.run(Op::Sync, path, &mut || file.sync_all())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.run(Op::Rename, to, &mut || std::fs::rename(from, to))
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.run(Op::SyncDir, path, &mut || sync_dir(path))
    }
}

/// The real file system.
#[derive(Debug)]
pub(crate) struct Real;

impl Fs for Real {
    fn run(&self, _: Op, _: &Path, step: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()> {
        step()
    }
}

/// Makes a directory's entries (a rename into it) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
