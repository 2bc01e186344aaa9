//! Appending to the record log: a batch of entries is one write at the end of the log and
//! one `fdatasync` (together one [`Op::Append`] step), under `records.lock`, after reading what other processes appended since
//! (so the index stays whole and the write lands at the end). A failed write or sync is cut
//! off again, so an append is all or nothing; a torn tail a killed process left is cut at the
//! last good entry before anything is appended after it.

use super::entry::Entry;
use super::frame::{self, Format};
use super::index::Slot;
use super::{Files, Log};
use crate::error::Error;
use crate::fs::{Fs, Op};
use std::fs::File;

impl Log {
    /// Appends `entries` and makes them durable, then indexes them.
    pub(crate) fn append(&self, fs: &dyn Fs, entries: &[impl AsRef<Entry>]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let _lock = self.files.lock()?;
        let mut state = self.write();
        self.files.catch_up(&mut state, true)?;
        // Framed once the lock is held: another process may have rewritten the log in
        // another format since this one read it.
        let mut bytes = Vec::new();
        let mut starts = Vec::with_capacity(entries.len());
        for entry in entries {
            starts.push(bytes.len() as u64);
            frame::write(state.format, entry.as_ref(), &mut bytes)
                .map_err(|error| Error::encoding("record log entry", error))?;
        }
        let at = state.index.end;
        let path = &self.files.path;
        let file = &state.file;
        let written = fs.run(Op::Append, path, &mut || {
            write_all_at(file, &bytes, at)?;
            file.sync_data()
        });
        if let Err(error) = written {
            let _ = file.set_len(at);
            return Err(Error::io("append to the record log", path, error));
        }
        let ends = starts.iter().skip(1).copied().chain([bytes.len() as u64]);
        for ((entry, start), end) in entries.iter().zip(&starts).zip(ends) {
            let slot = Slot::new(at + start, (end - start) as usize);
            state.index.apply(slot, entry.as_ref().change());
        }
        state.index.end = at + bytes.len() as u64;
        Ok(())
    }
}

impl Files {
    /// Holds `records.lock` until the file returned is dropped: one appender at a time, in
    /// this process and every other.
    pub(super) fn lock(&self) -> Result<File, Error> {
        let path = &self.lock_path;
        let file = crate::privacy::open_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|error| Error::io("open", path, error))?;
        file.lock()
            .map_err(|error| Error::io("lock", path, error))?;
        Ok(file)
    }

    /// Writes the format's first bytes into a new, empty log, durably.
    pub(super) fn start(&self, file: &File) -> Result<(), Error> {
        write_all_at(file, &Format::CURRENT.magic(), 0)
            .and_then(|()| file.sync_all())
            .and_then(|()| crate::fs::sync_dir(self.path.parent().unwrap_or(&self.path)))
            .map_err(|error| Error::io("start the record log", &self.path, error))
    }

    /// Cuts the torn tail from `torn` to `end` (the caller holds the lock: no append is in
    /// progress, so it is what a killed process left).
    pub(super) fn cut(&self, file: &File, torn: u64, end: u64) -> Result<(), Error> {
        tracing::warn!(
            "{}: cut a torn tail of {} bytes at byte {torn}, the end of its last good entry",
            self.path.display(),
            end - torn
        );
        file.set_len(torn)
            .and_then(|()| file.sync_data())
            .map_err(|error| Error::io("cut the torn tail of", &self.path, error))
    }
}

/// Writes all of `bytes` at `offset`.
pub(super) fn write_all_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < bytes.len() {
            let n = std::os::windows::fs::FileExt::seek_write(
                file,
                &bytes[done..],
                offset + done as u64,
            )?;
            done += n;
        }
        Ok(())
    }
}
