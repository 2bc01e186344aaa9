//! Compaction: the log rewritten with only its current entries — no record replaced or
//! forgotten, no head replaced, no tombstone, nothing corrupt — into a temp file that is
//! synced, renamed over the log and its directory synced, all under `records.lock` and
//! through [`Fs`]. Other processes notice the new file by its inode and read it again.

use super::entry::Entry;
use super::frame::{self, Format};
use super::index::Slot;
use super::{Files, Log};
use crate::error::Error;
use crate::fs::Fs;
use std::collections::{BTreeMap, HashSet};

/// The new log is written in chunks of this many bytes.
const CHUNK: usize = 1 << 20;

/// A record's identity: its profile and key.
pub(crate) type RecordKey = (String, [u8; 32]);

/// Which parts of the entry at an offset are current.
#[derive(Default, Clone, Copy)]
struct Live {
    record: bool,
    head: bool,
}

impl Log {
    /// Rewrites the log with its current entries, without the records `forget` names.
    pub(crate) fn compact(&self, fs: &dyn Fs, forget: &HashSet<RecordKey>) -> Result<(), Error> {
        let _lock = self.files.lock()?;
        let mut state = self.write();
        self.files.catch_up(&mut state, true)?;
        let mut live: BTreeMap<Slot, Live> = BTreeMap::new();
        for (_, _, slot) in state.index.records() {
            live.entry(slot).or_default().record = true;
        }
        for slot in state.index.heads(None) {
            live.entry(slot).or_default().head = true;
        }
        let mut writer = Writer::new(fs, &self.files)?;
        for (slot, parts) in live {
            let Ok(found) = state.read(slot) else {
                continue;
            };
            if let Some(entry) = kept(found, parts, forget) {
                writer.push(&entry)?;
            }
        }
        let finished = writer.finish();
        // Whether or not the rename happened, read the file the log's name holds now.
        *state = self.files.load(true)?;
        finished
    }
}

/// What of an entry a compaction keeps.
fn kept(found: Entry, parts: Live, forget: &HashSet<RecordKey>) -> Option<Entry> {
    let forgotten =
        |record: &super::entry::LogRecord| forget.contains(&(record.profile.clone(), record.key));
    match found {
        Entry::Station(record, head) => {
            let record = (parts.record && !forgotten(&record)).then_some(record);
            match (record, parts.head) {
                (Some(record), true) => Some(Entry::Station(record, head)),
                (Some(record), false) => Some(Entry::Record(record)),
                (None, true) => Some(Entry::Head(head)),
                (None, false) => None,
            }
        }
        Entry::Record(record) => {
            (parts.record && !forgotten(&record)).then_some(Entry::Record(record))
        }
        Entry::Head(head) => parts.head.then_some(Entry::Head(head)),
        Entry::Forget { .. } | Entry::ForgetNode { .. } => None,
    }
}

/// The new log, written in chunks to a temp file, then put in the old one's place.
struct Writer<'a> {
    fs: &'a dyn Fs,
    files: &'a Files,
    temp: std::path::PathBuf,
    file: std::fs::File,
    buffer: Vec<u8>,
}

impl<'a> Writer<'a> {
    fn new(fs: &'a dyn Fs, files: &'a Files) -> Result<Writer<'a>, Error> {
        let dir = files.path.parent().unwrap_or(&files.path);
        let temp = dir
            .join("tmp")
            .join(format!("{}-records.log", std::process::id()));
        let file = fs
            .create(&temp)
            .map_err(|error| Error::io("create the temp file", &temp, error))?;
        Ok(Writer {
            fs,
            files,
            temp,
            file,
            buffer: Format::CURRENT.magic().to_vec(),
        })
    }

    fn push(&mut self, entry: &Entry) -> Result<(), Error> {
        frame::write(Format::CURRENT, entry, &mut self.buffer)
            .map_err(|error| Error::encoding("record log entry", error))?;
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        let result = self.fs.write_all(&mut self.file, &self.temp, &self.buffer);
        self.buffer.clear();
        result.map_err(|error| self.failed("write the compacted record log to", error))
    }

    /// Syncs the new log, renames it over the old one and syncs their directory.
    fn finish(mut self) -> Result<(), Error> {
        self.flush()?;
        let path = &self.files.path;
        self.fs
            .sync(&self.file, &self.temp)
            .map_err(|error| self.failed("sync the compacted record log", error))?;
        self.fs
            .rename(&self.temp, path)
            .map_err(|error| self.failed("replace the record log", error))?;
        let dir = path.parent().unwrap_or(path);
        self.fs
            .sync_dir(dir)
            .map_err(|error| Error::io("sync the store directory", dir, error))
    }

    /// The error of a step, the temp file removed.
    fn failed(&self, operation: &'static str, error: std::io::Error) -> Error {
        let _ = std::fs::remove_file(&self.temp);
        Error::io(operation, &self.temp, error)
    }
}
