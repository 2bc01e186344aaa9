//! The power-loss backend of the reliability tests (feature `test-util`, not public API): a
//! file system that loses power at a chosen step. A kill keeps what the kernel already has;
//! a power cut loses every write not made durable, and this is what it loses: the bytes
//! written to a file since its last sync (the file is cut back to its length then), the
//! renames not followed by a sync of their directory (undone), and the files created in a
//! directory not synced since (removed).
//!
//! Only the store's own steps go through it (blobs, restored files, the record log and its
//! compaction); SQLite (`store.db`: runs, the ledger, the stat cache) syncs on its own and is
//! outside it.

use crate::fs::{Fs, Op};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file system that loses power at its `at`-th step (counting from 1; 0 never): that step
/// and every later one fail with EIO, as a machine that stopped. [`Crash::power_off`] then
/// discards what was not durable; open the store again on the real file system. Open a
/// store on it with `choochoo::test_util::open_with_crash`.
#[derive(Debug)]
pub struct Crash {
    at: u64,
    state: Mutex<Pending>,
}

/// What is not durable yet.
#[derive(Debug, Default)]
struct Pending {
    steps: u64,
    /// Files written since their last sync, with their length then.
    unsynced: HashMap<PathBuf, u64>,
    /// Renames whose directory was not synced since: from, to, and a link to the file `to`
    /// named before, which a cut brings back.
    renames: Vec<(PathBuf, PathBuf, Option<PathBuf>)>,
    /// Files created in a directory not synced since.
    created: Vec<PathBuf>,
}

impl Crash {
    /// Loses power at step `at` (from 1; 0 never).
    pub fn new(at: u64) -> Crash {
        Crash {
            at,
            state: Mutex::new(Pending::default()),
        }
    }

    /// How many steps were asked for so far.
    pub fn steps(&self) -> u64 {
        self.lock().steps
    }

    /// Whether the power went off (a step at or past the crash point was asked for).
    pub fn crashed(&self) -> bool {
        self.at != 0 && self.lock().steps >= self.at
    }

    /// Discards what a power cut loses: cuts each file written since its last sync back to
    /// its length then, undoes the renames no directory sync made durable, and removes the
    /// files created in directories not synced since.
    pub fn power_off(&self) -> io::Result<()> {
        let mut pending = self.lock();
        for (path, length) in pending.unsynced.drain() {
            if path.exists() {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(length)?;
            }
        }
        for (from, to, replaced) in pending.renames.drain(..).rev() {
            if to.exists() {
                std::fs::rename(&to, &from)?;
            }
            if let Some(replaced) = replaced {
                std::fs::rename(&replaced, &to)?;
            }
        }
        for path in pending.created.drain(..) {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a step; `Err` once the power is off.
    fn step(&self) -> io::Result<()> {
        let mut pending = self.lock();
        pending.steps += 1;
        if self.at != 0 && pending.steps >= self.at {
            return Err(io::Error::from_raw_os_error(5));
        }
        Ok(())
    }
}

impl Pending {
    /// Notes `path`'s length as its durable one, unless it is written since a sync already.
    fn before_write(&mut self, path: &Path) {
        if !self.unsynced.contains_key(path) {
            let length = std::fs::metadata(path).map_or(0, |meta| meta.len());
            self.unsynced.insert(path.to_path_buf(), length);
        }
    }

    /// A directory synced: the renames into it and the files created in it are durable.
    fn dir_synced(&mut self, dir: &Path) {
        for (_, _, replaced) in &mut self.renames {
            if replaced.as_ref().and_then(|r| r.parent()) == Some(dir) {
                let _ = std::fs::remove_file(replaced.take().unwrap_or_default());
            }
        }
        self.renames.retain(|(_, to, _)| to.parent() != Some(dir));
        self.created.retain(|path| path.parent() != Some(dir));
    }
}

impl Fs for Crash {
    fn run(&self, op: Op, path: &Path, step: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()> {
        self.step()?;
        let mut pending = self.lock();
        match op {
            Op::Write | Op::Append => pending.before_write(path),
            Op::Create => pending.created.push(path.to_path_buf()),
            _ => {}
        }
        drop(pending);
        step()?;
        let mut pending = self.lock();
        match op {
            Op::Sync | Op::Append => {
                pending.unsynced.remove(path);
            }
            Op::SyncDir => pending.dir_synced(path),
            _ => {}
        }
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.step()?;
        let mut pending = self.lock();
        // What `to` names now comes back if the rename is not made durable.
        let replaced = to
            .exists()
            .then(|| to.with_file_name(format!(".crash-replaced-{}", pending.steps)));
        if let Some(replaced) = &replaced {
            std::fs::hard_link(to, replaced)?;
        }
        std::fs::rename(from, to)?;
        if let Some(length) = pending.unsynced.remove(from) {
            pending.unsynced.insert(to.to_path_buf(), length);
        }
        pending
            .renames
            .push((from.to_path_buf(), to.to_path_buf(), replaced));
        Ok(())
    }
}
