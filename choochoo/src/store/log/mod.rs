//! The record log: every memo record and every node's head, in one append-only file,
//! `records.log` (its frames are in `frame.rs`, its entries in `entry.rs`). A batch of records is one append and one
//! `fdatasync`, whatever the store's size; opening the store reads the log once, front to
//! back, into an index of where each current record and head is (`index.rs`), and a lookup
//! reads its one entry back, checking its frame again.
//!
//! Several processes append to one log: each append holds `records.lock` (an exclusive
//! `flock`) and first reads what others appended since (`append.rs`); a lookup that misses
//! reads the same before it says so ([`Log::refresh`]). A torn tail (a process killed while it
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
pub(crate) mod migrate;
mod scan;
pub(crate) mod small;

use crate::error::Error;
use entry::{Entry, LogHead, LogRecord, RecordView, View};
use frame::{Format, Frame, HEADER, MAGIC_LEN};
use index::{Index, Slot};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The log is read in chunks of this many bytes: one buffer, small enough to stay in the
/// cache while it is scanned.
const CHUNK: usize = 1 << 18;

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

    /// The record of `key` in `profile`, as `read` makes it of the entry read in place;
    /// `fresh` first reads what others appended when the index does not have it.
    pub(crate) fn record<R>(
        &self,
        profile: &str,
        key: &[u8; 32],
        fresh: bool,
        read: impl FnOnce(&RecordView<'_>) -> Read<R>,
    ) -> Result<Option<Read<R>>, Error> {
        if fresh && self.read_state().index.record(profile, key).is_none() {
            self.refresh()?;
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

    /// The record of `key` in `profile` when the index keeps it with its files (`kept.rs`):
    /// no read of the log.
    pub(crate) fn kept(&self, profile: &str, key: &[u8; 32]) -> Option<kept::Kept> {
        self.read_state().index.kept(profile, key).cloned()
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

impl Files {
    /// Opens the file and indexes it whole; `locked`: the caller holds `records.lock`, and a
    /// torn tail is cut.
    fn load(&self, locked: bool) -> Result<State, Error> {
        let file = crate::privacy::open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(|error| Error::io("open the record log", &self.path, error))?;
        let meta = file
            .metadata()
            .map_err(|error| Error::io("look at the record log", &self.path, error))?;
        if meta.len() == 0 && !locked {
            let _lock = self.lock()?;
            return self.load(true);
        }
        if meta.len() == 0 {
            self.start(&file)?;
        }
        let mut state = State {
            identity: identity(&meta),
            format: self.format_of(&file)?,
            file,
            index: Index::default(),
            problems: Vec::new(),
        };
        state.index.end = MAGIC_LEN as u64;
        if self.read_new(&mut state, locked)? {
            // A torn tail: cut it under the lock, unless it was an append then in progress.
            let _lock = self.lock()?;
            self.read_new(&mut state, true)?;
        }
        Ok(state)
    }

    /// Brings `state` up to the file: the new file if compacted, else what was appended.
    fn catch_up(&self, state: &mut State, locked: bool) -> Result<(), Error> {
        let meta = std::fs::metadata(&self.path)
            .map_err(|error| Error::io("look at the record log", &self.path, error))?;
        if identity(&meta) != state.identity || meta.len() < state.index.end {
            *state = self.load(locked)?;
            return Ok(());
        }
        self.read_new(state, locked).map(drop)
    }

    /// Indexes the bytes past `state.index.end`, read in chunks; whether a torn tail is left
    /// after them (one is cut when `locked`).
    fn read_new(&self, state: &mut State, locked: bool) -> Result<bool, Error> {
        let io = |error| Error::io("read the record log", &self.path, error);
        let length = state.file.metadata().map_err(io)?.len();
        let mut bytes: Vec<u8> = Vec::new();
        let (mut base, mut read_to) = (state.index.end, state.index.end);
        while read_to < length {
            let wanted = CHUNK.min((length - read_to) as usize);
            let found = read_more(&state.file, &mut bytes, wanted, read_to).map_err(io)?;
            read_to += found as u64;
            let good = scan::scan_good(state.format, &bytes, base, &mut state.index);
            let whole_to_come = matches!(frame::parse(state.format, &bytes[good..]), Frame::Short);
            // A file that ends sooner than it did (another process cut a torn tail) stops
            // the chunks too.
            if found > 0 && (good == bytes.len() || (whole_to_come && read_to < length)) {
                bytes.drain(..good);
                base += good as u64;
                continue;
            }
            // Something is wrong past the good entries: the careful scan takes the rest.
            let mut rest = bytes.split_off(good);
            rest.extend(read_from(&state.file, read_to).map_err(io)?);
            return self.scan_rest(state, &rest, base + good as u64, locked);
        }
        Ok(false)
    }

    /// Scans what follows the last good entry, `bytes` from `start` on: stepping over what is
    /// corrupt, and cutting a torn tail when `locked`; whether a torn tail is left.
    fn scan_rest(
        &self,
        state: &mut State,
        bytes: &[u8],
        start: u64,
        locked: bool,
    ) -> Result<bool, Error> {
        let scanned = scan::scan(state.format, bytes, start, &mut state.index);
        for problem in &scanned.problems {
            tracing::warn!("{}: {problem}", self.path.display());
        }
        state.problems.extend(scanned.problems);
        match scanned.torn {
            Some(torn) if locked => {
                self.cut(&state.file, torn, start + bytes.len() as u64)?;
                Ok(false)
            }
            torn => Ok(torn.is_some()),
        }
    }

    /// The format the log's first bytes name; an error when they name none this version
    /// reads.
    fn format_of(&self, file: &File) -> Result<Format, Error> {
        let mut magic = [0; MAGIC_LEN];
        let found = read_at(file, &mut magic, 0)
            .map_err(|error| Error::io("read the record log", &self.path, error))?;
        let format = (found == MAGIC_LEN)
            .then(|| Format::of_magic(&magic))
            .flatten();
        format.ok_or_else(|| {
            Error::usage(format!(
                "{} is not a record log this choochoo reads (its first bytes are not \
                 `choochoo-log` of format 1 or 2); use the choochoo version that wrote it, or \
                 move the store away",
                self.path.display()
            ))
        })
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

/// Everything in `file` from `offset` on.
fn read_from(file: &File, offset: u64) -> std::io::Result<Vec<u8>> {
    let length = file.metadata()?.len().saturating_sub(offset);
    let mut bytes = vec![0; usize::try_from(length).unwrap_or(usize::MAX)];
    let found = read_at(file, &mut bytes, offset)?;
    bytes.truncate(found);
    Ok(bytes)
}

/// Appends up to `wanted` bytes of `file` from `offset` on to `bytes` (into its spare room,
/// not zeroed first); how many came.
fn read_more(
    file: &File,
    bytes: &mut Vec<u8>,
    wanted: usize,
    offset: u64,
) -> std::io::Result<usize> {
    use std::io::{Read, Seek};
    let mut reader = file;
    reader.seek(std::io::SeekFrom::Start(offset))?;
    bytes.reserve(wanted);
    reader.take(wanted as u64).read_to_end(bytes)
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
