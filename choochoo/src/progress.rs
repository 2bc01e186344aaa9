//! Progress: what a run says while it goes, for progress bars and CI logs. A listener given
//! to [`Runner::progress`](crate::Runner::progress) receives every [`Event`], from the
//! worker threads, as it happens.

use crate::report::Status;
use std::sync::Arc;
use std::time::Duration;

/// Something that happened in a run.
///
/// The listener of [`Runner::progress`](crate::Runner::progress) gets each event from the
/// worker threads, as it happens.
///
/// ```
/// use choochoo::{station, workflow, Event, Runner, Store};
/// use std::sync::{Arc, Mutex};
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(x: u64) -> u64 {
///         let y = double(x);
///         double(y)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-progress-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let finished = Arc::new(Mutex::new(Vec::new()));
/// let seen = finished.clone();
/// let runner = Runner::new(&store).progress(move |event| {
///     if let Event::Finished { node, status, .. } = event {
///         seen.lock().unwrap().push(format!("{status} {node}"));
///     }
/// });
/// runner.run(twice(1))?;
/// assert_eq!(*finished.lock().unwrap(), ["ran twice.y", "ran twice.output"]);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The run starts with this many stations.
    Started {
        /// How many stations the graph has.
        stations: usize,
    },
    /// A map found its list: each of these items (by node name, `map[item]`) is run or
    /// found in the store next, with a [`Running`](Event::Running) and a
    /// [`Finished`](Event::Finished) event of its own, before the map finishes.
    Items {
        /// The map's node name in the store.
        node: &'a str,
        /// Its items' node names, in the list's order.
        items: &'a [String],
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
    /// A station warned of something, a line given to [`Ctx::warn`](crate::Ctx::warn).
    Warning {
        /// The node's name in the store.
        node: &'a str,
        /// The line, as it is kept (cut when very long).
        line: &'a str,
    },
    /// A station logged a line through [`Ctx::log`](crate::Ctx::log).
    Log {
        /// The node's name in the store.
        node: &'a str,
        /// The line.
        line: &'a str,
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
