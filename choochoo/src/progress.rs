//! Progress: what a run says while it goes, for progress bars and CI logs. A listener given
//! to [`Runner::progress`](crate::Runner::progress) receives every [`Event`], from the
//! worker threads, as it happens.

use crate::report::Status;
use std::sync::Arc;
use std::time::Duration;

/// Something that happened in a run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The run starts with this many stations.
    Started {
        /// How many stations the graph has.
        stations: usize,
    },
    /// A station's function is about to be called.
    Running {
        /// The node's name in the store.
        node: &'a str,
        /// The station's human name.
        name: &'a str,
    },
    /// A station reported its own progress through [`Ctx::progress`](crate::Ctx::progress).
    Progress {
        /// The node's name in the store.
        node: &'a str,
        /// How much is done.
        done: u64,
        /// How much there is, if known.
        total: Option<u64>,
        /// What is counted.
        unit: Unit,
    },
    /// A station is settled: ran, cached, failed, blocked or skipped.
    Finished {
        /// The node's name in the store.
        node: &'a str,
        /// The station's human name.
        name: &'a str,
        /// What happened.
        status: Status,
        /// How long its function ran.
        duration: Duration,
    },
}

/// What a station's progress counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// Steps of its own choosing.
    Steps,
    /// Bytes (an upload, a download).
    Bytes,
}

/// A progress listener.
pub(crate) type Listener = Arc<dyn Fn(&Event<'_>) + Send + Sync>;
