//! The stat cache on disk: `stats.log`, an append-only file of entries (a path, its stat
//! fields and content digest when it was hashed), read whole when a run starts and appended
//! to when it ends, in frames as the record log's (`log/frame.rs`, XXH3-checked), so a run
//! reaches its first station without SQLite's schema, and a large one loads its cache in one
//! read instead of a query of a row per file.
//!
//! It is a cache: losing an entry costs hashing that file again, never a wrong result. An
//! append is one `write` at the end (`O_APPEND`: another process's append lands whole before
//! or after it) and is not synced; a frame cut short or damaged is stepped over. A later
//! entry for a path replaces an earlier one. A file of 1 MiB or more with more than one and a
//! half times as many frames as paths is rewritten when it is read (a temp file renamed over
//! it), as is one that is not a stat file at all (or of an earlier format: its files are
//! hashed again).

use super::fields::Fields;
use super::log::frame::{self, Format, Frame};
use crate::stat::{Entries, Entry, FileState, key};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first bytes of a stat file.
const MAGIC: &[u8; 16] = b"choochoo-stats\0\x02";

/// A file smaller than this is never rewritten for its stale frames.
const REWRITE_FROM: usize = 1 << 20;

/// One entry as the file holds it.
#[derive(Serialize, Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    path: &'a [u8],
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    recorded_ns: i64,
    /// The content digest's 32 bytes, as bytes (not 32 numbers).
    #[serde(borrow)]
    digest: &'a [u8],
}

impl<'a> Line<'a> {
    /// The line a frame's body holds, all of it, read field by field as postcard's derived
    /// reader reads it (`store/fields.rs`).
    fn read(body: &'a [u8]) -> Option<Line<'a>> {
        let mut fields = Fields { bytes: body };
        let mut line = || -> Result<Line<'a>, postcard::Error> {
            Ok(Line {
                path: fields.bytes()?,
                dev: fields.u64()?,
                ino: fields.u64()?,
                size: fields.u64()?,
                mtime_ns: fields.i64()?,
                ctime_ns: fields.i64()?,
                recorded_ns: fields.i64()?,
                digest: fields.bytes()?,
            })
        };
        let line = line().ok()?;
        fields.bytes.is_empty().then_some(line)
    }

    /// Its entry; none when its digest is not 32 bytes.
    fn entry(&self) -> Option<Entry> {
        let digest: [u8; 32] = self.digest.try_into().ok()?;
        Some(Entry {
            state: FileState {
                dev: self.dev,
                ino: self.ino,
                size: self.size,
                mtime_ns: self.mtime_ns,
                ctime_ns: self.ctime_ns,
            },
            recorded_ns: self.recorded_ns,
            digest: crate::hash::Digest::from_bytes(digest),
        })
    }
}

/// What reading the stat file found.
pub(super) struct Read {
    pub(super) entries: Entries,
    /// Whether it should be written again: a third of its frames stale, or not a stat file.
    pub(super) rewrite: bool,
}

/// Reads the stat file at `path`; `None` when there is none.
pub(super) fn read(path: &Path) -> std::io::Result<Option<Read>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        let entries = Entries::default();
        return Ok(Some(Read {
            entries,
            rewrite: true,
        }));
    }
    // A frame of a short path takes about this many bytes: the table is made once for
    // them, not grown a dozen times.
    const FRAME: usize = 96;
    let mut entries = Entries::with_capacity_and_hasher(bytes.len() / FRAME, Default::default());
    let (mut at, mut frames) = (MAGIC.len(), 0usize);
    while at < bytes.len() {
        match frame::parse(Format::Xxh3, &bytes[at..]) {
            Frame::Good(body, length) => {
                // A frame holds one line and nothing after it.
                if let Some(line) = Line::read(body)
                    && let Some(entry) = line.entry()
                {
                    entries.insert(line.path.into(), entry);
                }
                frames += 1;
                at += length;
            }
            // A torn or damaged frame: on to the next good one, if any.
            _ => match next_good(&bytes, at + 1) {
                Some(next) => at = next,
                None => break,
            },
        }
    }
    // Rewritten once a third of its frames are stale: read at every run's start, the file
    // costs its frames, not its entries.
    let rewrite = bytes.len() >= REWRITE_FROM && 2 * frames > 3 * entries.len();
    Ok(Some(Read { entries, rewrite }))
}

/// Where the next good frame starts at or after `from`.
fn next_good(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len())
        .find(|&at| matches!(frame::parse(Format::Xxh3, &bytes[at..]), Frame::Good(..)))
}

/// Appends `changed` to the stat file at `path` in one write, starting the file first when
/// there is none (through a temp file in `temp_dir`, so no reader sees it without its magic).
pub(super) fn append(
    path: &Path,
    temp_dir: &Path,
    changed: &[(PathBuf, Entry)],
) -> std::io::Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut bytes = Vec::with_capacity(changed.len() * 96);
    for (file, entry) in changed {
        push(&mut bytes, key(file), entry)?;
    }
    loop {
        match crate::privacy::open_options().append(true).open(path) {
            Ok(mut file) => return file.write_all(&bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if start(path, temp_dir)? {
                    continue;
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// Writes the stat file at `path` anew with `entries`, in place of the one there.
pub(super) fn rewrite(path: &Path, temp_dir: &Path, entries: &Entries) -> std::io::Result<()> {
    let mut bytes = MAGIC.to_vec();
    for (file, entry) in entries {
        push(&mut bytes, file, entry)?;
    }
    let temp = temp_path(temp_dir);
    let written = write_private(&temp, &bytes).and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Puts an empty stat file at `path` unless one is there; `true` either way once one is.
fn start(path: &Path, temp_dir: &Path) -> std::io::Result<bool> {
    let temp = temp_path(temp_dir);
    write_private(&temp, MAGIC)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(true),
        Err(error) => Err(error),
    }
}

/// Writes a new file only its owner may read, as every file of the store is.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::privacy::create(path)?.write_all(bytes)
}

/// A temp file's name: the process's id first, so a dead process's leftovers are removed.
fn temp_path(temp_dir: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    temp_dir.join(format!("{}-stats-{n}", std::process::id()))
}

fn push(bytes: &mut Vec<u8>, path: &[u8], entry: &Entry) -> std::io::Result<()> {
    let s = &entry.state;
    let line = Line {
        path,
        dev: s.dev,
        ino: s.ino,
        size: s.size,
        mtime_ns: s.mtime_ns,
        ctime_ns: s.ctime_ns,
        recorded_ns: entry.recorded_ns,
        digest: entry.digest.as_bytes(),
    };
    frame::write(Format::Xxh3, &line, bytes).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Digest;

    fn entry(n: u8) -> Entry {
        let state = FileState {
            dev: 1,
            ino: u64::from(n),
            size: 10,
            mtime_ns: 5,
            ctime_ns: 6,
        };
        Entry {
            state,
            recorded_ns: 7,
            digest: Digest::from_bytes([n; 32]),
        }
    }

    fn digests(entries: &Entries) -> Vec<(Vec<u8>, u8)> {
        let mut found: Vec<_> = entries
            .iter()
            .map(|(path, entry)| (path.to_vec(), entry.digest.as_bytes()[0]))
            .collect();
        found.sort();
        found
    }

    /// What postcard's derived reader makes of a line's body, as `Line::read` should.
    fn derived(body: &[u8]) -> Option<Line<'_>> {
        postcard::take_from_bytes::<Line<'_>>(body)
            .ok()
            .filter(|(_, rest)| rest.is_empty())
            .map(|(line, _)| line)
    }

    #[test]
    fn a_line_is_read_as_postcard_reads_it_written_cut_or_random() {
        let mut body = Vec::new();
        let line = Line {
            path: b"out/a.txt",
            dev: u64::MAX,
            ino: 1 << 40,
            size: 0,
            mtime_ns: i64::MIN,
            ctime_ns: -1,
            recorded_ns: i64::MAX,
            digest: &[3; 32],
        };
        postcard::to_io(&line, &mut body).unwrap();
        let same = |bytes: &[u8]| {
            let shown = |line: Line<'_>| format!("{:?} {:?}", line.path, line.entry());
            let (ours, theirs) = (Line::read(bytes).map(shown), derived(bytes).map(shown));
            assert_eq!(ours, theirs, "{bytes:?}");
        };
        assert!(Line::read(&body).is_some());
        for end in 0..=body.len() {
            same(&body[..end]);
        }
        let mut padded = body.clone();
        padded.push(0);
        same(&padded);
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut changed = body.clone();
            changed[(state % body.len() as u64) as usize] = (state >> 32) as u8;
            same(&changed);
        }
    }

    #[test]
    fn appends_read_back_the_later_entry_of_a_path_winning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.log");
        assert!(read(&path).unwrap().is_none());
        append(
            &path,
            dir.path(),
            &[("a".into(), entry(1)), ("b".into(), entry(2))],
        )
        .unwrap();
        append(&path, dir.path(), &[("a".into(), entry(3))]).unwrap();
        let found = read(&path).unwrap().unwrap();
        assert_eq!(
            digests(&found.entries),
            [(b"a".to_vec(), 3), (b"b".to_vec(), 2)]
        );
        assert!(!found.rewrite);
        assert_eq!(found.entries[&b"b"[..]].state, entry(2).state);
    }

    #[test]
    fn a_torn_or_damaged_frame_is_stepped_over_and_a_foreign_file_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.log");
        append(&path, dir.path(), &[("a".into(), entry(1))]).unwrap();
        let whole = std::fs::read(&path).unwrap();
        // A torn append, then a whole one after it.
        std::fs::write(
            &path,
            [&whole[..], &whole[MAGIC.len()..whole.len() - 5]].concat(),
        )
        .unwrap();
        append(&path, dir.path(), &[("b".into(), entry(2))]).unwrap();
        let mut damaged = std::fs::read(&path).unwrap();
        damaged[MAGIC.len() + 14] ^= 0x20;
        std::fs::write(&path, damaged).unwrap();
        let found = read(&path).unwrap().unwrap();
        assert_eq!(digests(&found.entries), [(b"b".to_vec(), 2)]);

        std::fs::write(&path, b"not a stat file at all").unwrap();
        let found = read(&path).unwrap().unwrap();
        assert!(found.entries.is_empty() && found.rewrite);
        rewrite(&path, dir.path(), &found.entries).unwrap();
        assert!(!read(&path).unwrap().unwrap().rewrite);
    }

    #[test]
    fn a_large_file_is_rewritten_once_a_third_of_its_frames_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.log");
        let paths: Vec<PathBuf> = (0..6_000)
            .map(|n| PathBuf::from(format!("{n:0>80}")))
            .collect();
        let all: Vec<(PathBuf, Entry)> = paths.iter().map(|p| (p.clone(), entry(1))).collect();
        append(&path, dir.path(), &all).unwrap();
        // 6,000 paths in 8,900 frames (under 1.5 frames a path), then in 9,100.
        append(&path, dir.path(), &all[..2_900]).unwrap();
        let found = read(&path).unwrap().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() >= REWRITE_FROM as u64);
        assert_eq!(found.entries.len(), 6_000);
        assert!(!found.rewrite);
        append(&path, dir.path(), &all[..200]).unwrap();
        let found = read(&path).unwrap().unwrap();
        assert!(found.rewrite);
        rewrite(&path, dir.path(), &found.entries).unwrap();
        let again = read(&path).unwrap().unwrap();
        assert_eq!(again.entries.len(), 6_000);
        assert!(!again.rewrite);
    }
}
