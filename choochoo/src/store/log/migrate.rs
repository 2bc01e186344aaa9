//! From a store of schema version 3, whose records and heads were the `records` and `heads`
//! tables of `store.db`: their rows become entries of the log, appended and synced in the
//! transaction that drops the tables and sets version 4. Killed before that transaction
//! commits, the store is still of version 3 and is migrated again: the entries appended
//! twice are the same records, and the later copy wins.

use super::Log;
use super::entry::{Entry, LogHead, LogRecord};
use crate::fs::Fs;
use rusqlite::Connection;

impl Log {
    /// Appends every row of the `records` and `heads` tables as an entry (a store that never
    /// had them has none to move).
    pub(crate) fn migrate_tables(&self, db: &Connection, fs: &dyn Fs) -> rusqlite::Result<()> {
        let mut entries: Vec<Entry> = Vec::new();
        if has_table(db, "records")? {
            entries.extend(old_records(db)?.into_iter().map(Entry::Record));
        }
        if has_table(db, "heads")? {
            entries.extend(old_heads(db)?.into_iter().map(Entry::Head));
        }
        self.append(fs, &entries)
            .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
    }
}

/// The rows of `records`; a key that is not 32 bytes names no record and is left behind.
fn old_records(db: &Connection) -> rusqlite::Result<Vec<LogRecord>> {
    let mut stmt = db.prepare(
        "SELECT profile, key, station, algorithm, output_hash, encoding_hash, size, inline_value,
                files, used_dir, created_ns, duration_ns, discovered
         FROM records ORDER BY created_ns",
    )?;
    let rows = stmt.query_map([], |row| {
        let key: Vec<u8> = row.get(1)?;
        let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) else {
            return Ok(None);
        };
        Ok(Some(LogRecord {
            profile: row.get(0)?,
            key,
            station: row.get(2)?,
            algorithm: row.get(3)?,
            output_hash: row.get(4)?,
            encoding_hash: row.get(5)?,
            size: row.get(6)?,
            inline: row.get(7)?,
            files: row.get(8)?,
            used_dir: row.get(9)?,
            created_ns: row.get(10)?,
            duration_ns: row.get(11)?,
            discovered: row.get(12)?,
        }))
    })?;
    rows.filter_map(Result::transpose).collect()
}

/// The rows of `heads`.
fn old_heads(db: &Connection) -> rusqlite::Result<Vec<LogHead>> {
    let mut stmt = db.prepare("SELECT profile, node, key, head FROM heads")?;
    let rows = stmt.query_map([], |row| {
        let key: Vec<u8> = row.get(2)?;
        let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) else {
            return Ok(None);
        };
        Ok(Some(LogHead {
            profile: row.get(0)?,
            node: row.get(1)?,
            key,
            head: row.get(3)?,
        }))
    })?;
    rows.filter_map(Result::transpose).collect()
}

/// Whether `store.db` has the table `name`.
fn has_table(db: &Connection, name: &str) -> rusqlite::Result<bool> {
    db.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}
