//! The stat cache: each file's stat fields and content digest when it was last hashed, so
//! an unchanged file is not read again (see [`crate::stat`]), kept in `stats.log`
//! (`stat_file.rs`); the `stats` table of earlier versions is read once, to start it.
//!
//! A store starts reading its stat file on a thread of its own as it opens, while its record
//! log is read, and its first run takes what was read. A cache read early is as good as one
//! read late: an entry is used only for a file whose stat still matches it. A large file
//! (more than [`AHEAD_MOST`] bytes, some 350,000 files) is read when the run starts instead,
//! so a store opened for `status` does not hold a cache it does not use.

use super::Store;
use super::columns::digest_column;
use super::stat_file;
use crate::error::Error;
use crate::stat::{Entries, Entry as StatEntry, FileState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

/// A stat file up to this many bytes is read ahead as its store opens.
pub(crate) const AHEAD_MOST: u64 = 32 << 20;

/// What reading a stat file gives.
type Reading = std::io::Result<Option<stat_file::Read>>;

/// The stat file being read ahead, from the store's opening until its first run takes it.
#[derive(Debug, Default)]
pub(crate) struct Ahead(Mutex<Option<JoinHandle<Reading>>>);

impl Ahead {
    /// Starts reading the stat file of the store in `dir` on a thread of its own, when there
    /// is one of at most [`AHEAD_MOST`] bytes.
    pub(crate) fn start(dir: &Path) -> Ahead {
        let path = dir.join("stats.log");
        let small = std::fs::metadata(&path).is_ok_and(|meta| meta.len() <= AHEAD_MOST);
        let reading = small.then(|| {
            std::thread::Builder::new()
                .name("choochoo-stats".to_owned())
                .spawn(move || stat_file::read(&path))
                .ok()
        });
        Ahead(Mutex::new(reading.flatten()))
    }

    /// What was read ahead, once; `None` when nothing was, or it was taken.
    fn take(&self) -> Option<Reading> {
        let reading = self.0.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        reading.join().ok()
    }
}

impl Store {
    /// Loads the stat cache: from `stats.log`, or, in a store of an earlier version, from
    /// the `stats` table, once (the file is written from it). A cache that cannot be read is
    /// a warning and an empty cache: its files are hashed again.
    pub(crate) fn stats(&self) -> Result<Entries, Error> {
        let path = self.stat_file();
        let read = self.stats_ahead.take();
        match read.unwrap_or_else(|| stat_file::read(&path)) {
            Ok(Some(read)) => {
                if read.rewrite {
                    self.rewrite_stats(&read.entries);
                }
                Ok(read.entries)
            }
            Ok(None) => {
                let entries = self.stats_table()?;
                if !entries.is_empty() {
                    self.rewrite_stats(&entries);
                }
                Ok(entries)
            }
            Err(error) => {
                let shown = path.display();
                tracing::warn!(
                    "the stat cache {shown} is unreadable ({error}): its files are hashed again"
                );
                Ok(Entries::default())
            }
        }
    }

    /// Saves new stat cache entries: one append to `stats.log`.
    pub(crate) fn save_stats(&self, entries: &[(PathBuf, StatEntry)]) -> Result<(), Error> {
        let path = self.stat_file();
        stat_file::append(&path, &self.dir.join("tmp"), entries)
            .map_err(|error| Error::io("save the stat cache to", &path, error))
    }

    fn stat_file(&self) -> PathBuf {
        self.dir.join("stats.log")
    }

    fn rewrite_stats(&self, entries: &Entries) {
        let path = self.stat_file();
        if let Err(error) = stat_file::rewrite(&path, &self.dir.join("tmp"), entries) {
            tracing::warn!(
                "the stat cache {} was not rewritten: {error}",
                path.display()
            );
        }
    }

    /// The `stats` table of a store of an earlier version.
    fn stats_table(&self) -> Result<Entries, Error> {
        self.with_db("read the stat cache from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest FROM stats",
            )?;
            let mut rows = stmt.query([])?;
            let mut map = Entries::default();
            while let Some(row) = rows.next()? {
                // A damaged row is skipped: the file is hashed again.
                if let Ok(Some((path, entry))) = row_entry(row) {
                    map.insert(path.into(), entry);
                }
            }
            Ok(map)
        })
    }
}

/// A stat cache row as SQLite holds it, before it is checked: what the fuzz targets decode
/// (the store reads its rows in place, through the same [`entry`]).
#[cfg(any(test, feature = "__fuzz"))]
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct StatRow {
    pub path: Vec<u8>,
    pub dev: i64,
    pub ino: i64,
    pub size: i64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub recorded_ns: i64,
    pub digest: Vec<u8>,
}

#[cfg(any(test, feature = "__fuzz"))]
impl StatRow {
    /// The cached entry by its path's bytes, or what is wrong with the row.
    pub(crate) fn decode(self) -> Result<(Box<[u8]>, StatEntry), String> {
        let numbers = [self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns];
        let entry = entry(numbers, self.recorded_ns, &self.digest)?;
        Ok((self.path.into_boxed_slice(), entry))
    }
}

/// The cached entry of a row of `path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns,
/// digest`, read in place (its bytes not copied first); `None` when it is damaged.
fn row_entry<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<Option<(&'r [u8], StatEntry)>> {
    let (Ok(path), Ok(digest)) = (row.get_ref(0)?.as_blob(), row.get_ref(7)?.as_blob()) else {
        return Ok(None);
    };
    let numbers = [
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ];
    Ok(entry(numbers, row.get(6)?, digest)
        .ok()
        .map(|entry| (path, entry)))
}

/// The entry of a row's fields: `dev, ino, size, mtime_ns, ctime_ns`, when it was recorded,
/// and its digest; what is wrong with them.
fn entry(numbers: [i64; 5], recorded_ns: i64, digest: &[u8]) -> Result<StatEntry, String> {
    let digest = digest_column("a file digest", digest)?;
    let [dev, ino, size, mtime_ns, ctime_ns] = numbers;
    // The stat fields are stored as SQLite's signed integers; the casts undo the ones
    // `save_stats` made.
    let state = FileState {
        dev: dev as u64,
        ino: ino as u64,
        size: size as u64,
        mtime_ns,
        ctime_ns,
    };
    Ok(StatEntry {
        state,
        recorded_ns,
        digest,
    })
}

/// Moves the stat cache of the store in `dir` from `stats.log` into the `stats` table, as an
/// earlier version kept it (feature `test-util`); how many entries moved.
#[cfg(feature = "test-util")]
pub fn stats_to_table(dir: &std::path::Path) -> Result<usize, Error> {
    let path = dir.join("stats.log");
    let read = stat_file::read(&path)
        .map_err(|error| Error::io("read", &path, error))?
        .map(|read| read.entries)
        .unwrap_or_default();
    let db_path = dir.join("store.db");
    let db =
        rusqlite::Connection::open(&db_path).map_err(|error| Error::db("open", &db_path, error))?;
    for (file, entry) in &read {
        let s = &entry.state;
        db.execute(
            "INSERT OR REPLACE INTO stats (path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                &file[..],
                s.dev as i64,
                s.ino as i64,
                s.size as i64,
                s.mtime_ns,
                s.ctime_ns,
                entry.recorded_ns,
                entry.digest.as_bytes()
            ],
        )
        .map_err(|error| Error::db("write the stat cache to", &db_path, error))?;
    }
    std::fs::remove_file(&path).map_err(|error| Error::io("remove", &path, error))?;
    Ok(read.len())
}
