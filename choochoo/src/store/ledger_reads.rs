//! The defect ledger read back: defects with their figures (counted over runs), notes and
//! decisions, and their observations, each read in one transaction so the figures match the
//! lists.

use super::ledger::{Ledger, resolve};
use super::ledger_rows::{
    column, decision_from_row, defect_from_row, note_from_row, observation_from_row,
};
use crate::defect::model::{Defect, DefectId, ObservationId};
use crate::defect::observation::Observation;
use crate::error::Error;
use rusqlite::{Connection, OptionalExtension};

impl Ledger<'_> {
    /// The defect an observation belongs to now.
    pub(crate) fn defect_of(&self, id: ObservationId) -> Result<Option<Defect>, Error> {
        self.store.with_db("read a defect from", |db| {
            let tx = db.transaction()?;
            let defect: Option<i64> = tx
                .query_row(
                    "SELECT defect FROM observations WHERE id = ?1",
                    [id.0],
                    |row| row.get(0),
                )
                .optional()?;
            defect.map_or(Ok(None), |defect| load_defect(&tx, defect))
        })
    }

    /// Every defect not merged into another, oldest first.
    pub(crate) fn defects(&self) -> Result<Vec<Defect>, Error> {
        self.store.with_db("read the defects from", |db| {
            let tx = db.transaction()?;
            let ids = column(
                &tx,
                "SELECT id FROM defects WHERE merged_into IS NULL ORDER BY id",
                [],
            )?;
            ids.into_iter()
                .filter_map(|id| load_defect(&tx, id).transpose())
                .collect()
        })
    }

    /// The defect `id`, or the one it was merged into.
    pub(crate) fn defect(&self, id: DefectId) -> Result<Option<Defect>, Error> {
        self.store.with_db("read a defect from", |db| {
            let tx = db.transaction()?;
            match resolve(&tx, id)? {
                Some(id) => load_defect(&tx, id),
                None => Ok(None),
            }
        })
    }

    /// The observations of a defect, in the order they failed; `None` without the defect.
    pub(crate) fn observations(&self, defect: DefectId) -> Result<Option<Vec<Observation>>, Error> {
        self.store.with_db("read observations from", |db| {
            let tx = db.transaction()?;
            resolve(&tx, defect)?
                .map(|id| load_observations(&tx, id))
                .transpose()
        })
    }

    /// A defect and its observations, read together so the counts match the list.
    pub(crate) fn ticket(&self, id: DefectId) -> Result<Option<(Defect, Vec<Observation>)>, Error> {
        self.store.with_db("read a defect from", |db| {
            let tx = db.transaction()?;
            let Some(resolved) = resolve(&tx, id)? else {
                return Ok(None);
            };
            let observations = load_observations(&tx, resolved)?;
            Ok(load_defect(&tx, resolved)?.map(|defect| (defect, observations)))
        })
    }
}

fn load_defect(db: &Connection, id: i64) -> rusqlite::Result<Option<Defect>> {
    let defect = db
        .prepare_cached(
            "SELECT title, status, regressed, count, first_ns, last_ns, blocked, lost_ns
             FROM defects WHERE id = ?1",
        )?
        .query_row([id], |row| defect_from_row(id, row))
        .optional()?;
    let Some(mut defect) = defect else {
        return Ok(None);
    };
    defect.signatures = column(
        db,
        "SELECT signature FROM signatures WHERE defect = ?1 ORDER BY signature",
        [id],
    )?;
    defect.stations = column(
        db,
        "SELECT DISTINCT station_id FROM observations WHERE defect = ?1 ORDER BY 1",
        [id],
    )?;
    defect.instances = column(
        db,
        "SELECT DISTINCT instance FROM observations WHERE defect = ?1 ORDER BY 1",
        [id],
    )?;
    let (runs, last_run, recovered): (i64, i64, i64) = db
        .prepare_cached(
            "SELECT count(DISTINCT run_id), coalesce(max(run_id), 0), coalesce(sum(recovered), 0)
             FROM observations WHERE defect = ?1",
        )?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    // Counts: never negative.
    defect.runs = u64::try_from(runs).unwrap_or(0);
    defect.recovered = u64::try_from(recovered).unwrap_or(0);
    defect.last_run = last_run;
    defect.quiet_since = quiet_since(db, id, defect.last_run)?;
    let mut notes = db.prepare_cached(
        "SELECT kind, text, added_ns, added_by FROM notes WHERE defect = ?1 ORDER BY id",
    )?;
    defect.notes = notes
        .query_map([id], note_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut decisions =
        db.prepare_cached("SELECT what, by, at_ns FROM decisions WHERE defect = ?1 ORDER BY id")?;
    defect.decisions = decisions
        .query_map([id], decision_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(defect))
}

/// The first finished run after `last_run` of a workflow and profile the defect was seen
/// in, in which none of the nodes it failed in failed, was blocked or was skipped (a run
/// keeps no entry of a cached station: absent, a node was found in the store, or ran).
fn quiet_since(db: &Connection, defect: i64, last_run: i64) -> rusqlite::Result<Option<i64>> {
    db.prepare_cached(
        "SELECT r.id FROM runs r
         WHERE r.id > ?2 AND r.finished_ns IS NOT NULL
           AND EXISTS (
               SELECT 1 FROM observations o JOIN runs seen ON seen.id = o.run_id
               WHERE o.defect = ?1 AND seen.workflow = r.workflow AND seen.profile = r.profile)
           AND NOT EXISTS (
               SELECT 1 FROM run_entries e
               WHERE e.run = r.id AND e.status IN ('failed', 'blocked', 'skipped')
                 AND e.node IN (SELECT node FROM observations WHERE defect = ?1))
         ORDER BY r.id LIMIT 1",
    )?
    .query_row([defect, last_run], |row| row.get(0))
    .optional()
}

fn load_observations(db: &Connection, defect: i64) -> rusqlite::Result<Vec<Observation>> {
    let mut stmt = db.prepare_cached(
        "SELECT id, defect, signature, title, station_id, station_name, node, profile, instance,
             run_id, started_ns, finished_ns, duration_ns, message, chain, panic, log_tail,
             inputs, input_values, kept_dir, blocked, attempts, recovered, failures
         FROM observations WHERE defect = ?1 ORDER BY finished_ns, id",
    )?;
    let rows = stmt.query_map([defect], observation_from_row)?;
    rows.collect()
}
