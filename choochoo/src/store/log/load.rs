//! Reading the log into its index: the whole file when a store opens it (or another process
//! compacted it), else what was appended since, in chunks; what follows the last good entry
//! is scanned carefully, a corrupt entry stepped over and a torn tail cut under the lock.

use super::frame::{self, Format, Frame, MAGIC_LEN};
use super::index::Index;
use super::{Files, State, identity, read_at, scan};
use crate::error::Error;
use std::fs::File;

/// The log is read in chunks of this many bytes: one buffer, small enough to stay in the
/// cache while it is scanned.
const CHUNK: usize = 1 << 18;

impl Files {
    /// Opens the file and indexes it whole; `locked`: the caller holds `records.lock`, and a
    /// torn tail is cut.
    pub(super) fn load(&self, locked: bool) -> Result<State, Error> {
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
    pub(super) fn catch_up(&self, state: &mut State, locked: bool) -> Result<(), Error> {
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
