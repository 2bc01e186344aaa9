//! Every table of `store.db`, created in one place, and the version of their layout.
//!
//! Opening a store creates what is missing (`CREATE … IF NOT EXISTS`) in one immediate
//! transaction, then reads the version the store was made with. [`SCHEMA_VERSION`] changes
//! only when a table changes in a way a reader of the previous layout would misread; a table
//! that is only added (as `remote_digests`, `run_warnings` and `remote_files` were) keeps the version, so an
//! older store gains it at its next open and an older choochoo still reads a newer store; so
//! does a column only added, which an older choochoo never names ([`ADDED_COLUMNS`]: an
//! older store gains it at its next open). An index only dropped (as `run_entries_by_node`
//! was) keeps the version as well: an older choochoo makes it again, harmlessly.
//!
//! That transaction is taken only when the store may lack something: the store keeps the
//! fingerprint of the layout that last set it up ([`layout`]) with SQLite's count of its
//! schema changes then, and an open that finds both as they are, and the version its own,
//! has nothing to create and reads them in one statement. Any other layout, any change to a
//! table since (a table dropped, a column added) and any store made before the fingerprint
//! was kept goes through the whole set-up again.
//!
//! A store of an older version is brought up to this one in the same transaction, by the
//! [`MIGRATIONS`] after its version; a newer store is refused, never guessed at. Version 2
//! added the `discovered` column to `records`: an older choochoo would use a record without
//! checking the inputs its station discovered, so it must not open such a store. Version 3 made
//! an observation one station's attempts in one run: an older choochoo would count each of
//! its attempts as a failure of its own and file a run's failures apart. Version 4 moved the
//! memo records and heads out of `store.db` into the record log (`records.log`, see
//! `store/log/`): their rows are appended to the log, synced, and the tables dropped in the
//! transaction that sets the version, so an older choochoo, which would find no records,
//! refuses the store rather than running everything again.

use crate::error::Error;
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::time::{Duration, Instant};

use super::schema_sql::SCHEMA;

/// The layout of `store.db`. A store written by a newer version is refused, never guessed at.
const SCHEMA_VERSION: i64 = 4;

/// What brings a store of version `n` to `n + 1`, at index `n - 1`: run in the transaction
/// that opens it, after `SCHEMA` (which creates only what is missing).
const MIGRATIONS: &[&str] = &[
    // 1 → 2: the inputs a record's station discovered while it ran (NULL: none).
    "ALTER TABLE records ADD COLUMN discovered BLOB",
    // 2 → 3: one observation per station and run, with its attempts; the causes that
    // group a run's failures into one event; who made each note. Every observation keeps
    // its row, each an attempt of its own (`failures` NULL: its own evidence is its one
    // failure), and every note its text.
    "ALTER TABLE observations ADD COLUMN cause TEXT;
     ALTER TABLE observations ADD COLUMN root TEXT;
     ALTER TABLE observations ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
     ALTER TABLE observations ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE observations ADD COLUMN failures TEXT;
     ALTER TABLE notes ADD COLUMN added_by TEXT;",
    // 3 → 4: the records and heads are in the record log now; their rows were appended to
    // it just before (see `RECORDS_TO_LOG`).
    "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS heads;",
];

/// Columns added to a table after it was first made, `(table, column, type)`: a store that
/// lacks one gains it when it is set up. Each is also in `SCHEMA`, for a new store.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // The Temporal worker that ran the entry's station (NULL: the run's own process).
    ("run_entries", "ran_on", "TEXT"),
];

/// The step (from this version) before whose SQL the rows of `records` and `heads` are
/// appended to the record log.
const RECORDS_TO_LOG: i64 = 3;

/// What moves the rows of `records` and `heads` into the record log, in the migration's
/// transaction.
pub(super) type ToLog<'a> = &'a dyn Fn(&Connection) -> rusqlite::Result<()>;
const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION - 1);

/// The pages the WAL may hold before a commit checkpoints it into the database.
const WAL_PAGES: i64 = 64;

/// Sets up a freshly opened connection (WAL, busy timeout) and the tables, bringing an older
/// store up to this version; refuses a store of a newer one.
pub(super) fn set_up(db: &Connection, path: &Path, to_log: ToLog<'_>) -> Result<(), Error> {
    let found = while_busy(|| configure_and_create(db, to_log))
        .map_err(|error| Error::db("set up", path, error))?;
    match found {
        Some(version) if version != SCHEMA_VERSION => Err(Error::usage(format!(
            "the store {} has schema version {version}, and this choochoo reads version {SCHEMA_VERSION}; \
             use the choochoo version that wrote it, or move the store away to start a new one",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Configures the connection, then creates the tables in one immediate transaction; the
/// version the store had, `None` when it is new.
fn configure_and_create(db: &Connection, to_log: ToLog<'_>) -> rusqlite::Result<Option<i64>> {
    db.busy_timeout(Duration::from_secs(60))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    // Closing need not checkpoint the WAL (two fsyncs on every exit, even of a run that
    // did nothing): SQLite checkpoints as the log grows, and the next open reads it.
    db.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    // The first connection of a process reads the whole log back, so keep it short: a
    // checkpoint every WAL_PAGES pages (a no-op run writes about 5) rather than SQLite's 1,000.
    db.pragma_update(None, "wal_autocheckpoint", WAL_PAGES)?;
    if is_set_up(db) {
        return Ok(Some(SCHEMA_VERSION));
    }
    db.execute_batch("BEGIN IMMEDIATE")?;
    let result = create(db, to_log).and_then(|version| {
        if version.is_none_or(|version| version == SCHEMA_VERSION) {
            note_layout(db)?;
        }
        Ok(version)
    });
    db.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
}

/// What the `layout` row of `meta` says of a store this version set up: the fingerprint of
/// its tables and migrations, and SQLite's schema cookie (the count of schema changes) then.
fn layout(cookie: i64) -> String {
    let added: Vec<String> = ADDED_COLUMNS.iter().map(|c| format!("{c:?}")).collect();
    let text = format!(
        "{SCHEMA_VERSION}\0{SCHEMA}\0{}\0{}",
        MIGRATIONS.join("\0"),
        added.join("\0")
    );
    let fingerprint = crate::hash::Digest::of(text.as_bytes()).to_hex();
    format!("{} {cookie}", &fingerprint[..16])
}

/// Whether the store is of this version and was last set up by this layout, with no schema
/// change since: then it has every table and column, and there is nothing to create. Any
/// error (no `meta` table yet, a busy store) says no, and the whole set-up follows.
fn is_set_up(db: &Connection) -> bool {
    let found = db.query_row(
        "SELECT (SELECT value FROM meta WHERE name = 'schema_version'),
                (SELECT value FROM meta WHERE name = 'layout'),
                (SELECT schema_version FROM pragma_schema_version)",
        [],
        |row| {
            Ok((
                row.get::<_, Option<String>>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, i64>(2)?,
            ))
        },
    );
    match found {
        Ok((Some(version), Some(noted), cookie)) => {
            version == SCHEMA_VERSION.to_string() && noted == layout(cookie)
        }
        _ => false,
    }
}

/// Notes that this layout set the store up, at its current schema cookie (in the set-up's
/// transaction, after every table and migration).
fn note_layout(db: &Connection) -> rusqlite::Result<()> {
    let cookie: i64 = db.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
    db.execute(
        "INSERT OR REPLACE INTO meta (name, value) VALUES ('layout', ?1)",
        [layout(cookie)],
    )?;
    Ok(())
}

/// Creates what is missing and reads (or, in a new store, writes) the schema version; an
/// older store is migrated, and then has this version.
fn create(db: &Connection, to_log: ToLog<'_>) -> rusqlite::Result<Option<i64>> {
    db.execute_batch(SCHEMA)?;
    add_columns(db)?;
    let version: Option<String> = db
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    match version.map(|version| version.parse::<i64>().unwrap_or(-1)) {
        Some(version) if (1..SCHEMA_VERSION).contains(&version) => migrate(db, version, to_log),
        Some(version) => Ok(Some(version)),
        None => {
            db.execute(
                "INSERT INTO meta (name, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION.to_string()],
            )?;
            Ok(None)
        }
    }
}

/// Adds each of [`ADDED_COLUMNS`] its table lacks.
fn add_columns(db: &Connection) -> rusqlite::Result<()> {
    for (table, column, kind) in ADDED_COLUMNS {
        let has: bool = db.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |row| row.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !has {
            db.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    Ok(())
}

/// Brings a store of version `from` up to [`SCHEMA_VERSION`].
fn migrate(db: &Connection, from: i64, to_log: ToLog<'_>) -> rusqlite::Result<Option<i64>> {
    for step in from..SCHEMA_VERSION {
        if step == RECORDS_TO_LOG {
            to_log(db)?;
        }
        let index = usize::try_from(step - 1).unwrap_or(usize::MAX);
        db.execute_batch(MIGRATIONS.get(index).copied().unwrap_or_default())?;
    }
    db.execute(
        "UPDATE meta SET value = ?1 WHERE name = 'schema_version'",
        [SCHEMA_VERSION.to_string()],
    )?;
    Ok(Some(SCHEMA_VERSION))
}

/// Switching a new database to WAL, or recovering one, can report "database is locked" at
/// once, without waiting in the busy handler, while another process opens the same store:
/// `f` is tried again for as long as the busy timeout would have waited.
fn while_busy<R>(mut f: impl FnMut() -> rusqlite::Result<R>) -> rusqlite::Result<R> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if matches!(
                    error.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path) -> Connection {
        let path = dir.join("store.db");
        let db = Connection::open(&path).unwrap();
        set_up(&db, &path, &|_| Ok(())).unwrap();
        db
    }

    /// A store with one run entry, changed by `sql` (as an older layout left it), then
    /// opened again.
    fn reopened_with_one_entry_after(sql: &str) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        db.execute_batch(
            "INSERT INTO run_entries (run, node, station, name, status, duration_ns)
             VALUES (1, 'a', 'app::a', 'a', 'ran', 5);",
        )
        .unwrap();
        db.execute_batch(sql).unwrap();
        drop(db);
        let db = open(dir.path());
        (dir, db)
    }

    #[test]
    fn a_store_set_up_by_this_layout_is_not_set_up_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        assert!(is_set_up(&db));
        // A table dropped since (by hand, or by a layout that lacks it) is a schema change.
        db.execute_batch("DROP TABLE run_warnings").unwrap();
        assert!(!is_set_up(&db));
        drop(db);
        let db = open(dir.path());
        assert!(is_set_up(&db));
        db.execute_batch("SELECT count(*) FROM run_warnings")
            .unwrap();
    }

    #[test]
    fn a_store_made_before_a_column_was_added_gains_it_and_keeps_its_rows() {
        let (_dir, db) =
            reopened_with_one_entry_after("ALTER TABLE run_entries DROP COLUMN ran_on");
        assert!(is_set_up(&db));
        let (node, ran_on): (String, Option<String>) = db
            .query_row("SELECT node, ran_on FROM run_entries", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((node.as_str(), ran_on), ("a", None));
        let version: String = db
            .query_row(
                "SELECT value FROM meta WHERE name = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            version,
            SCHEMA_VERSION.to_string(),
            "an added column keeps the version"
        );
    }

    #[test]
    fn a_store_made_with_an_index_of_entries_by_node_loses_it_and_keeps_its_rows() {
        // As an older layout made it.
        let (_dir, db) =
            reopened_with_one_entry_after("CREATE INDEX run_entries_by_node ON run_entries (node)");
        let indexes: i64 = db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'run_entries_by_node'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 0);
        let node: String = db
            .query_row("SELECT node FROM run_entries", [], |row| row.get(0))
            .unwrap();
        assert_eq!(node, "a");
    }

    #[test]
    fn a_store_of_an_older_set_up_or_version_is_set_up_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        // Made before the layout was noted.
        db.execute_batch("DELETE FROM meta WHERE name = 'layout'")
            .unwrap();
        assert!(!is_set_up(&db));
        drop(db);
        let db = open(dir.path());
        assert!(is_set_up(&db));
        db.execute_batch("UPDATE meta SET value = '999' WHERE name = 'schema_version'")
            .unwrap();
        assert!(!is_set_up(&db));
        let error = set_up(&db, &dir.path().join("store.db"), &|_| Ok(())).unwrap_err();
        assert!(error.to_string().contains("schema version 999"), "{error}");
    }
}
