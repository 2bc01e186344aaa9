//! The ledger's data: a failed attempt as the runner reports it ([`NewObservation`]), and
//! what the ledger holds and answers with ([`Defect`], [`Note`], [`Decision`], and the
//! observations of `observation.rs`) and their ids and states. Plain values: the store reads
//! and writes them (`store/ledger.rs`), the rest of `defect` groups, triages and exports them.

use crate::hash::Digest;
use std::fmt;
use std::num::ParseIntError;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A failed station attempt, as the runner reports it to `Store::observe` (the first of its
/// run) or `Store::observe_again` (a later one).
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
    pub(crate) added_by: Option<String>,
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

    /// Who added it: the user name of the process that did; `None` for notes of stores
    /// made before choochoo recorded it.
    pub fn added_by(&self) -> Option<&str> {
        self.added_by.as_deref()
    }
}

/// What a person decided about a defect, who and when: marked it fixed or mitigated, or
/// merged another defect into it.
#[derive(Clone, Debug)]
pub struct Decision {
    pub(crate) what: String,
    pub(crate) by: String,
    pub(crate) at_ns: i64,
}

impl Decision {
    /// What was decided: `marked fixed`, `marked mitigated`, `merged #4 into it`.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Who decided it: the user name of the process that recorded it.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// When.
    pub fn at(&self) -> SystemTime {
        time(self.at_ns)
    }
}

/// How many runs a defect must have been seen in before its pace is figured: two
/// sightings give one interval, which predicts nothing.
pub(crate) const RUNS_FOR_A_PACE: u64 = 3;

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
    pub(crate) decisions: Vec<Decision>,
    pub(crate) runs: u64,
    pub(crate) last_run: i64,
    pub(crate) recovered: u64,
    pub(crate) quiet_since: Option<i64>,
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

    /// How many observations it has: each a station failing in a run, however many times
    /// it was tried. How many times the defect happened is [`runs_seen`](Defect::runs_seen).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many runs it was seen in: how many times it happened. All of a run's failures
    /// that share a cause are one event of one defect, whichever stations and map items
    /// failed.
    pub fn runs_seen(&self) -> u64 {
        self.runs
    }

    /// The latest run it was seen in.
    pub fn last_run(&self) -> i64 {
        self.last_run
    }

    /// How many of its observations [recovered](crate::Observation::recovered): a retry
    /// of the station succeeded in the same run.
    pub fn recovered(&self) -> u64 {
        self.recovered
    }

    /// The first finished run after [`last_run`](Defect::last_run) of a workflow it was
    /// seen in, with the same profile, in which none of the nodes it failed in failed, was
    /// blocked or skipped: the run since which it has been quiet. A quiet defect keeps its
    /// status; only a person marks it fixed.
    pub fn quiet_since(&self) -> Option<i64> {
        self.quiet_since
    }

    /// When its first observation failed.
    pub fn first_seen(&self) -> SystemTime {
        time(self.first_ns)
    }

    /// When its latest observation failed.
    pub fn last_seen(&self) -> SystemTime {
        time(self.last_ns)
    }

    /// The mean time between the runs it was seen in; `None` until it was seen in three
    /// runs. The retries of a station and the stations of one run are one sighting.
    pub fn mean_interval(&self) -> Option<Duration> {
        let span = u64::try_from(self.last_ns - self.first_ns).unwrap_or(0);
        (self.runs >= RUNS_FOR_A_PACE).then(|| Duration::from_nanos(span / (self.runs - 1)))
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

    /// Its impact: the stations that could not run because of it, over all its runs; in
    /// each run, as many as that run's report counts blocked below its failures.
    pub fn blocked(&self) -> u64 {
        self.blocked
    }

    /// Its cost: the [time](crate::Observation::duration) of its observations, added up.
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

    /// What people decided about it, oldest first: marked fixed or mitigated, merges.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
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
