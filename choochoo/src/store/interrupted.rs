//! Runs that were killed. A run holds its own file, `runs/<id>`, locked while it lives, with a
//! line for each station it starts and ends (`journal.rs`). A run the store has not seen
//! finish whose file nobody holds was interrupted: the next open of the store's database says
//! so, once, with the time of the file's last line and the stations that had started and not
//! ended, and removes the file. A run killed before it was recorded (its first stations start
//! while the database is opened; one about to act waits for the record) leaves only an
//! unnamed journal, removed then too.

use super::Store;
use super::journal::{Journal, unfinished};
use crate::clock;
use crate::error::Error;
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A run that was killed (or whose machine stopped) before it finished, as the next open of
/// the store found it: [`Store::interrupted_runs`].
///
/// A station that was running then runs again from the start in the next run: one that
/// changes the world must be safe to run twice (see
/// [the effects guide](crate::guide::effects)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interrupted {
    run: i64,
    profile: String,
    at: SystemTime,
    during: Vec<String>,
}

impl Interrupted {
    /// The run's id.
    pub fn run(&self) -> i64 {
        self.run
    }

    /// The run's profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// When it was last heard of: a station starting or ending, or the run starting.
    pub fn at(&self) -> SystemTime {
        self.at
    }

    /// The stations (node names) that had started and not ended, in the order they started.
    pub fn during(&self) -> &[String] {
        &self.during
    }
}

impl std::fmt::Display for Interrupted {
    /// `run 16 was interrupted at 2026-12-01 14:37:02 UTC while shop.data ran`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} was interrupted at {}",
            self.run,
            clock::utc(self.at)
        )?;
        match self.during.as_slice() {
            [] => write!(f, " while no station ran"),
            nodes => write!(f, " while {} ran", nodes.join(", ")),
        }
    }
}

impl Store {
    pub(super) fn journal_path(&self, run: i64) -> PathBuf {
        self.dir.join("runs").join(run.to_string())
    }

    /// A journal for a run about to start, locked: named by the run's id once
    /// [`record_run`](Store::record_run) records it.
    pub(crate) fn new_journal(&self) -> Result<Journal, Error> {
        let runs = self.dir.join("runs");
        Journal::unnamed(&runs).map_err(|error| Error::io("create a journal in", &runs, error))
    }

    /// Records the start of a run (at `started_ns`), whose stations may have started; returns
    /// its id. Its journal is named by the id in the same transaction, so that no other
    /// process sees the run without its journal.
    pub(crate) fn record_run(
        &self,
        workflow: &str,
        profile: &str,
        instance: &str,
        started_ns: i64,
        journal: &Journal,
    ) -> Result<i64, Error> {
        self.with_db("record a run in", |db| {
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO runs (workflow, profile, instance, started_ns) VALUES (?1, ?2, ?3, ?4)",
                params![workflow, profile, instance, started_ns],
            )?;
            let run = tx.last_insert_rowid();
            let path = self.journal_path(run);
            if let Err(error) = journal.rename(path.clone()) {
                return Ok(Err(Error::io("name the journal", &path, error)));
            }
            tx.commit()?;
            Ok(Ok(run))
        })?
    }

    /// Finds the runs that were interrupted since the store's database was last opened,
    /// records them, and removes their journals (and those of runs killed before they were
    /// recorded). On the connection being opened: asked before anything else uses it.
    pub(super) fn find_interrupted(&self, db: &Connection) -> rusqlite::Result<()> {
        super::journal::remove_unnamed(&self.dir.join("runs"));
        let open: Vec<(i64, i64)> = {
            let mut stmt = db.prepare(
                "SELECT id, started_ns FROM runs WHERE finished_ns IS NULL
                 AND id NOT IN (SELECT run FROM interrupted_runs)",
            )?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (run, started_ns) in open {
            let path = self.journal_path(run);
            let Some((at, during)) = dead_journal(&path, clock::from_ns(started_ns)) else {
                continue;
            };
            let at_ns = crate::stat::unix_ns(at);
            let during = serde_json::to_string(&during).unwrap_or_else(|_| "[]".into());
            db.execute(
                "INSERT OR IGNORE INTO interrupted_runs (run, at_ns, during) VALUES (?1, ?2, ?3)",
                params![run, at_ns, during],
            )?;
            let _ = std::fs::remove_file(&path);
        }
        Ok(())
    }

    /// The runs that were interrupted, latest first.
    pub fn interrupted_runs(&self) -> Result<Vec<Interrupted>, Error> {
        self.with_db("read the runs from", |db| {
            let mut stmt = db.prepare(
                "SELECT i.run, r.profile, i.at_ns, i.during FROM interrupted_runs i
                 JOIN runs r ON r.id = i.run ORDER BY i.run DESC",
            )?;
            stmt.query_map([], |row| {
                let during: String = row.get(3)?;
                Ok(Interrupted {
                    run: row.get(0)?,
                    profile: row.get(1)?,
                    at: clock::from_ns(row.get(2)?),
                    during: serde_json::from_str(&during).unwrap_or_default(),
                })
            })?
            .collect()
        })
    }
}

/// When a run whose journal is at `path` was last heard of, and what it was running, if
/// nobody holds the journal; `None` while its run lives. A run without a journal (begun by a
/// choochoo that kept none) was last heard of when it `started`.
fn dead_journal(path: &Path, started: SystemTime) -> Option<(SystemTime, Vec<String>)> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(_) => return Some((started, Vec::new())),
    };
    if file.try_lock().is_err() {
        return None;
    }
    let at = file
        .metadata()
        .and_then(|meta| meta.modified())
        .unwrap_or(started);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Some((at, unfinished(&text)))
}
