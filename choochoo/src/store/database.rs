//! The store's database, `store.db`: opened with the store, or, for a run, on its first use
//! ([`Store::open_for_run`]), which the run makes while its first stations run. Whoever opens
//! it sets it up (or refuses a store of another version), and asks it first which runs were
//! interrupted.

use super::Store;
use crate::error::Error;
use rusqlite::Connection;
use std::path::PathBuf;

impl Store {
    pub(super) fn db_path(&self) -> PathBuf {
        self.dir.join("store.db")
    }

    /// Runs `f` on the database, alone, opening it first if it is not open; its SQLite error
    /// becomes an [`Error`] naming `operation` and the database. Only the store's own modules
    /// speak SQL.
    pub(super) fn with_db<R>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> Result<R, Error> {
        let mut db = self
            .db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let connection = match db.take() {
            Some(connection) => connection,
            None => self.connect()?,
        };
        let connection = db.insert(connection);
        f(connection).map_err(|error| Error::db(operation, &self.db_path(), error))
    }

    /// Opens the database now, if it is not open: an incompatible store is refused here.
    pub(super) fn connect_now(&self) -> Result<(), Error> {
        self.with_db("open", |_| Ok(()))?;
        if self.log.format() != super::log::frame::Format::CURRENT {
            // A log of an older format is rewritten in the current one, once.
            self.log
                .compact(&*self.fs, &std::collections::HashSet::new())?;
        }
        Ok(())
    }

    /// Opens the database and sets it up, moving an older store's records into the log,
    /// then records the runs that were interrupted since it was last opened.
    fn connect(&self) -> Result<Connection, Error> {
        let path = self.db_path();
        let db = Connection::open(&path).map_err(|error| Error::db("open", &path, error))?;
        super::schema::set_up(&db, &path, &|db| self.log.migrate_tables(db, &*self.fs))?;
        // Another process may have moved an older store's records into the log meanwhile.
        self.log.refresh()?;
        self.find_interrupted(&db)
            .map_err(|error| Error::db("read the runs from", &path, error))?;
        Ok(db)
    }
}
