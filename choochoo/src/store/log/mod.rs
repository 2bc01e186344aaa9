//! The record log: every memo record and every node's head, in one append-only file,
//! `records.log` (its frames are in `frame.rs`, its entries in `entry.rs`). A batch of
//! records is one append and one `fdatasync`, whatever the store's size; opening the store
//! reads the log once, front to back (`load.rs`), into an index of where each current record
//! and head is (`index.rs`), and a lookup reads its one entry back, checking its frame again.
//!
//! Several processes append to one log: each append holds `records.lock` (an exclusive
//! `flock`) and first reads what others appended since (`append.rs`); a run reads the same
//! as it starts ([`Log::refresh`]), and a lookup that misses does when the open file grew
//! (one `fstat`, not a look up of the log's path). A torn tail (a process killed while it
//! appended) is cut at the last good entry by the next process that holds the lock; a
//! corrupt entry in the middle is stepped over and named by `fsck`, which drops it when it
//! repairs (`compact.rs`). `gc` rewrites the log without what is gone, and the others notice
//! the new file by its inode and read it again.

mod append;
mod compact;
pub(crate) mod entry;
pub(crate) mod frame;
mod index;
#[cfg(feature = "test-util")]
pub(crate) mod inspect;
pub(crate) mod kept;
mod load;
pub(crate) mod migrate;
mod scan;
pub(crate) mod small;
mod view;

use crate::error::Error;
use entry::{Entry, LogHead, LogRecord, RecordView, View};
use frame::{Format, Frame, HEADER};
use index::{Index, Slot};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// A record that may be unreadable: `Err` says why.
pub(crate) type Read<T> = Result<T, String>;

/// The record log of one store.
#[derive(Debug)]
pub(crate) struct Log {
    files: Files,
    state: RwLock<State>,
}

/// Where the log and its lock are.
#[derive(Debug)]
struct Files {
    path: PathBuf,
    lock_path: PathBuf,
}

/// The open file and what is known of it.
#[derive(Debug)]
struct State {
    file: File,
    /// How its frames are checked, as its first bytes say.
    format: Format,
    /// The file's device and inode: another one under the log's name was compacted.
    identity: (u64, u64),
    index: Index,
    /// Corrupt entries stepped over, for `fsck`.
    problems: Vec<String>,
}

impl Log {
    /// Opens (or starts) the log of the store in `dir` and reads it once.
    pub(crate) fn open(dir: &Path) -> Result<Log, Error> {
        let files = Files {
            path: dir.join("records.log"),
            lock_path: dir.join("records.lock"),
        };
        let state = files.load(false)?;
        Ok(Log {
            files,
            state: RwLock::new(state),
        })
    }

    /// The format of the log as it was read: an older one is rewritten by [`Log::compact`].
    pub(crate) fn format(&self) -> Format {
        self.read_state().format
    }

    /// Reads what other processes appended since the log was read, and the whole log again
    /// if another process compacted it.
    pub(crate) fn refresh(&self) -> Result<(), Error> {
        let meta = std::fs::metadata(&self.files.path)
            .map_err(|error| Error::io("look at the record log", &self.files.path, error))?;
        if self.read_state().is_current(&meta) {
            return Ok(());
        }
        let mut state = self.write();
        self.files.catch_up(&mut state, false)
    }

    /// Reads what other processes appended to the open file since it was read.
    fn refresh_appended(&self) -> Result<(), Error> {
        let appended = {
            let state = self.read_state();
            let meta = state.file.metadata();
            let meta =
                meta.map_err(|error| Error::io("look at the record log", &self.files.path, error))?;
            meta.len() != state.index.end
        };
        match appended {
            true => self.refresh(),
            false => Ok(()),
        }
    }

    /// The record of `key` in `profile`, as `read` makes it of the entry read in place;
    /// `fresh` first reads what others appended when the index does not have it. Whether
    /// they did is asked of the open file, not of the log's path: the file is replaced only
    /// by `gc` and `fsck`, which wait for every run to end, and the run's start read the log
    /// by its path ([`Log::refresh`]).
    pub(crate) fn record<R>(
        &self,
        profile: &str,
        key: &[u8; 32],
        fresh: bool,
        read: impl FnOnce(&RecordView<'_>) -> Read<R>,
    ) -> Result<Option<Read<R>>, Error> {
        if fresh && self.read_state().index.record(profile, key).is_none() {
            self.refresh_appended()?;
        }
        let state = self.read_state();
        let Some(slot) = state.index.record(profile, key) else {
            return Ok(None);
        };
        Ok(Some(state.with_frame(slot, |body| {
            let offset = slot.offset();
            let view = entry::view(body).map_err(|error| {
                format!("the log entry at byte {offset} is unreadable: {error}")
            })?;
            match view {
                View::Station(record, _) | View::Record(record)
                    if record.key == *key && record.profile == profile =>
                {
                    read(&record)
                }
                _ => Err(format!(
                    "the log entry at byte {offset} holds another record"
                )),
            }
        })))
    }

    /// The record of `key` in `profile` when the index keeps it whole (a small one, see
    /// `small.rs`): no read of the log.
    pub(crate) fn small(&self, profile: &str, key: &[u8; 32]) -> Option<small::Small> {
        self.read_state().index.small(profile, key)
    }

    /// What `read` makes of the record of `key` in `profile` when the index keeps it with
    /// its files (`kept.rs`): no read of the log, and no copy of what the index holds.
    pub(crate) fn kept<R>(
        &self,
        profile: &str,
        key: &[u8; 32],
        read: impl FnOnce(&kept::Kept) -> R,
    ) -> Option<R> {
        self.read_state().index.kept(profile, key).map(read)
    }

    /// The head of `node` in `profile`, if any and readable.
    pub(crate) fn head(&self, profile: &str, node: &str) -> Option<LogHead> {
        let state = self.read_state();
        let slot = state.index.head(profile, node)?;
        let head = state.read(slot).ok()?.head()?.clone();
        (head.node == node && head.profile == profile).then_some(head)
    }

    /// Every readable current head of `profile` (of every profile with `None`).
    pub(crate) fn heads(&self, profile: Option<&str>) -> Vec<LogHead> {
        let state = self.read_state();
        let heads = state.index.heads(profile);
        heads
            .filter_map(|slot| state.read(slot).ok()?.head().cloned())
            .collect()
    }

    /// Every current record with its profile and key; unreadable ones as errors. A record
    /// whose frame is found damaged is no longer used from the copy the index kept of it
    /// (its lookups read the damage and miss).
    pub(crate) fn records(&self) -> Vec<(String, [u8; 32], Read<LogRecord>)> {
        let records = self.read_records();
        let damaged = records.iter().filter(|(_, _, record)| record.is_err());
        let damaged: Vec<_> = damaged.map(|(profile, key, _)| (profile, key)).collect();
        if !damaged.is_empty() {
            let mut state = self.write();
            for (profile, key) in damaged {
                state.index.distrust(profile, key);
            }
        }
        records
    }

    fn read_records(&self) -> Vec<(String, [u8; 32], Read<LogRecord>)> {
        let state = self.read_state();
        let records = state.index.records();
        records
            .map(|(profile, key, slot)| {
                let record = state.read(slot).and_then(|entry| {
                    let offset = slot.offset();
                    entry
                        .into_record()
                        .ok_or_else(|| format!("the log entry at byte {offset} is no record"))
                });
                (profile.to_owned(), key, record)
            })
            .collect()
    }

    /// The corrupt entries met reading the log.
    pub(crate) fn problems(&self) -> Vec<String> {
        self.read_state().problems.clone()
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// Whether the file at the log's path is this one and was read to its end.
    fn is_current(&self, meta: &std::fs::Metadata) -> bool {
        identity(meta) == self.identity && meta.len() == self.index.end
    }

    /// The entry in `slot`, its frame checked again.
    fn read(&self, slot: Slot) -> Read<Entry> {
        self.with_frame(slot, |body| {
            entry::decode(body).map_err(|error| {
                format!(
                    "the log entry at byte {} is unreadable: {error}",
                    slot.offset()
                )
            })
        })
    }

    /// What `f` makes of the body of the frame in `slot`, its frame checked again.
    fn with_frame<R>(&self, slot: Slot, f: impl FnOnce(&[u8]) -> Read<R>) -> Read<R> {
        let offset = slot.offset();
        let mut bytes = vec![0; slot.length().unwrap_or(HEADER)];
        let io = |error: std::io::Error| format!("the log entry at byte {offset}: {error}");
        let found = read_at(&self.file, &mut bytes, offset).map_err(io)?;
        bytes.truncate(found);
        if slot.length().is_none()
            && let Some(header) = bytes.first_chunk::<4>()
        {
            let length = HEADER + (u32::from_le_bytes(*header) as usize).min(frame::LONGEST);
            bytes.resize(length, 0);
            let found = read_at(&self.file, &mut bytes, offset).map_err(io)?;
            bytes.truncate(found);
        }
        match frame::parse(self.format, &bytes) {
            Frame::Good(body, _) => f(body),
            _ => Err(format!("the log entry at byte {offset} is corrupt")),
        }
    }
}

/// A file's device and inode (on Unix; elsewhere, its length never shrinking stands for it).
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

/// Reads into `buf` from `offset` until it is full or the file ends; how many bytes came.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(file, &mut buf[done..], offset + done as u64)?;
        #[cfg(windows)]
        let n =
            std::os::windows::fs::FileExt::seek_read(file, &mut buf[done..], offset + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}
