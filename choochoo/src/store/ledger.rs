//! The defect ledger's tables (`defects`, `signatures`, `observations`, `notes`), read and
//! written in the ledger's terms. How failures are grouped and what a person may do with a
//! defect are decided in [`crate::defect`]; this file only keeps them, each change in one
//! transaction.

use super::Store;
use super::ledger_rows::{
    EvidenceText, column, defect_from_row, note_from_row, observation_from_row,
};
use crate::defect::model::{
    Defect, DefectId, DefectStatus, NewObservation, NoteKind, Observation, ObservationId, nanos,
};
use crate::error::Error;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The ledger's tables of a store.
pub(crate) struct Ledger<'a> {
    store: &'a Store,
}

impl Store {
    /// The defect ledger's tables.
    pub(crate) fn ledger(&self) -> Ledger<'_> {
        Ledger { store: self }
    }
}

/// How a new observation is filed: its signature, its own title, and the title of the
/// defect it opens if the signature is new.
pub(crate) struct Filing<'a> {
    pub(crate) signature: &'a str,
    pub(crate) title: &'a str,
    pub(crate) defect_title: &'a str,
}

impl Ledger<'_> {
    /// Records an observation under the defect of its signature (opened if the signature is
    /// new), reopens that defect if it was fixed, and refreshes its counters.
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
            let defect = defect_for(&tx, filing.signature, filing.defect_title)?;
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

    /// Sets how many stations an observed failure blocked downstream.
    pub(crate) fn set_blocked(&self, id: ObservationId, blocked: usize) -> Result<(), Error> {
        self.store.with_db("record a failure's impact in", |db| {
            let tx = db.transaction()?;
            let defect: i64 = tx.query_row(
                "SELECT defect FROM observations WHERE id = ?1",
                [id.0],
                |row| row.get(0),
            )?;
            tx.execute(
                "UPDATE observations SET blocked = ?2 WHERE id = ?1",
                [id.0, blocked as i64],
            )?;
            refresh_counters(&tx, defect)?;
            tx.commit()
        })
    }

    /// The defect an observation belongs to now.
    pub(crate) fn defect_of(&self, id: ObservationId) -> Result<Option<Defect>, Error> {
        self.store.with_db("read a defect from", |db| {
            let defect: Option<i64> = db
                .query_row(
                    "SELECT defect FROM observations WHERE id = ?1",
                    [id.0],
                    |row| row.get(0),
                )
                .optional()?;
            defect.map_or(Ok(None), |defect| load_defect(db, defect))
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

    /// Sets the status of a defect (or of the one it was merged into); `false` without it.
    pub(crate) fn set_status(&self, id: DefectId, status: DefectStatus) -> Result<bool, Error> {
        let changed = self.store.with_db("update a defect in", |db| {
            db.execute(
                "UPDATE defects SET status = ?2
                 WHERE id = (SELECT coalesce(merged_into, id) FROM defects WHERE id = ?1)",
                params![id.0, status.as_str()],
            )
        })?;
        Ok(changed > 0)
    }

    /// Adds a note to a defect (or to the one it was merged into); `false` without it.
    pub(crate) fn add_note(&self, id: DefectId, kind: NoteKind, text: &str) -> Result<bool, Error> {
        let added = self.store.with_db("add a note to", |db| {
            db.execute(
                "INSERT INTO notes (defect, kind, text, added_ns)
                 SELECT coalesce(merged_into, id), ?2, ?3, ?4 FROM defects WHERE id = ?1",
                params![id.0, kind.as_str(), text, crate::stat::now_ns()],
            )
        })?;
        Ok(added > 0)
    }

    /// Moves everything of `from` to `into` and leaves `from` leading to it; the id of the
    /// one that does not exist, if either.
    pub(crate) fn merge(&self, into: DefectId, from: DefectId) -> Result<Option<DefectId>, Error> {
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
            }
            tx.commit()?;
            Ok(None)
        })
    }
}

/// The defect of `signature`, opened with `title` if the signature is new.
fn defect_for(tx: &Connection, signature: &str, title: &str) -> rusqlite::Result<i64> {
    let known = tx
        .prepare_cached("SELECT defect FROM signatures WHERE signature = ?1")?
        .query_row([signature], |row| row.get(0))
        .optional()?;
    if let Some(defect) = known {
        return Ok(defect);
    }
    tx.prepare_cached("INSERT INTO defects (title) VALUES (?1)")?
        .execute([title])?;
    let defect = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO signatures (signature, defect) VALUES (?1, ?2)")?
        .execute(params![signature, defect])?;
    Ok(defect)
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
    tx.prepare_cached(
        "INSERT INTO observations (defect, signature, title, station_id, station_name, node,
             profile, instance, run_id, started_ns, finished_ns, duration_ns, message, chain,
             panic, log_tail, inputs, input_values, kept_dir, blocked)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20)",
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

/// Moves everything of defect `from` to `into`, and leaves `from` pointing at `into`.
fn move_defect(tx: &Connection, from: i64, into: i64) -> rusqlite::Result<()> {
    let statements = [
        "UPDATE signatures SET defect = ?2 WHERE defect = ?1",
        "UPDATE observations SET defect = ?2 WHERE defect = ?1",
        "UPDATE notes SET defect = ?2 WHERE defect = ?1",
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
fn resolve(db: &Connection, id: DefectId) -> rusqlite::Result<Option<i64>> {
    db.query_row(
        "SELECT coalesce(merged_into, id) FROM defects WHERE id = ?1",
        [id.0],
        |row| row.get(0),
    )
    .optional()
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
    let mut notes =
        db.prepare_cached("SELECT kind, text, added_ns FROM notes WHERE defect = ?1 ORDER BY id")?;
    defect.notes = notes
        .query_map([id], note_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(defect))
}

fn load_observations(db: &Connection, defect: i64) -> rusqlite::Result<Vec<Observation>> {
    let mut stmt = db.prepare_cached(
        "SELECT id, defect, signature, title, station_id, station_name, node, profile, instance,
             run_id, started_ns, finished_ns, duration_ns, message, chain, panic, log_tail,
             inputs, input_values, kept_dir, blocked
         FROM observations WHERE defect = ?1 ORDER BY finished_ns, id",
    )?;
    let rows = stmt.query_map([defect], observation_from_row)?;
    rows.collect()
}
