//! The ledger's data: a failed attempt as the runner reports it ([`NewObservation`]), and
//! what the ledger holds and answers with ([`Defect`], [`Observation`], [`Note`]) and their
//! ids and states. Plain values: the store reads and writes them (`store/ledger.rs`), the
//! rest of `defect` groups, triages and exports them.

use crate::hash::Digest;
use std::fmt;
use std::num::ParseIntError;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A failed station attempt, as the runner reports it to `Store::observe`.
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
pub struct DefectId(pub(crate) i64);

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
pub struct ObservationId(pub(crate) i64);

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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DefectStatus::Open => "open",
            DefectStatus::Mitigated => "mitigated",
            DefectStatus::Fixed => "fixed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<DefectStatus> {
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
    pub(crate) const ALL: [NoteKind; 2] = [NoteKind::Remedy, NoteKind::NextSteps];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NoteKind::Remedy => "remedy",
            NoteKind::NextSteps => "next_steps",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<NoteKind> {
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

/// A note the team added to a defect.
#[derive(Clone, Debug)]
pub struct Note {
    pub(crate) kind: NoteKind,
    pub(crate) text: String,
    pub(crate) added_ns: i64,
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
/// [`Store::defects`](crate::Store::defects) lists them; the [defects guide](crate::guide::defects) has an example.
#[derive(Clone, Debug)]
pub struct Defect {
    pub(crate) id: DefectId,
    pub(crate) title: String,
    pub(crate) status: DefectStatus,
    pub(crate) regressed: bool,
    pub(crate) count: u64,
    pub(crate) first_ns: i64,
    pub(crate) last_ns: i64,
    pub(crate) blocked: u64,
    pub(crate) lost_ns: i64,
    pub(crate) stations: Vec<String>,
    pub(crate) instances: Vec<String>,
    pub(crate) signatures: Vec<String>,
    pub(crate) notes: Vec<Note>,
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

    /// The signatures its observations have: one, or more after a [merge](crate::Store::merge).
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
/// [`Store::observations`](crate::Store::observations) lists a defect's.
#[derive(Clone, Debug)]
pub struct Observation {
    pub(crate) id: ObservationId,
    pub(crate) defect: DefectId,
    pub(crate) signature: String,
    pub(crate) title: String,
    pub(crate) station_id: String,
    pub(crate) station_name: String,
    pub(crate) node: String,
    pub(crate) profile: String,
    pub(crate) instance: String,
    pub(crate) run: i64,
    pub(crate) started_ns: i64,
    pub(crate) finished_ns: i64,
    pub(crate) duration_ns: i64,
    pub(crate) message: String,
    pub(crate) chain: Vec<String>,
    pub(crate) panic: Option<String>,
    pub(crate) log_tail: Vec<String>,
    pub(crate) inputs: Vec<(String, Digest)>,
    pub(crate) input_values: Vec<(String, String)>,
    pub(crate) kept_dir: Option<PathBuf>,
    pub(crate) blocked: u64,
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

pub(crate) fn time(ns: i64) -> SystemTime {
    UNIX_EPOCH + duration(ns)
}

pub(crate) fn duration(ns: i64) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

pub(crate) fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}
