//! An observation: a station's failed attempts in one run, with the evidence of its first
//! failure, each failed attempt's message and kept directory, and whether a later attempt
//! succeeded.

use super::model::{DefectId, ObservationId, duration, time};
use crate::hash::Digest;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A station failing in one run, and its evidence: its first failed attempt's error, log
/// tail and inputs, each failed attempt ([`failed_attempts`](Observation::failed_attempts)),
/// and whether a retry then succeeded ([`recovered`](Observation::recovered)).
///
/// However many times a station is tried in a run, that run has one observation of it.
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
    pub(crate) attempts: u32,
    pub(crate) recovered: bool,
    pub(crate) failures: Vec<FailedAttempt>,
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

    /// When its first failed attempt started.
    pub fn started(&self) -> SystemTime {
        time(self.started_ns)
    }

    /// When its last failed attempt failed.
    pub fn finished(&self) -> SystemTime {
        time(self.finished_ns)
    }

    /// The time it cost: for a station that failed in the end, the time its entry in the
    /// run's report shows (every attempt and the waits between them); for one that
    /// [recovered](Observation::recovered), the time its failed attempts ran.
    pub fn duration(&self) -> Duration {
        duration(self.duration_ns)
    }

    /// The error message of its first failed attempt.
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

    /// The station's working directory, kept as its first failed attempt left it.
    pub fn kept_dir(&self) -> Option<&Path> {
        self.kept_dir.as_deref()
    }

    /// How many stations downstream could not run because of this failure. A station
    /// blocked by several failures of one run counts for the first of them, so the blocked
    /// stations of a run add up to the run's own count; a recovered station blocked none.
    pub fn blocked(&self) -> u64 {
        self.blocked
    }

    /// How many times the station was tried in the run: its failed attempts, and the one
    /// that succeeded if it [recovered](Observation::recovered).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether a later attempt of the run succeeded: the station failed, was tried again
    /// under its retry policy, and its last attempt (number [`attempts`](Observation::attempts))
    /// did the work.
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// Each failed attempt, in order: its number, message, duration and kept directory.
    pub fn failed_attempts(&self) -> &[FailedAttempt] {
        &self.failures
    }
}

/// One failed attempt of an [`Observation`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedAttempt {
    pub(crate) attempt: u32,
    pub(crate) message: String,
    pub(crate) finished_ns: i64,
    pub(crate) duration_ns: i64,
    pub(crate) kept_dir: Option<PathBuf>,
}

impl FailedAttempt {
    /// Which attempt of the run it was, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Its error and causes, joined by `: `.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// When it failed.
    pub fn finished(&self) -> SystemTime {
        time(self.finished_ns)
    }

    /// How long it ran.
    pub fn duration(&self) -> Duration {
        duration(self.duration_ns)
    }

    /// Its working directory, kept as it left it.
    pub fn kept_dir(&self) -> Option<&Path> {
        self.kept_dir.as_deref()
    }
}
