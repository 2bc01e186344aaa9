//! The record log as the tests look at it and damage it, without opening a store (feature
//! `test-util`): its current records and heads, a record rewritten as a corrupt one would
//! read, a byte of one flipped in place, the whole log as an older format wrote it.

use super::entry::{Entry, LogHead, LogRecord};
use super::frame::{self, Format, Frame, HEADER, MAGIC_LEN};
use super::{Log, read_at};
use crate::error::Error;
use std::path::Path;

impl Log {
    /// The log of the store in `dir`; `None` when it has none yet.
    fn of_store(dir: &Path) -> Result<Option<Log>, Error> {
        if !dir.join("records.log").exists() {
            return Ok(None);
        }
        Log::open(dir).map(Some)
    }

    fn path(&self) -> &Path {
        &self.files.path
    }

    /// Where the current record of `key` is, in whichever profile.
    fn offset_of(&self, key: &[u8; 32]) -> Option<u64> {
        let state = self.read_state();
        let mut found = state.index.records().filter(|(_, k, _)| k == key);
        found.next().map(|(_, _, slot)| slot.offset())
    }
}

/// The current records of the store in `dir`, readable ones, oldest first.
pub fn records(dir: &Path) -> Result<Vec<LogRecord>, Error> {
    let Some(log) = Log::of_store(dir)? else {
        return Ok(Vec::new());
    };
    let mut records: Vec<LogRecord> = log
        .records()
        .into_iter()
        .filter_map(|(_, _, record)| record.ok())
        .collect();
    records.sort_by_key(|record| (record.created_ns, record.key));
    Ok(records)
}

/// The current heads of the store in `dir`, by profile and node.
pub fn heads(dir: &Path) -> Result<Vec<LogHead>, Error> {
    let Some(log) = Log::of_store(dir)? else {
        return Ok(Vec::new());
    };
    let mut heads = log.heads(None);
    heads.sort_by(|a, b| (&a.profile, &a.node).cmp(&(&b.profile, &b.node)));
    Ok(heads)
}

/// Rewrites the current record of `key` in the store in `dir` as `change` makes it (appended,
/// so it replaces the old one, as a damaged record would read); `false` when there is none.
pub fn edit_record(
    dir: &Path,
    key: &[u8],
    change: impl FnOnce(&mut LogRecord),
) -> Result<bool, Error> {
    let Some(log) = Log::of_store(dir)? else {
        return Ok(false);
    };
    let Ok(key) = <[u8; 32]>::try_from(key) else {
        return Ok(false);
    };
    let Some(mut record) = log
        .records()
        .into_iter()
        .find(|(_, k, _)| *k == key)
        .and_then(|(_, _, record)| record.ok())
    else {
        return Ok(false);
    };
    change(&mut record);
    log.append(&crate::fs::Real, &[Entry::Record(record)])?;
    Ok(true)
}

/// Forgets the current records of the store in `dir` that `which` picks, as a store would
/// when they are unusable; how many went.
pub fn forget_records(dir: &Path, which: impl Fn(&LogRecord) -> bool) -> Result<usize, Error> {
    let Some(log) = Log::of_store(dir)? else {
        return Ok(0);
    };
    let gone: Vec<Entry> = log
        .records()
        .into_iter()
        .filter_map(|(_, _, record)| record.ok())
        .filter(|record| which(record))
        .map(|record| Entry::Forget {
            profile: record.profile,
            key: record.key,
        })
        .collect();
    log.append(&crate::fs::Real, &gone)?;
    Ok(gone.len())
}

/// Flips one byte inside the frame of the current record of `key`, in place (its check no
/// longer matches); `false` when there is none.
pub fn corrupt_record(dir: &Path, key: &[u8]) -> Result<bool, Error> {
    let Some(log) = Log::of_store(dir)? else {
        return Ok(false);
    };
    let Some(offset) = <[u8; 32]>::try_from(key)
        .ok()
        .and_then(|key| log.offset_of(&key))
    else {
        return Ok(false);
    };
    let at = offset + HEADER as u64 + 1;
    let path = log.path();
    let io = |error| Error::io("corrupt", path, error);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let mut byte = [0];
    read_at(&file, &mut byte, at).map_err(io)?;
    byte[0] ^= 0x40;
    super::append::write_all_at(&file, &byte, at).map_err(io)?;
    Ok(true)
}

/// Rewrites the log of the store in `dir` as a choochoo of the log's format 1 wrote it
/// (frames checked with BLAKE3), its entries the same; `false` when it has none.
pub fn rewrite_in_format_1(dir: &Path) -> Result<bool, Error> {
    let Some(log) = Log::of_store(dir)? else {
        return Ok(false);
    };
    let path = log.path().to_owned();
    let io = |error| Error::io("rewrite", &path, error);
    let bytes = std::fs::read(&path).map_err(io)?;
    let mut old = Format::Blake3.magic().to_vec();
    let mut at = MAGIC_LEN;
    while let Frame::Good(body, length) = frame::parse(log.format(), &bytes[at..]) {
        let entry = super::entry::decode(body)
            .map_err(|error| Error::encoding("record log entry", error))?;
        frame::write(Format::Blake3, &entry, &mut old)
            .map_err(|error| Error::encoding("record log entry", error))?;
        at += length;
    }
    drop(log);
    std::fs::write(&path, old).map_err(io)?;
    Ok(true)
}
