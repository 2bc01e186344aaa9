//! The defect ledger's tables (`defects`, `signatures`, `observations`, `notes`,
//! `decisions`), written in the ledger's terms; `ledger_reads.rs` reads them back. How
//! failures are grouped and what a person may do with a defect are decided in
//! [`crate::defect`]; this file only keeps them, each change in one transaction.

use super::Store;
use super::ledger_rows::{EvidenceText, attempts_from_json, attempts_to_json, column};
use crate::defect::cause::Cause;
use crate::defect::model::{
    DefectId, DefectStatus, NewObservation, NoteKind, ObservationId, nanos,
};
use crate::defect::observation::FailedAttempt;
use crate::error::Error;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::time::Duration;

/// The ledger's tables of a store.
pub(crate) struct Ledger<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    /// The defect ledger's tables.
    pub(crate) fn ledger(&self) -> Ledger<'_> {
        Ledger { store: self }
    }
}

/// How a new observation is filed: its signature, its own title, the title of the defect
/// it opens if nothing it shares is known, and the cause it may share with the run's other
/// failures.
pub(crate) struct Filing<'a> {
    pub(crate) signature: &'a str,
    pub(crate) title: &'a str,
    pub(crate) defect_title: &'a str,
    pub(crate) cause: Option<&'a Cause>,
}

/// What the end of a run knows of one of its observations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Impact {
    pub(crate) observation: ObservationId,
    /// The stations it blocked that no earlier failure of the run blocked.
    pub(crate) blocked: usize,
    /// Whether the station's last attempt succeeded.
    pub(crate) recovered: bool,
    /// The time the report shows for the failed station; `None` keeps its failed attempts'.
    pub(crate) lost: Option<Duration>,
}

impl Ledger<'_> {
    /// Records the first failed attempt of a station in a run under the defect of its
    /// signature, or else of a failure of the same run with the same cause (which learns the
    /// signature), or else a new one; reopens that defect if it was fixed, and refreshes its
    /// counters.
    pub(crate) fn observe(
        &self,
        observation: &NewObservation,
        filing: &Filing<'_>,
    ) -> Result<ObservationId, Error> {
        let evidence = EvidenceText::of(observation)?;
        self.store.with_db("record a failure in", |db| {
            // Immediate: the defect is looked up and then maybe created, and another process
            // observing the same new signature must not create it too.
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let defect = defect_for(&tx, filing, observation.run_id)?;
            tx.execute(
                "UPDATE defects SET status = 'open', regressed = 1 WHERE id = ?1 AND status = 'fixed'",
                [defect],
            )?;
            let id = insert_observation(&tx, defect, filing, observation, &evidence)?;
            refresh_counters(&tx, defect)?;
            tx.commit()?;
            Ok(ObservationId(id))
        })
    }

    /// Adds a later failed attempt of the same station and run to its observation.
    pub(crate) fn observe_again(
        &self,
        id: ObservationId,
        observation: &NewObservation,
    ) -> Result<(), Error> {
        self.store.with_db("record a failure in", |db| {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (defect, attempts, failures): (i64, u32, Option<String>) = tx.query_row(
                "SELECT defect, attempts, failures FROM observations WHERE id = ?1",
                [id.0],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
            let mut failures = failures.map_or(Ok(Vec::new()), |text| attempts_from_json(&text))?;
            failures.push(failed_attempt(attempts + 1, observation));
            tx.execute(
                "UPDATE observations SET attempts = ?2, failures = ?3, finished_ns = ?4,
                     duration_ns = duration_ns + ?5
                 WHERE id = ?1",
                params![
                    id.0,
                    attempts + 1,
                    attempts_to_json(&failures),
                    observation.finished_ns,
                    nanos(observation.duration),
                ],
            )?;
            refresh_counters(&tx, defect)?;
            tx.commit()
        })
    }

    /// Records what the end of a run knows of its observations, in one transaction.
    pub(crate) fn set_impacts(&self, impacts: &[Impact]) -> Result<(), Error> {
        self.store
            .with_db("record the impact of failures in", |db| {
                let tx = db.transaction()?;
                let mut defects = Vec::new();
                for impact in impacts {
                    tx.prepare_cached(
                        "UPDATE observations SET blocked = ?2, recovered = ?3,
                         attempts = attempts + ?3, duration_ns = coalesce(?4, duration_ns)
                     WHERE id = ?1",
                    )?
                    .execute(params![
                        impact.observation.0,
                        i64::try_from(impact.blocked).unwrap_or(i64::MAX),
                        impact.recovered,
                        impact.lost.map(nanos),
                    ])?;
                    defects.extend(column::<i64>(
                        &tx,
                        "SELECT defect FROM observations WHERE id = ?1",
                        [impact.observation.0],
                    )?);
                }
                defects.sort_unstable();
                defects.dedup();
                for defect in defects {
                    refresh_counters(&tx, defect)?;
                }
                tx.commit()
            })
    }

    /// Sets the status of a defect (or of the one it was merged into), recording who did;
    /// `false` without it.
    pub(crate) fn set_status(
        &self,
        id: DefectId,
        status: DefectStatus,
        by: &str,
    ) -> Result<bool, Error> {
        self.store.with_db("update a defect in", |db| {
            let tx = db.transaction()?;
            let Some(defect) = resolve(&tx, id)? else {
                return Ok(false);
            };
            tx.execute(
                "UPDATE defects SET status = ?2 WHERE id = ?1",
                params![defect, status.as_str()],
            )?;
            decide(&tx, defect, &format!("marked {status}"), by)?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Adds a note to a defect (or to the one it was merged into); `false` without it.
    pub(crate) fn add_note(
        &self,
        id: DefectId,
        kind: NoteKind,
        text: &str,
        by: &str,
    ) -> Result<bool, Error> {
        let added = self.store.with_db("add a note to", |db| {
            db.execute(
                "INSERT INTO notes (defect, kind, text, added_ns, added_by)
                 SELECT coalesce(merged_into, id), ?2, ?3, ?4, ?5 FROM defects WHERE id = ?1",
                params![id.0, kind.as_str(), text, crate::stat::now_ns(), by],
            )
        })?;
        Ok(added > 0)
    }

    /// Moves everything of `from` to `into` and leaves `from` leading to it, recording who
    /// merged them; the id of the one that does not exist, if either.
    pub(crate) fn merge(
        &self,
        into: DefectId,
        from: DefectId,
        by: &str,
    ) -> Result<Option<DefectId>, Error> {
        self.store.with_db("merge defects in", |db| {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (survivor, merged) = match (resolve(&tx, into)?, resolve(&tx, from)?) {
                (Some(survivor), Some(merged)) => (survivor, merged),
                (None, _) => return Ok(Some(into)),
                (_, None) => return Ok(Some(from)),
            };
            if survivor != merged {
                move_defect(&tx, merged, survivor)?;
                refresh_counters(&tx, survivor)?;
                decide(
                    &tx,
                    survivor,
                    &format!("merged {} into it", DefectId(merged)),
                    by,
                )?;
            }
            tx.commit()?;
            Ok(None)
        })
    }
}

/// The defect of the signature; else that of the run's first failure with the same cause,
/// which the signature now leads to; else a new one, opened with the filing's title.
fn defect_for(tx: &Connection, filing: &Filing<'_>, run: i64) -> rusqlite::Result<i64> {
    let known = tx
        .prepare_cached("SELECT defect FROM signatures WHERE signature = ?1")?
        .query_row([filing.signature], |row| row.get(0))
        .optional()?;
    if let Some(defect) = known {
        return Ok(defect);
    }
    let shared = match filing.cause {
        Some(cause) => same_cause(tx, run, cause)?,
        None => None,
    };
    let defect = match shared {
        Some(defect) => defect,
        None => {
            tx.prepare_cached("INSERT INTO defects (title) VALUES (?1)")?
                .execute([filing.defect_title])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("INSERT INTO signatures (signature, defect) VALUES (?1, ?2)")?
        .execute(params![filing.signature, defect])?;
    Ok(defect)
}

/// The defect of the first failure of run `run` with the same cause, if one failed so.
fn same_cause(tx: &Connection, run: i64, cause: &Cause) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached(
        "SELECT defect FROM observations WHERE run_id = ?1 AND (cause = ?2 OR root = ?3)
         ORDER BY id LIMIT 1",
    )?
    .query_row(params![run, cause.message, cause.root], |row| row.get(0))
    .optional()
}

fn failed_attempt(attempt: u32, o: &NewObservation) -> FailedAttempt {
    FailedAttempt {
        attempt,
        message: o.message.clone(),
        finished_ns: o.finished_ns,
        duration_ns: nanos(o.duration),
        kept_dir: o.kept_dir.clone(),
    }
}

fn insert_observation(
    tx: &Connection,
    defect: i64,
    filing: &Filing<'_>,
    o: &NewObservation,
    evidence: &EvidenceText,
) -> rusqlite::Result<i64> {
    // Kept directories are named by choochoo from sanitized parts; a lossy conversion can
    // only touch an unusual store path, and the path is there for a person to read.
    let kept_dir = o.kept_dir.as_ref().map(|dir| dir.to_string_lossy());
    let failures = attempts_to_json(&[failed_attempt(1, o)]);
    tx.prepare_cached(
        "INSERT INTO observations (defect, signature, title, station_id, station_name, node,
             profile, instance, run_id, started_ns, finished_ns, duration_ns, message, chain,
             panic, log_tail, inputs, input_values, kept_dir, blocked, cause, root, failures)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20, ?21, ?22, ?23)",
    )?
    .execute(params![
        defect,
        filing.signature,
        filing.title,
        o.station_id,
        o.station_name,
        o.node,
        o.profile,
        o.instance,
        o.run_id,
        o.started_ns,
        o.finished_ns,
        nanos(o.duration),
        o.message,
        evidence.chain,
        o.panic,
        evidence.log_tail,
        evidence.inputs,
        evidence.input_values,
        kept_dir,
        i64::try_from(o.blocked).unwrap_or(i64::MAX),
        filing.cause.map(|cause| &cause.message),
        filing.cause.map(|cause| &cause.root),
        failures,
    ])?;
    Ok(tx.last_insert_rowid())
}

/// Recomputes a defect's counters from its observations: after a new one, and after a merge
/// (where adding up would be as much work and easier to get wrong).
fn refresh_counters(tx: &Connection, defect: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE defects SET (count, first_ns, last_ns, blocked, lost_ns) = (
             SELECT count(*), coalesce(min(finished_ns), 0), coalesce(max(finished_ns), 0),
                    coalesce(sum(blocked), 0), coalesce(sum(duration_ns), 0)
             FROM observations WHERE defect = ?1)
         WHERE id = ?1",
    )?
    .execute([defect])
    .map(drop)
}

/// Records what `by` decided about `defect`, now.
fn decide(tx: &Connection, defect: i64, what: &str, by: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO decisions (defect, what, by, at_ns) VALUES (?1, ?2, ?3, ?4)",
        params![defect, what, by, crate::stat::now_ns()],
    )
    .map(drop)
}

/// Moves everything of defect `from` to `into`, and leaves `from` pointing at `into`.
fn move_defect(tx: &Connection, from: i64, into: i64) -> rusqlite::Result<()> {
    let statements = [
        "UPDATE signatures SET defect = ?2 WHERE defect = ?1",
        "UPDATE observations SET defect = ?2 WHERE defect = ?1",
        "UPDATE notes SET defect = ?2 WHERE defect = ?1",
        "UPDATE decisions SET defect = ?2 WHERE defect = ?1",
        "UPDATE defects SET regressed = max(regressed, (SELECT regressed FROM defects WHERE id = ?1))
         WHERE id = ?2",
        // Defects merged into `from` earlier now lead to `into` directly.
        "UPDATE defects SET merged_into = ?2 WHERE id = ?1 OR merged_into = ?1",
    ];
    for sql in statements {
        tx.execute(sql, [from, into])?;
    }
    Ok(())
}

/// The defect `id` stands for, following a merge; `None` if there is no such defect.
pub(super) fn resolve(db: &Connection, id: DefectId) -> rusqlite::Result<Option<i64>> {
    db.query_row(
        "SELECT coalesce(merged_into, id) FROM defects WHERE id = ?1",
        [id.0],
        |row| row.get(0),
    )
    .optional()
}
