//! The defect ledger: every failure choochoo sees, grouped into what a team can act on.
//!
//! - An **observation** is one failed station attempt, recorded with the evidence an
//!   investigator wants: the error and its causes, the panic message, the last lines the
//!   station logged, its inputs, and the working directory kept as the failure left it. Its
//!   title follows the ticket convention `Handle: "<error message>" on "<instance>"`.
//! - Its **signature** is the station id and the error message with the volatile parts
//!   (numbers, hex ids, UUIDs, paths, quoted values, timestamps, addresses) masked, so that
//!   the same failure on another day, file or replica has the same signature.
//! - A **defect** is the long-lived cause behind all observations of one signature (or of
//!   several, once a person [merges](Store::merge) them): how often it happens, where, what
//!   it costs, whether it came back after it was marked fixed, and the notes the team adds as
//!   it learns. It [exports](Store::export) as a ticket body for the team's tracker.
//!
//! The ledger lives in the store's database beside the memo records, and an observation is
//! committed in one transaction with its defect's counters, so a run killed right after a
//! failure still leaves the failure counted.

mod export;
mod signature;

use crate::{Digest, Error, Store};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use std::fmt;
use std::num::ParseIntError;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signature::signature;

/// The ledger's tables. A defect merged into another stays as a row pointing at it
/// (`merged_into`), so the id a ticket quotes keeps leading to the defect.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS defects (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    regressed INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER,
    count INTEGER NOT NULL DEFAULT 0,
    first_ns INTEGER NOT NULL DEFAULT 0,
    last_ns INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    lost_ns INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS signatures (
    signature TEXT PRIMARY KEY,
    defect INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY,
    defect INTEGER NOT NULL,
    signature TEXT NOT NULL,
    title TEXT NOT NULL,
    station_id TEXT NOT NULL,
    station_name TEXT NOT NULL,
    node TEXT NOT NULL,
    profile TEXT NOT NULL,
    instance TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    started_ns INTEGER NOT NULL,
    finished_ns INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    message TEXT NOT NULL,
    chain TEXT NOT NULL,
    panic TEXT,
    log_tail TEXT NOT NULL,
    inputs TEXT NOT NULL,
    input_values TEXT NOT NULL,
    kept_dir TEXT,
    blocked INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_by_defect ON observations (defect, finished_ns);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    defect INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    added_ns INTEGER NOT NULL
);
";

/// A failed station attempt, as the runner reports it to [`Store::observe`].
#[derive(Clone, Debug, Default)]
pub(crate) struct NewObservation {
    pub(crate) station_id: String,
    pub(crate) station_name: String,
    /// The node's name in the store.
    pub(crate) node: String,
    pub(crate) profile: String,
    /// Where it failed: the host, or the profile when that says more.
    pub(crate) instance: String,
    pub(crate) run_id: i64,
    /// Unix time in nanoseconds.
    pub(crate) started_ns: i64,
    /// Unix time in nanoseconds; the moment the defect was "seen".
    pub(crate) finished_ns: i64,
    /// How long the attempt ran: the time the failure cost.
    pub(crate) duration: Duration,
    /// The error's message, as the report shows it; the signature is made from it.
    pub(crate) message: String,
    /// The error's message and those of its `source()` chain, outermost first.
    pub(crate) chain: Vec<String>,
    pub(crate) panic: Option<String>,
    /// The last lines the station logged.
    pub(crate) log_tail: Vec<String>,
    pub(crate) inputs: Vec<(String, Digest)>,
    /// Inputs small enough to show, rendered as text.
    pub(crate) input_values: Vec<(String, String)>,
    /// The working directory, kept as the failure left it.
    pub(crate) kept_dir: Option<PathBuf>,
    /// How many stations downstream could not run because of this failure.
    pub(crate) blocked: usize,
}

/// Identifies a defect in a store. Shown as `#3`; parsed from `3` or `#3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefectId(i64);

impl fmt::Display for DefectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl FromStr for DefectId {
    type Err = ParseIntError;

    fn from_str(s: &str) -> Result<DefectId, ParseIntError> {
        s.strip_prefix('#').unwrap_or(s).parse().map(DefectId)
    }
}

/// Identifies an observation in a store. Shown as `#12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObservationId(i64);

impl fmt::Display for ObservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a defect stands, as the team has marked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DefectStatus {
    /// Not known to be dealt with. New defects are open, and so is a fixed one seen again.
    Open,
    /// Worked around: its impact is contained, its cause is still there.
    Mitigated,
    /// Its cause is removed. An observation after this reopens it and marks it regressed.
    Fixed,
}

impl DefectStatus {
    fn as_str(self) -> &'static str {
        match self {
            DefectStatus::Open => "open",
            DefectStatus::Mitigated => "mitigated",
            DefectStatus::Fixed => "fixed",
        }
    }

    fn parse(text: &str) -> Option<DefectStatus> {
        [
            DefectStatus::Open,
            DefectStatus::Mitigated,
            DefectStatus::Fixed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl fmt::Display for DefectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a note on a defect records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoteKind {
    /// How to recognize the defect and make the system work again.
    Remedy,
    /// What to look at or record the next time it happens.
    NextSteps,
}

impl NoteKind {
    const ALL: [NoteKind; 2] = [NoteKind::Remedy, NoteKind::NextSteps];

    fn as_str(self) -> &'static str {
        match self {
            NoteKind::Remedy => "remedy",
            NoteKind::NextSteps => "next_steps",
        }
    }

    fn parse(text: &str) -> Option<NoteKind> {
        NoteKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for NoteKind {
    /// The heading the notes of this kind go under.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoteKind::Remedy => "How to identify / remedy",
            NoteKind::NextSteps => "Next steps for investigation",
        })
    }
}

/// The format of an [exported](Store::export) ticket body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExportFormat {
    /// For a tracker's description field: summary table, timeline, evidence, notes.
    Markdown,
    /// Everything the ledger holds about the defect, for scripts.
    Json,
}

/// A note the team added to a defect.
#[derive(Clone, Debug)]
pub struct Note {
    kind: NoteKind,
    text: String,
    added_ns: i64,
}

impl Note {
    /// What the note records.
    pub fn kind(&self) -> NoteKind {
        self.kind
    }

    /// The note itself.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// When it was added.
    pub fn added(&self) -> SystemTime {
        time(self.added_ns)
    }
}

/// A defect: the cause behind every observation of its signatures, and what is known of it.
///
/// [`Store::defects`] lists them; the [defects guide](crate::guide::defects) has an example.
#[derive(Clone, Debug)]
pub struct Defect {
    id: DefectId,
    title: String,
    status: DefectStatus,
    regressed: bool,
    count: u64,
    first_ns: i64,
    last_ns: i64,
    blocked: u64,
    lost_ns: i64,
    stations: Vec<String>,
    instances: Vec<String>,
    signatures: Vec<String>,
    notes: Vec<Note>,
}

impl Defect {
    /// Its id in the store.
    pub fn id(&self) -> DefectId {
        self.id
    }

    /// The error message of its first observation.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Where it stands.
    pub fn status(&self) -> DefectStatus {
        self.status
    }

    /// Whether it was seen again after it was marked fixed (at any time in its life).
    pub fn regressed(&self) -> bool {
        self.regressed
    }

    /// How many times it was observed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// When its first observation failed.
    pub fn first_seen(&self) -> SystemTime {
        time(self.first_ns)
    }

    /// When its latest observation failed.
    pub fn last_seen(&self) -> SystemTime {
        time(self.last_ns)
    }

    /// The mean time between two observations; `None` until it was seen twice.
    pub fn mean_interval(&self) -> Option<Duration> {
        let span = u64::try_from(self.last_ns - self.first_ns).unwrap_or(0);
        (self.count >= 2).then(|| Duration::from_nanos(span / (self.count - 1)))
    }

    /// When it will happen again if it keeps its pace: last seen plus the mean interval.
    pub fn next_expected(&self) -> Option<SystemTime> {
        self.mean_interval()
            .map(|interval| self.last_seen() + interval)
    }

    /// The ids of the stations it was observed in, sorted.
    pub fn stations(&self) -> &[String] {
        &self.stations
    }

    /// The instances (hosts or profiles) it was observed on, sorted.
    pub fn instances(&self) -> &[String] {
        &self.instances
    }

    /// Its impact: the stations that could not run because of it, over all observations.
    pub fn blocked(&self) -> u64 {
        self.blocked
    }

    /// Its cost: the time the failed attempts ran, added up.
    pub fn time_lost(&self) -> Duration {
        duration(self.lost_ns)
    }

    /// The signatures its observations have: one, or more after a [merge](Store::merge).
    pub fn signatures(&self) -> &[String] {
        &self.signatures
    }

    /// The notes the team added, oldest first.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
}

/// One failed station attempt and its evidence.
///
/// [`Store::observations`] lists a defect's.
#[derive(Clone, Debug)]
pub struct Observation {
    id: ObservationId,
    defect: DefectId,
    signature: String,
    title: String,
    station_id: String,
    station_name: String,
    node: String,
    profile: String,
    instance: String,
    run: i64,
    started_ns: i64,
    finished_ns: i64,
    duration_ns: i64,
    message: String,
    chain: Vec<String>,
    panic: Option<String>,
    log_tail: Vec<String>,
    inputs: Vec<(String, Digest)>,
    input_values: Vec<(String, String)>,
    kept_dir: Option<PathBuf>,
    blocked: u64,
}

impl Observation {
    /// Its id in the store.
    pub fn id(&self) -> ObservationId {
        self.id
    }

    /// The defect it belongs to.
    pub fn defect(&self) -> DefectId {
        self.defect
    }

    /// Its signature: the station id and the error message with volatile parts masked.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// `Handle: "<error message>" on "<instance>"`.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The failed station's id, such as `app::fetch`.
    pub fn station_id(&self) -> &str {
        &self.station_id
    }

    /// The failed station's human name.
    pub fn station_name(&self) -> &str {
        &self.station_name
    }

    /// The failed node's name in the store.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The profile of the run.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Where it failed: a host or a profile.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The id of the run it failed in.
    pub fn run(&self) -> i64 {
        self.run
    }

    /// When the attempt started.
    pub fn started(&self) -> SystemTime {
        time(self.started_ns)
    }

    /// When the attempt failed.
    pub fn finished(&self) -> SystemTime {
        time(self.finished_ns)
    }

    /// How long the attempt ran.
    pub fn duration(&self) -> Duration {
        duration(self.duration_ns)
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error's message and those of its causes, outermost first.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// The panic message, when the station panicked.
    pub fn panic(&self) -> Option<&str> {
        self.panic.as_deref()
    }

    /// The last lines the station logged before it failed.
    pub fn log_tail(&self) -> &[String] {
        &self.log_tail
    }

    /// The hash of each input, by parameter name.
    pub fn inputs(&self) -> &[(String, Digest)] {
        &self.inputs
    }

    /// The inputs small enough to show, rendered as text, by parameter name.
    pub fn input_values(&self) -> &[(String, String)] {
        &self.input_values
    }

    /// The station's working directory, kept as the failure left it.
    pub fn kept_dir(&self) -> Option<&Path> {
        self.kept_dir.as_deref()
    }

    /// How many stations downstream could not run because of this failure.
    pub fn blocked(&self) -> u64 {
        self.blocked
    }
}

/// The evidence lists of a new observation, as the JSON text the database keeps: readable
/// with `sqlite3`, unlike an encoded blob.
struct EvidenceText {
    chain: String,
    log_tail: String,
    inputs: String,
    input_values: String,
}

impl EvidenceText {
    fn of(observation: &NewObservation) -> Result<EvidenceText, Error> {
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

/// The defect ledger: every failed attempt is an [`Observation`], grouped into [`Defect`]s
/// the team can annotate, mark fixed, merge and export. The
/// [defects guide](crate::guide::defects) shows them at work.
impl Store {
    /// Records a failed attempt: the observation, its defect (found by signature, or opened),
    /// the defect's counters, and its reopening if it was marked fixed, in one transaction.
    pub(crate) fn observe(&self, observation: &NewObservation) -> Result<ObservationId, Error> {
        let evidence = EvidenceText::of(observation)?;
        let signature = signature(&observation.station_id, &observation.message);
        self.with_db("record a failure in", |db| {
            // Immediate: the defect is looked up and then maybe created, and another process
            // observing the same new signature must not create it too.
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let defect = defect_for(&tx, &signature, first_line(&observation.message))?;
            tx.execute(
                "UPDATE defects SET status = 'open', regressed = 1 WHERE id = ?1 AND status = 'fixed'",
                [defect],
            )?;
            let id = insert_observation(&tx, defect, &signature, observation, &evidence)?;
            refresh_counters(&tx, defect)?;
            tx.commit()?;
            Ok(ObservationId(id))
        })
    }

    /// Sets how many stations an observed failure blocked downstream, once the run knows.
    pub(crate) fn set_blocked(&self, id: ObservationId, blocked: usize) -> Result<(), Error> {
        self.with_db("record a failure's impact in", |db| {
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

    /// The defect an observation belongs to now, for the end-of-run summary.
    pub(crate) fn observed_defect(&self, id: ObservationId) -> Result<Option<Defect>, Error> {
        self.with_db("read a defect from", |db| {
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

    /// Every defect in the ledger, oldest first. Defects merged into another are not listed.
    pub fn defects(&self) -> Result<Vec<Defect>, Error> {
        self.with_db("read the defects from", |db| {
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

    /// The defect `id`, or the one it was merged into; `None` if there is no such defect.
    pub fn defect(&self, id: DefectId) -> Result<Option<Defect>, Error> {
        self.with_db("read a defect from", |db| {
            let tx = db.transaction()?;
            match resolve(&tx, id)? {
                Some(id) => load_defect(&tx, id),
                None => Ok(None),
            }
        })
    }

    /// The observations of a defect, in the order they failed.
    pub fn observations(&self, defect: DefectId) -> Result<Vec<Observation>, Error> {
        self.with_db("read observations from", |db| {
            let tx = db.transaction()?;
            resolve(&tx, defect)?
                .map(|id| load_observations(&tx, id))
                .transpose()
        })?
        .ok_or_else(|| no_defect(defect))
    }

    /// Marks a defect fixed. If it is observed again it reopens, flagged regressed.
    pub fn mark_fixed(&self, id: DefectId) -> Result<(), Error> {
        self.set_status(id, DefectStatus::Fixed)
    }

    /// Marks a defect mitigated: worked around, its cause still there.
    pub fn mark_mitigated(&self, id: DefectId) -> Result<(), Error> {
        self.set_status(id, DefectStatus::Mitigated)
    }

    fn set_status(&self, id: DefectId, status: DefectStatus) -> Result<(), Error> {
        let changed = self.with_db("update a defect in", |db| {
            db.execute(
                "UPDATE defects SET status = ?2
                 WHERE id = (SELECT coalesce(merged_into, id) FROM defects WHERE id = ?1)",
                params![id.0, status.as_str()],
            )
        })?;
        found(changed, id)
    }

    /// Adds a note to a defect: how to identify or remedy it, or what to look at next time.
    pub fn add_note(&self, id: DefectId, kind: NoteKind, text: &str) -> Result<(), Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::usage("a note needs some text"));
        }
        let added = self.with_db("add a note to", |db| {
            db.execute(
                "INSERT INTO notes (defect, kind, text, added_ns)
                 SELECT coalesce(merged_into, id), ?2, ?3, ?4 FROM defects WHERE id = ?1",
                params![id.0, kind.as_str(), text, crate::stat::now_ns()],
            )
        })?;
        found(added, id)
    }

    /// Records a person's judgement that `from` is the same defect as `into`: `from`'s
    /// observations, signatures and notes join `into`, later failures with `from`'s
    /// signature count for `into`, and `from`'s id leads to `into`. `into` keeps its title
    /// and status, and is regressed if either was.
    pub fn merge(&self, into: DefectId, from: DefectId) -> Result<(), Error> {
        let missing = self.with_db("merge defects in", |db| {
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
        })?;
        missing.map_or(Ok(()), |id| Err(no_defect(id)))
    }

    /// A ticket body for the defect: title, summary table, timeline of observations,
    /// evidence and notes.
    pub fn export(&self, id: DefectId, format: ExportFormat) -> Result<String, Error> {
        // Read in one transaction, so the summary counts the observations the timeline lists.
        let ticket = self.with_db("read a defect from", |db| {
            let tx = db.transaction()?;
            let Some(resolved) = resolve(&tx, id)? else {
                return Ok(None);
            };
            let observations = load_observations(&tx, resolved)?;
            Ok(load_defect(&tx, resolved)?.map(|defect| (defect, observations)))
        })?;
        let (defect, observations) = ticket.ok_or_else(|| no_defect(id))?;
        Ok(match format {
            ExportFormat::Markdown => export::markdown(&defect, &observations),
            ExportFormat::Json => export::json(&defect, &observations),
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
    signature: &str,
    o: &NewObservation,
    evidence: &EvidenceText,
) -> rusqlite::Result<i64> {
    let title = format!(
        "Handle: \"{}\" on \"{}\"",
        first_line(&o.message),
        o.instance
    );
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
        signature,
        title,
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
    defect.notes = load_notes(db, id)?;
    Ok(Some(defect))
}

/// A defect's own row; its lists are filled in by [`load_defect`].
fn defect_from_row(id: i64, row: &Row<'_>) -> rusqlite::Result<Defect> {
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

fn load_notes(db: &Connection, defect: i64) -> rusqlite::Result<Vec<Note>> {
    let mut stmt =
        db.prepare_cached("SELECT kind, text, added_ns FROM notes WHERE defect = ?1 ORDER BY id")?;
    let rows = stmt.query_map([defect], |row| {
        let kind: String = row.get(0)?;
        Ok(Note {
            kind: NoteKind::parse(&kind).ok_or_else(|| unreadable(0, "note kind", &kind))?,
            text: row.get(1)?,
            added_ns: row.get(2)?,
        })
    })?;
    rows.collect()
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

fn observation_from_row(row: &Row<'_>) -> rusqlite::Result<Observation> {
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
fn column<T: rusqlite::types::FromSql>(
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
pub(crate) const INPUTS_COLUMN: usize = 17;

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

/// A title is one line: a multi-line message (a command's stderr) keeps its first.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default().trim()
}

fn found(changed_rows: usize, id: DefectId) -> Result<(), Error> {
    if changed_rows == 0 {
        return Err(no_defect(id));
    }
    Ok(())
}

fn no_defect(id: DefectId) -> Error {
    Error::usage(format!(
        "there is no defect {id} in this store; `Store::defects` lists them"
    ))
}

fn time(ns: i64) -> SystemTime {
    UNIX_EPOCH + duration(ns)
}

fn duration(ns: i64) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
