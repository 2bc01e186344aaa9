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
            let rows = stmt.query_map([], StatRow::read)?;
            let mut map = Entries::default();
            for row in rows {
                // A damaged row is skipped: the file is hashed again and the row rewritten.
                if let Ok((path, entry)) = row?.decode() {
                    map.insert(path, entry);
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

/// A stat cache row as SQLite returns it, before it is checked.
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

impl StatRow {
    /// Reads `path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest`.
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<StatRow> {
        Ok(StatRow {
            path: row.get(0)?,
            dev: row.get(1)?,
            ino: row.get(2)?,
            size: row.get(3)?,
            mtime_ns: row.get(4)?,
            ctime_ns: row.get(5)?,
            recorded_ns: row.get(6)?,
            digest: row.get(7)?,
        })
    }

    /// The cached entry by its path's bytes, or what is wrong with the row.
    pub(crate) fn decode(self) -> Result<(Box<[u8]>, StatEntry), String> {
        let digest = digest_column("a file digest", &self.digest)?;
        // The stat fields are stored as SQLite's signed integers; the casts undo the ones
        // `save_stats` made.
        let state = FileState {
            dev: self.dev as u64,
            ino: self.ino as u64,
            size: self.size as u64,
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
        };
        let entry = StatEntry {
            state,
            recorded_ns: self.recorded_ns,
            digest,
        };
        Ok((self.path.into_boxed_slice(), entry))
    }
}
