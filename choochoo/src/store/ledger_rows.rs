//! The ledger's rows and columns: the evidence of an observation as the JSON text the
//! database keeps (readable with `sqlite3`, unlike an encoded blob), and the rows read back
//! as the ledger's values. A value this version does not know is an error naming its column.

use crate::defect::model::{
    Defect, DefectId, DefectStatus, NewObservation, Note, NoteKind, Observation, ObservationId,
};
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
    })
}

/// A note from `kind, text, added_ns`.
pub(super) fn note_from_row(row: &Row<'_>) -> rusqlite::Result<Note> {
    let kind: String = row.get(0)?;
    Ok(Note {
        kind: NoteKind::parse(&kind).ok_or_else(|| unreadable(0, "note kind", &kind))?,
        text: row.get(1)?,
        added_ns: row.get(2)?,
    })
}

/// An observation from the columns `load_observations` selects.
pub(super) fn observation_from_row(row: &Row<'_>) -> rusqlite::Result<Observation> {
    let inputs = input_hashes(&row.get::<_, String>(INPUTS_COLUMN)?)?;
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
    })
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
