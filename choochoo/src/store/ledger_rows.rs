//! The ledger's rows and columns: the evidence of an observation as the JSON text the
//! database keeps (readable with `sqlite3`, unlike an encoded blob), and the rows read back
//! as the ledger's values. A value this version does not know is an error naming its column.

use crate::defect::model::{
    Decision, Defect, DefectId, DefectStatus, NewObservation, Note, NoteKind, ObservationId,
};
use crate::defect::observation::{FailedAttempt, Observation};
use crate::error::Error;
use crate::hash::Digest;
use rusqlite::{Connection, Row};
use std::path::PathBuf;

/// The evidence lists of a new observation, as the JSON text the database keeps: readable
/// with `sqlite3`, unlike an encoded blob.
pub(super) struct EvidenceText {
    pub(super) chain: String,
    pub(super) log_tail: String,
    pub(super) inputs: String,
    pub(super) input_values: String,
}

impl EvidenceText {
    pub(super) fn of(observation: &NewObservation) -> Result<EvidenceText, Error> {
        let inputs: Vec<(&str, String)> = observation
            .inputs
            .iter()
            .map(|(name, digest)| (name.as_str(), digest.to_hex()))
            .collect();
        Ok(EvidenceText {
            chain: to_json(&observation.chain)?,
            log_tail: to_json(&observation.log_tail)?,
            inputs: to_json(&inputs)?,
            input_values: to_json(&observation.input_values)?,
        })
    }
}

/// A defect's own row; its lists are filled in by `load_defect`.
pub(super) fn defect_from_row(id: i64, row: &Row<'_>) -> rusqlite::Result<Defect> {
    let status: String = row.get(1)?;
    Ok(Defect {
        id: DefectId(id),
        title: row.get(0)?,
        status: DefectStatus::parse(&status).ok_or_else(|| unreadable(1, "status", &status))?,
        regressed: row.get(2)?,
        count: unsigned(row, 3)?,
        first_ns: row.get(4)?,
        last_ns: row.get(5)?,
        blocked: unsigned(row, 6)?,
        lost_ns: row.get(7)?,
        stations: Vec::new(),
        instances: Vec::new(),
        signatures: Vec::new(),
        notes: Vec::new(),
        decisions: Vec::new(),
        runs: 0,
        last_run: 0,
        recovered: 0,
        quiet_since: None,
    })
}

/// A note from `kind, text, added_ns, added_by`.
pub(super) fn note_from_row(row: &Row<'_>) -> rusqlite::Result<Note> {
    let kind: String = row.get(0)?;
    Ok(Note {
        kind: NoteKind::parse(&kind).ok_or_else(|| unreadable(0, "note kind", &kind))?,
        text: row.get(1)?,
        added_ns: row.get(2)?,
        added_by: row.get(3)?,
    })
}

/// A decision from `what, by, at_ns`.
pub(super) fn decision_from_row(row: &Row<'_>) -> rusqlite::Result<Decision> {
    Ok(Decision {
        what: row.get(0)?,
        by: row.get(1)?,
        at_ns: row.get(2)?,
    })
}

/// An observation from the columns `load_observations` selects.
pub(super) fn observation_from_row(row: &Row<'_>) -> rusqlite::Result<Observation> {
    let inputs = input_hashes(&row.get::<_, String>(INPUTS_COLUMN)?)?;
    let mut observation = observation_evidence(row, inputs)?;
    observation.attempts = row.get(21)?;
    observation.recovered = row.get(22)?;
    observation.failures = match row.get::<_, Option<String>>(FAILURES_COLUMN)? {
        Some(text) => attempts_from_json(&text)?,
        // Written before attempts were kept: the observation is its one failed attempt.
        None => vec![FailedAttempt {
            attempt: 1,
            message: observation.message.clone(),
            finished_ns: observation.finished_ns,
            duration_ns: observation.duration_ns,
            kept_dir: observation.kept_dir.clone(),
        }],
    };
    Ok(observation)
}

/// The columns of an observation up to `blocked`: those every version of the ledger has.
fn observation_evidence(
    row: &Row<'_>,
    inputs: Vec<(String, Digest)>,
) -> rusqlite::Result<Observation> {
    Ok(Observation {
        id: ObservationId(row.get(0)?),
        defect: DefectId(row.get(1)?),
        signature: row.get(2)?,
        title: row.get(3)?,
        station_id: row.get(4)?,
        station_name: row.get(5)?,
        node: row.get(6)?,
        profile: row.get(7)?,
        instance: row.get(8)?,
        run: row.get(9)?,
        started_ns: row.get(10)?,
        finished_ns: row.get(11)?,
        duration_ns: row.get(12)?,
        message: row.get(13)?,
        chain: from_json(row, 14)?,
        panic: row.get(15)?,
        log_tail: from_json(row, 16)?,
        inputs,
        input_values: from_json(row, 18)?,
        kept_dir: row.get::<_, Option<String>>(19)?.map(PathBuf::from),
        blocked: unsigned(row, 20)?,
        attempts: 1,
        recovered: false,
        failures: Vec::new(),
    })
}

/// Where `load_observations` selects the `failures` column.
pub(crate) const FAILURES_COLUMN: usize = 23;

/// A failed attempt as the `failures` column keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct AttemptRow {
    attempt: u32,
    message: String,
    finished_ns: i64,
    duration_ns: i64,
    kept_dir: Option<String>,
}

/// The `failures` column: a JSON list of failed attempts.
pub(crate) fn attempts_to_json(attempts: &[FailedAttempt]) -> String {
    let rows: Vec<AttemptRow> = attempts
        .iter()
        .map(|a| AttemptRow {
            attempt: a.attempt,
            message: a.message.clone(),
            finished_ns: a.finished_ns,
            duration_ns: a.duration_ns,
            // As the `kept_dir` column: named by choochoo, there for a person to read.
            kept_dir: a
                .kept_dir
                .as_ref()
                .map(|d| d.to_string_lossy().into_owned()),
        })
        .collect();
    // Plain strings and integers: nothing here can fail to serialize.
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// The failed attempts of the `failures` column.
pub(crate) fn attempts_from_json(text: &str) -> rusqlite::Result<Vec<FailedAttempt>> {
    let rows: Vec<AttemptRow> = json_column(FAILURES_COLUMN, text)?;
    Ok(rows
        .into_iter()
        .map(|row| FailedAttempt {
            attempt: row.attempt,
            message: row.message,
            finished_ns: row.finished_ns,
            duration_ns: row.duration_ns,
            kept_dir: row.kept_dir.map(PathBuf::from),
        })
        .collect())
}

/// The first column of every row of `sql`.
pub(super) fn column<T: rusqlite::types::FromSql>(
    db: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = db.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| row.get(0))?;
    rows.collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map_err(|error| Error::internal(format!("cannot write evidence as JSON: {error}")))
}

/// Where `load_observations` selects the `inputs` column.
const INPUTS_COLUMN: usize = 17;

/// The `inputs` column: JSON `[[name, hex hash], …]`.
pub(crate) fn input_hashes(text: &str) -> rusqlite::Result<Vec<(String, Digest)>> {
    let inputs: Vec<(String, String)> = json_column(INPUTS_COLUMN, text)?;
    inputs
        .into_iter()
        .map(|(name, hex)| match Digest::from_hex(&hex) {
            Ok(digest) => Ok((name, digest)),
            Err(_) => Err(unreadable(INPUTS_COLUMN, "input hash", &hex)),
        })
        .collect()
}

fn from_json<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    json_column(index, &row.get::<_, String>(index)?)
}

/// A JSON column of the ledger. serde_json preallocates nothing from its input and stops at
/// 128 levels of nesting, so it needs no budget of its own (see `value::bounded`).
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    index: usize,
    text: &str,
) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            Box::new(error),
        )
    })
}

/// A count: SQLite integers are signed, and these are never negative.
fn unsigned(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let n: i64 = row.get(index)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A column holding a value this version does not know: written by a newer choochoo.
fn unreadable(index: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        format!("unknown {what} `{value}`").into(),
    )
}
