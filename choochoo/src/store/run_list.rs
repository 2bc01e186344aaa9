//! Runs as a dashboard lists them: the latest runs with their counts and whether each is
//! still going, and what a run in flight has done so far, read from its journal
//! (`runs/<id>`, see `interrupted.rs`) by any process while the run writes it.

use super::Store;
use super::journal::journal_lines;
use crate::clock;
use crate::error::Error;
use rusqlite::Row;
use std::time::SystemTime;

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "serve"),
    allow(dead_code, reason = "used by the dashboard")
)]
pub(crate) enum RunState {
    /// Its process holds its journal: it is going now.
    Running,
    /// It finished and no station failed.
    Succeeded,
    /// It finished with failed stations.
    Failed,
    /// It did not finish and nobody holds its journal: killed, or its machine stopped.
    Interrupted,
}

impl RunState {
    #[cfg_attr(
        not(feature = "serve"),
        allow(dead_code, reason = "used by the dashboard")
    )]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Interrupted => "interrupted",
        }
    }
}

/// One line of the list of runs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "serve"),
    allow(dead_code, reason = "used by the dashboard")
)]
pub(crate) struct RunLine {
    pub(crate) id: i64,
    pub(crate) workflow: String,
    pub(crate) profile: String,
    pub(crate) instance: String,
    pub(crate) started: SystemTime,
    pub(crate) finished: Option<SystemTime>,
    pub(crate) ran: u64,
    pub(crate) cached: u64,
    pub(crate) failed: u64,
    pub(crate) state: RunState,
}

/// What a run in flight has done so far, by its journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "serve"),
    allow(dead_code, reason = "used by the dashboard")
)]
pub(crate) struct Progress {
    /// The nodes that started and ended, in the order they ended.
    pub(crate) ended: Vec<String>,
    /// The nodes that started and have not ended, in the order they started.
    pub(crate) running: Vec<String>,
}

#[cfg_attr(
    not(feature = "serve"),
    allow(dead_code, reason = "used by the dashboard")
)]
impl Store {
    /// The latest `limit` runs, latest first.
    pub(crate) fn run_lines(&self, limit: usize) -> Result<Vec<RunLine>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.with_db("read the runs from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT r.id, r.workflow, r.profile, r.instance, r.started_ns, r.finished_ns,
                        r.ran, r.cached, r.failed, i.run IS NOT NULL
                 FROM runs r LEFT JOIN interrupted_runs i ON i.run = r.id
                 ORDER BY r.id DESC LIMIT ?1",
            )?;
            stmt.query_map([limit], line_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(rows.into_iter().map(|line| self.with_state(line)).collect())
    }

    /// The line of run `run`; `None` when the store has no such run.
    pub(crate) fn run_line(&self, run: i64) -> Result<Option<RunLine>, Error> {
        let row = self.with_db("read a run from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT r.id, r.workflow, r.profile, r.instance, r.started_ns, r.finished_ns,
                        r.ran, r.cached, r.failed, i.run IS NOT NULL
                 FROM runs r LEFT JOIN interrupted_runs i ON i.run = r.id WHERE r.id = ?1",
            )?;
            let mut rows = stmt.query_map([run], line_from_row)?;
            rows.next().transpose()
        })?;
        Ok(row.map(|line| self.with_state(line)))
    }

    /// What run `run` has started and ended so far, by its journal; empty once it is gone.
    pub(crate) fn progress(&self, run: i64) -> Progress {
        let text = std::fs::read_to_string(self.journal_path(run)).unwrap_or_default();
        let mut progress = Progress::default();
        for (started, node) in journal_lines(&text) {
            if started {
                progress.running.push(node);
            } else if let Some(at) = progress.running.iter().position(|n| *n == node) {
                progress.ended.push(progress.running.remove(at));
            }
        }
        progress
    }

    /// The line with its state: a run not finished is running while its journal is held.
    fn with_state(&self, (mut line, interrupted): (RunLine, bool)) -> RunLine {
        line.state = match line.finished {
            Some(_) if line.failed > 0 => RunState::Failed,
            Some(_) => RunState::Succeeded,
            None if !interrupted && self.journal_held(line.id) => RunState::Running,
            None => RunState::Interrupted,
        };
        line
    }

    /// Whether a process holds the journal of run `run` (it runs).
    fn journal_held(&self, run: i64) -> bool {
        std::fs::File::open(self.journal_path(run)).is_ok_and(|file| file.try_lock().is_err())
    }
}

/// A line (its state still to be found) and whether the run was recorded interrupted, from
/// `id, workflow, profile, instance, started_ns, finished_ns, ran, cached, failed,
/// interrupted`.
fn line_from_row(row: &Row<'_>) -> rusqlite::Result<(RunLine, bool)> {
    let count = |i: usize| -> rusqlite::Result<u64> {
        Ok(u64::try_from(row.get::<_, Option<i64>>(i)?.unwrap_or(0)).unwrap_or(0))
    };
    let line = RunLine {
        id: row.get(0)?,
        workflow: row.get(1)?,
        profile: row.get(2)?,
        instance: row.get(3)?,
        started: clock::from_ns(row.get(4)?),
        finished: row.get::<_, Option<i64>>(5)?.map(clock::from_ns),
        ran: count(6)?,
        cached: count(7)?,
        failed: count(8)?,
        state: RunState::Interrupted,
    };
    Ok((line, row.get(9)?))
}
