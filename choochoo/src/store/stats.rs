//! The stat cache: each file's stat fields and content digest when it was last hashed, so
//! an unchanged file is not read again (see [`crate::stat`]).

use super::Store;
use super::columns::digest_column;
use crate::error::Error;
use crate::stat::{Entries, Entry as StatEntry, FileState};
use rusqlite::params;
use std::path::PathBuf;

impl Store {
    /// Loads the stat cache.
    pub(crate) fn stats(&self) -> Result<Entries, Error> {
        self.with_db("read the stat cache from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest FROM stats",
            )?;
            let mut rows = stmt.query([])?;
            let mut map = Entries::default();
            while let Some(row) = rows.next()? {
                // A damaged row is skipped: the file is hashed again and the row rewritten.
                if let Ok(Some((path, entry))) = row_entry(row) {
                    map.insert(path.into(), entry);
                }
            }
            Ok(map)
        })
    }

    /// Saves new stat cache entries.
    pub(crate) fn save_stats(&self, entries: &[(PathBuf, StatEntry)]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        self.with_db("save the stat cache to", |db| {
            let tx = db.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR REPLACE INTO stats (path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (path, entry) in entries {
                    let s = &entry.state;
                    stmt.execute(params![
                        path.as_os_str().as_encoded_bytes(),
                        s.dev as i64,
                        s.ino as i64,
                        s.size as i64,
                        s.mtime_ns,
                        s.ctime_ns,
                        entry.recorded_ns,
                        entry.digest.as_bytes()
                    ])?;
                }
            }
            tx.commit()
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
