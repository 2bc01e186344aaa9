//! Runs: each run's row (when, where, how many stations ran, came from the store, failed),
//! an entry for every station that did not come from the store (or whose check was asked),
//! with what it warned of, and the keys it used, which [`Store::gc`] keeps for the last runs.

use super::Store;
use crate::clock;
use crate::error::Error;
use crate::hash::Digest;
use crate::report::entry::{Details, Entry, More, Names};
use crate::report::{Report, Status};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A run's own row: what ran, where and when.
#[derive(Clone, Debug)]
pub(crate) struct RunRow {
    pub(crate) workflow: String,
    pub(crate) profile: String,
    pub(crate) instance: String,
    pub(crate) started: SystemTime,
    /// `None` while it runs, or when it was killed.
    pub(crate) finished: Option<SystemTime>,
    /// How many stations came from the store (a report read back does not list them).
    pub(crate) cached: usize,
}

/// The last time a node was seen in a run of a profile.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
pub(crate) struct LastEntry {
    pub(crate) status: Status,
    /// When its attempt ended, or (when it did not run) when the run did.
    pub(crate) at: SystemTime,
    pub(crate) duration: Duration,
    pub(crate) error: Option<String>,
    /// The Temporal worker it ran on, when it was sent to one.
    pub(crate) ran_on: Option<String>,
}

impl Store {
    /// Records the end of a run, with an entry for every station that did not come from
    /// the store (those are what `trace` and `report` show) or whose check was asked, and
    /// the keys it used (what
    /// [`Store::gc`] keeps for the last runs). Runs that used the same keys share one copy.
    pub(crate) fn finish_run(
        &self,
        report: &Report,
        ran: usize,
        cached: usize,
        failed: usize,
        profile: &str,
        mut keys: Vec<Digest>,
    ) -> Result<(), Error> {
        // In the order of their bytes: their first eight, big-endian, decide but for a tie.
        let first =
            |key: &Digest| u64::from_be_bytes(key.as_bytes()[..8].try_into().unwrap_or([0; 8]));
        keys.sort_unstable_by(|a, b| {
            (first(a).cmp(&first(b))).then_with(|| a.as_bytes().cmp(b.as_bytes()))
        });
        keys.dedup();
        let keys: Vec<u8> = keys.iter().flat_map(|key| *key.as_bytes()).collect();
        let keyset = {
            let mut hasher = crate::hash::Hasher::new("choochoo/keyset");
            hasher.field("profile", profile.as_bytes());
            hasher.field("keys", &keys);
            hasher.finish()
        };
        self.with_db("record a run in", |db| {
            let tx = db.transaction()?;
            // The same keys as the store's last run: its row holds them (a keyset is removed
            // only once no run names it), and looking the row up would read all of its keys.
            tx.execute(
                "INSERT OR IGNORE INTO keysets (hash, profile, keys) SELECT ?1, ?2, ?3
                 WHERE NOT EXISTS (SELECT 1 FROM run_keys
                                   WHERE run = (SELECT max(run) FROM run_keys) AND keyset = ?1)",
                params![keyset.as_bytes(), profile, keys],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO run_keys (run, keyset) VALUES (?1, ?2)",
                params![report.run, keyset.as_bytes()],
            )?;
            tx.execute(
                "UPDATE runs SET finished_ns = ?2, ran = ?3, cached = ?4, failed = ?5 WHERE id = ?1",
                params![report.run, crate::stat::now_ns(), ran as i64, cached as i64, failed as i64],
            )?;
            insert_entries(&tx, report)?;
            tx.commit()
        })
    }

    /// The report of a past run (the latest when `run` is `None`): every station that ran,
    /// failed, was blocked or skipped (cached stations are not kept per run).
    pub fn report(&self, run: Option<i64>) -> Result<Option<Report>, Error> {
        self.with_db("read a run from", |db| {
            let run: Option<i64> = match run {
                Some(run) => db.query_row("SELECT id FROM runs WHERE id = ?1", [run], |row| row.get(0)).optional()?,
                None => db.query_row("SELECT max(id) FROM runs WHERE finished_ns IS NOT NULL", [], |row| row.get(0))?,
            };
            let Some(run) = run else { return Ok(None) };
            let mut stmt = db.prepare(
                "SELECT node, station, name, label, status, started_ns, duration_ns, worker, reason, error, kept_dir, ran_on
                 FROM run_entries WHERE run = ?1 AND status != 'cached' ORDER BY rowid",
            )?;
            let mut entries = stmt
                .query_map([run], entry_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut warned = warnings_of_run(db, run)?;
            for entry in &mut entries {
                if let Some(warnings) = warned.remove(&*entry.node) {
                    entry.more_mut().warnings = warnings;
                }
            }
            Ok(Some(Report { run, entries, warnings: Vec::new() }))
        })
    }

    /// The row of run `run`; `None` when the store has no such run.
    pub(crate) fn run_row(&self, run: i64) -> Result<Option<RunRow>, Error> {
        self.with_db("read a run from", |db| {
            db.query_row(
                "SELECT workflow, profile, instance, started_ns, finished_ns, cached
                 FROM runs WHERE id = ?1",
                [run],
                |row| {
                    Ok(RunRow {
                        workflow: row.get(0)?,
                        profile: row.get(1)?,
                        instance: row.get(2)?,
                        started: clock::from_ns(row.get(3)?),
                        finished: row.get::<_, Option<i64>>(4)?.map(clock::from_ns),
                        cached: usize::try_from(row.get::<_, Option<i64>>(5)?.unwrap_or(0))
                            .unwrap_or(0),
                    })
                },
            )
            .optional()
        })
    }

    /// The id of the latest finished run of `profile`.
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn latest_run(&self, profile: &str) -> Result<Option<i64>, Error> {
        self.with_db("read the runs from", |db| {
            db.query_row(
                "SELECT max(id) FROM runs WHERE profile = ?1 AND finished_ns IS NOT NULL",
                [profile],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
        })
    }

    /// Each node's last entry in a run of `profile`: of any status, or (with `executed`) the
    /// last time its function was called (ran or failed).
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn last_entries(
        &self,
        profile: &str,
        executed: bool,
    ) -> Result<HashMap<String, LastEntry>, Error> {
        // SQLite takes the other columns from the row that has the max(rowid) of its group.
        let sql = format!(
            "SELECT e.node, e.status, coalesce(e.started_ns + e.duration_ns, r.finished_ns, r.started_ns),
                    e.duration_ns, e.error, e.ran_on, max(e.rowid)
             FROM run_entries e JOIN runs r ON r.id = e.run
             WHERE r.profile = ?1 {}
             GROUP BY e.node",
            if executed { "AND e.status IN ('ran', 'failed')" } else { "" }
        );
        self.with_db("read the runs from", |db| {
            let mut stmt = db.prepare(&sql)?;
            let rows = stmt.query_map([profile], |row| {
                let status: String = row.get(1)?;
                Ok((
                    row.get::<_, String>(0)?,
                    LastEntry {
                        status: Status::parse(&status).unwrap_or(Status::Skipped),
                        at: clock::from_ns(row.get(2)?),
                        duration: Duration::from_nanos(
                            u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                        ),
                        error: row.get(4)?,
                        ran_on: row.get(5)?,
                    },
                ))
            })?;
            rows.collect()
        })
    }

    /// What each node warned of the last time its function was called in a run of
    /// `profile` (the run of its [`last_entries`](Store::last_entries) with `executed`).
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn last_warnings(
        &self,
        profile: &str,
    ) -> Result<HashMap<String, Vec<String>>, Error> {
        // SQLite takes `e.run` from the row that has the max(rowid) of its group.
        let sql = "SELECT w.node, w.line FROM run_warnings w JOIN (
                       SELECT e.node, e.run, max(e.rowid)
                       FROM run_entries e JOIN runs r ON r.id = e.run
                       WHERE r.profile = ?1 AND e.status IN ('ran', 'failed')
                       GROUP BY e.node
                   ) last ON last.node = w.node AND last.run = w.run
                   ORDER BY w.rowid";
        self.with_db("read the runs from", |db| by_node(db, sql, profile))
    }
}

/// What the stations of run `run` warned of, by node, in order.
fn warnings_of_run(db: &Connection, run: i64) -> rusqlite::Result<HashMap<String, Vec<String>>> {
    by_node(
        db,
        "SELECT node, line FROM run_warnings WHERE run = ?1 ORDER BY rowid",
        run,
    )
}

/// The `(node, line)` rows of `sql`, each node's lines in order.
fn by_node(
    db: &Connection,
    sql: &str,
    param: impl rusqlite::ToSql,
) -> rusqlite::Result<HashMap<String, Vec<String>>> {
    let mut stmt = db.prepare_cached(sql)?;
    let mut warned: HashMap<String, Vec<String>> = HashMap::new();
    for row in stmt.query_map([param], |row| Ok((row.get(0)?, row.get(1)?)))? {
        let (node, line): (String, String) = row?;
        warned.entry(node).or_default().push(line);
    }
    Ok(warned)
}

/// The entries of every station of `report` that did not come from the store, and what
/// they warned of.
fn insert_entries(tx: &Connection, report: &Report) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO run_entries (run, node, station, name, label, status, started_ns, duration_ns, worker, reason, error, kept_dir, ran_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    // A cached station with a reason (its check was asked and held, or the remote cache
    // had it) is kept too, so `status` knows a failed check was followed by a good one.
    for entry in report
        .entries
        .iter()
        .filter(|entry| entry.status != Status::Cached || entry.reason().is_some())
    {
        let started = entry.started().map(crate::stat::unix_ns);
        insert.execute(params![
            report.run,
            &*entry.node,
            entry.id(),
            entry.name(),
            entry.label(),
            entry.status.to_string(),
            started,
            entry.duration().as_nanos() as i64,
            entry.worker().map(|worker| worker as i64),
            entry.reason(),
            entry.error(),
            entry.kept_dir().map(|dir| dir.display().to_string()),
            entry.ran_on(),
        ])?;
    }
    let mut warned =
        tx.prepare_cached("INSERT INTO run_warnings (run, node, line) VALUES (?1, ?2, ?3)")?;
    for entry in &report.entries {
        for line in entry.warnings() {
            warned.execute(params![report.run, &*entry.node, line])?;
        }
    }
    Ok(())
}

/// A report entry from `node, station, name, label, status, started_ns, duration_ns, worker,
/// reason, error, kept_dir, ran_on`.
fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let started: Option<i64> = row.get(5)?;
    let worker: Option<i64> = row.get(7)?;
    let names = Names {
        id: row.get::<_, String>(1)?.into(),
        name: row.get::<_, String>(2)?.into(),
    };
    let more = More {
        error: row.get(9)?,
        kept_dir: row.get::<_, Option<String>>(10)?.map(PathBuf::from),
        ran_on: row.get(11)?,
        ..More::default()
    };
    let started = started.zip(worker).map(|(ns, worker)| {
        (
            std::time::UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64),
            worker as usize,
        )
    });
    let duration = Duration::from_nanos(row.get::<_, i64>(6)?.max(0) as u64);
    let details = Details::new(duration, row.get(8)?, started, more);
    Ok(Entry::new(
        row.get::<_, String>(0)?.into(),
        std::sync::Arc::new(names),
        row.get::<_, Option<String>>(3)?.map(Into::into),
        Status::parse(&row.get::<_, String>(4)?).unwrap_or(Status::Skipped),
        details,
    ))
}
