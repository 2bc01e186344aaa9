//! One execution of a graph: the scheduler that starts each station when its inputs are
//! ready, and the runtime's core rule for each station — look its key up, ask its check,
//! run it (with retries and a time limit), check again, record the result.
//!
//! Each step of a run has its own file, in the order a station meets them:
//! `ahead` (the stations the store has, settled before the pool starts),
//! `schedule` (ready set, spawning, the countdown of inputs), `decide` (the rule for one
//! station), `lookup` (found, stale or missing; outputs verified), `attempt` (the call with
//! retries and a time limit, the check after it, the failing directory kept), `call` (the
//! station's own code, its panics caught), `values` (values encoded, hashed and handed
//! downstream), `commit` (batches, leases, durability), `used` (the keys the run used, for `gc`), `ledger` (the failures and warnings
//! of the run), `warned` (what each station warned of) and `finish` (the report). `map`
//! runs a station over a list whose items `items` names and `item` looks up and runs one by
//! one, `resources` holds ready stations back until the units of the resources they hold
//! are free, `remote` brings in the shared cache, `bytes` the files left in it, `paths` names each node in the store, `policy`
//! says how each station's attempts are made in this run.

pub(crate) mod ahead;
mod attempt;
mod bytes;
mod call;
mod commit;
mod committer;
pub(crate) mod decide;
#[cfg(feature = "temporal")]
mod elsewhere;
pub(crate) mod finish;
pub(crate) mod item;
mod item_queue;
pub(crate) mod items;
mod ledger;
mod levels;
mod lookup;
mod map;
pub(crate) mod paths;
pub(crate) mod policy;
mod recheck;
#[cfg(feature = "remote")]
mod remote;
mod resources;
#[cfg(feature = "remote")]
mod restore;
pub(crate) mod run_id;
pub(crate) mod schedule;
mod used;
mod values;
mod warned;
#[cfg(feature = "temporal")]
mod worked;

use crate::error::Error;
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use crate::hash::Digest;
use crate::memo::Content;
use crate::report::Status;
use crate::report::entry::{Details, More};
use crate::stat::StatCache;
use crate::store::Store;
use crate::value::Shared;
use paths::node_paths;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What a run was asked to do, beyond the graph.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) profile: String,
    pub(crate) instance: String,
    pub(crate) keep_going: bool,
    pub(crate) run_id: run_id::RunId,
    pub(crate) listener: Option<crate::progress::Listener>,
    /// The run's journal of the stations it starts and ends, while it lives.
    pub(crate) journal: Option<Arc<crate::store::journal::Journal>>,
    /// A plan: nothing is written, not even the store's secret key.
    pub(crate) read_only: bool,
    /// How many stations may hold each limited resource at once.
    pub(crate) resources: Vec<(String, usize)>,
    /// The shared second-level cache, if any.
    #[cfg(feature = "remote")]
    pub(crate) remote: Option<Arc<crate::remote::Cache>>,
    /// The runtime of the run's async stations.
    #[cfg(feature = "tokio")]
    pub(crate) tokio: Arc<crate::asynchronous::Tokio>,
    /// The workers the stations that must run are sent to, if any.
    #[cfg(feature = "temporal")]
    pub(crate) temporal: Option<Arc<crate::temporal::client::Dispatch>>,
}

/// The shared state of one run of one graph.
pub(crate) struct Execution<'g> {
    pub(crate) graph: &'g Graph,
    pub(crate) store: &'g Store,
    pub(crate) settings: &'g Settings,
    /// Stations to run whatever the store says, by node index.
    pub(crate) forced: Vec<bool>,
    /// Map items to run whatever the store says, by node name (`map[item]`).
    pub(crate) forced_items: HashSet<Box<str>>,
    /// Stations outside the run's targets, by node index (empty: the run has none): not
    /// run, not reported.
    pub(crate) outside: Vec<bool>,
    /// What this run sets of some stations' attempt policies.
    pub(crate) overrides: policy::Overrides,
    /// `dependents[offsets[n]..offsets[n + 1]]` are the stations reading node `n`.
    offsets: Vec<u32>,
    dependents: Vec<NodeId>,
    /// Station inputs not yet finished, per node.
    pending: Vec<AtomicU32>,
    /// Holds back ready stations until the units of the resources they hold are free.
    gate: resources::Gate,
    upstream: Vec<AtomicU8>,
    /// Each station's name in the store (directory, head, lease).
    pub(crate) paths: paths::NodePaths,
    values: Vec<OnceLock<Shared>>,
    contents: Vec<OnceLock<Content>>,
    /// The records in hand some nodes' values are decoded from (cleaning finds them), by
    /// node index, made at the first one (a run has none); a node found in the store has
    /// its record found again when its value is needed.
    records: OnceLock<Box<[OnceLock<Box<crate::memo::Record>>]>>,
    outcomes: Vec<OnceLock<Settled>>,
    /// What became of each item of the maps that ran, in list order.
    items: Mutex<Vec<(NodeId, ItemOutcomes)>>,
    stats: Arc<StatCache>,
    /// This run's sights of discovered inputs.
    checked: crate::discovered::Checked,
    warnings: Mutex<Vec<String>>,
    /// Warnings given while the run looks ahead (`ahead`), not yet said.
    held: Mutex<Option<Vec<String>>>,
    /// What the last attempt of each station that ran warned of, by node name, for the
    /// stations that warned.
    warned: crate::warnings::Board,
    /// The worker that ran each station sent to one, and Temporal's number of the attempt
    /// that succeeded, by node name.
    #[cfg(feature = "temporal")]
    ran_on: Mutex<HashMap<Box<str>, (String, u32)>>,
    /// The last observation of each failed node, to add its impact when the run is over.
    observations: Mutex<HashMap<String, crate::defect::model::ObservationId>>,
    batch: Mutex<commit::Batch<'g>>,
    /// Held while a batch taken from `batch` is being committed (see `commit`).
    committing: Mutex<()>,
    /// Stations whose records failed to commit, with the error: failures of the run.
    unrecorded: Mutex<Vec<(String, String)>>,
    /// Every key this run looked up or recorded: what `gc` keeps for the last runs.
    used: used::Used,
    /// Routes what stations log through `tracing` into their own logs.
    capture: tracing::Dispatch,
    stop: Arc<AtomicBool>,
    /// The run could not be recorded: nothing of it is committed (`commit.rs`).
    refused: AtomicBool,
    /// Whether a station's directory may exist: the profile's directory of them did when
    /// the run started, or a station of the run made one. Until then no station is looked
    /// at for a directory it left.
    dirs_made: Arc<AtomicBool>,
    /// The files in the remote cache only, by path, read at the first need.
    remote_files: Mutex<Option<HashMap<PathBuf, Digest>>>,
    /// Whether each node's files are here, once a station that runs needed them (made at
    /// the first node whose files may be in the remote cache only).
    materialized: OnceLock<Box<[Materialized]>>,
    #[cfg(feature = "remote")]
    remote: Option<remote::Remote>,
}

/// A station's outcome as the run keeps it until the report: its status, and the details
/// its report entry will have, boxed already (most stations of a large run have none, and
/// the box made where the station settled becomes its entry's).
struct Settled {
    status: Status,
    details: Option<Box<Details>>,
}

impl Settled {
    fn of(outcome: Outcome) -> Settled {
        Settled {
            status: outcome.status,
            details: outcome.details().boxed(),
        }
    }

    fn status(&self) -> Status {
        self.status
    }
}

/// Whether a node's files are here, once a station that runs needed them.
type Materialized = OnceLock<Result<(), String>>;

/// What became of each item of one map, by item node name (`map[item]`).
type ItemOutcomes = Vec<(Box<str>, Outcome)>;

/// What became of one station in a run.
pub(crate) struct Outcome {
    status: Status,
    /// When the station's function was first called, and on which worker.
    started: Option<(std::time::SystemTime, usize)>,
    duration: Duration,
    reason: Option<crate::memo::Reason>,
    error: Option<String>,
    kept_dir: Option<PathBuf>,
}

impl Outcome {
    /// What its report entry says beyond its status.
    fn details(self) -> Details {
        let more = More {
            error: self.error,
            kept_dir: self.kept_dir,
            ..More::default()
        };
        Details::new(self.duration, self.reason, self.started, more)
    }

    fn not_run(status: Status) -> Outcome {
        Outcome {
            status,
            started: None,
            duration: Duration::ZERO,
            reason: None,
            error: None,
            kept_dir: None,
        }
    }

    fn failed(duration: Duration, reason: Option<crate::memo::Reason>, error: String) -> Outcome {
        Outcome {
            status: Status::Failed,
            started: None,
            duration,
            reason,
            error: Some(error),
            kept_dir: None,
        }
    }
}

impl<'g> Execution<'g> {
    pub(crate) fn new(
        graph: &'g Graph,
        store: &'g Store,
        settings: &'g Settings,
    ) -> Result<Execution<'g>, Error> {
        Execution::with_paths(graph, store, settings, node_paths(graph)?)
    }

    /// [`new`](Execution::new), with each node's name in the store already found.
    pub(crate) fn with_paths(
        graph: &'g Graph,
        store: &'g Store,
        settings: &'g Settings,
        paths: paths::NodePaths,
    ) -> Result<Execution<'g>, Error> {
        let names = paths::Names {
            paths,
            contents: Vec::new(),
        };
        Execution::with_stats(graph, store, settings, names, store.stats()?)
    }

    /// [`with_paths`](Execution::with_paths), with the store's stat cache already loaded and
    /// the content hashes of constants that were found with their names.
    pub(crate) fn with_stats(
        graph: &'g Graph,
        store: &'g Store,
        settings: &'g Settings,
        names: paths::Names,
        stats: crate::stat::Entries,
    ) -> Result<Execution<'g>, Error> {
        let wiring = schedule::Wiring::of(graph);
        Execution::with_wiring(graph, store, settings, (names, stats, wiring))
    }

    /// [`with_stats`](Execution::with_stats), with the graph's wiring already found.
    pub(crate) fn with_wiring(
        graph: &'g Graph,
        store: &'g Store,
        settings: &'g Settings,
        (names, stats, wiring): (paths::Names, crate::stat::Entries, schedule::Wiring),
    ) -> Result<Execution<'g>, Error> {
        let n = graph.nodes.len();
        let paths::Names { paths, contents } = names;
        let (offsets, dependents, pending) = wiring.into_parts();
        Ok(Execution {
            graph,
            store,
            settings,
            forced: Vec::new(),
            forced_items: HashSet::new(),
            outside: Vec::new(),
            overrides: policy::Overrides::default(),
            offsets,
            dependents,
            pending,
            gate: resources::Gate::new(graph, &settings.resources),
            upstream: (0..n)
                .map(|_| AtomicU8::new(schedule::UPSTREAM_OK))
                .collect(),
            paths,
            values: graph
                .nodes
                .iter()
                .map(|node| match &node.kind {
                    Kind::Input(value) => OnceLock::from(value.clone()),
                    Kind::Station { .. } => OnceLock::new(),
                })
                .collect(),
            contents: contents_of(n, contents),
            records: OnceLock::new(),
            outcomes: (0..n).map(|_| OnceLock::new()).collect(),
            items: Mutex::default(),
            stats: Arc::new(StatCache::new(stats)),
            checked: crate::discovered::Checked::default(),
            warnings: Mutex::default(),
            held: Mutex::default(),
            warned: crate::warnings::Board::default(),
            #[cfg(feature = "temporal")]
            ran_on: Mutex::default(),
            observations: Mutex::default(),
            capture: crate::capture::capture(),
            batch: Mutex::default(),
            committing: Mutex::default(),
            unrecorded: Mutex::default(),
            used: used::Used::new(),
            stop: Arc::default(),
            refused: AtomicBool::new(false),
            dirs_made: Arc::new(AtomicBool::new(dirs_may_exist(store, settings))),
            remote_files: Mutex::default(),
            materialized: OnceLock::new(),
            #[cfg(feature = "remote")]
            remote: settings
                .remote
                .clone()
                .map(|cache| remote::Remote::new(cache, n)),
        })
    }

    /// Whether the directory of the station named `path` is there: its station used it.
    pub(crate) fn left_dir(&self, path: &str) -> bool {
        self.dirs_made.load(std::sync::atomic::Ordering::Acquire)
            && self.store.work_dir(&self.settings.profile, path).exists()
    }

    /// Runs `code`, an encoding for a key, with the secrets it meets hashed with the store's
    /// secret key.
    pub(crate) fn keyed<R>(&self, code: impl FnOnce() -> R) -> R {
        let keys = self.store.secret_keys();
        crate::secret::context::keyed(keys, !self.settings.read_only, code)
    }

    /// Whether the run was asked to run this station whatever the store says.
    pub(crate) fn is_forced(&self, id: NodeId) -> bool {
        self.forced.get(id.index()).copied().unwrap_or(false)
    }

    /// Whether station `id` is outside the run's targets: it is left alone.
    pub(crate) fn is_outside(&self, id: NodeId) -> bool {
        self.outside.get(id.index()).copied().unwrap_or(false)
    }

    /// The items of map `id` the run was asked to run whatever the store says.
    pub(crate) fn forced_items_of(&self, id: NodeId) -> impl Iterator<Item = &str> {
        let map = &self.paths[id.index()];
        self.forced_items.iter().filter_map(move |item| {
            crate::report::split_item(item)
                .filter(|(of, _)| *of == map)
                .map(|(_, name)| name)
        })
    }
}

/// Whether some station's directory may be there as a run starts: the profile's directory
/// of them is (a station of an earlier run made one), or the remote cache may restore files
/// into them.
fn dirs_may_exist(store: &Store, settings: &Settings) -> bool {
    #[cfg(feature = "remote")]
    if settings.remote.is_some() {
        return true;
    }
    let profile_dir = store.work_dir(&settings.profile, "-");
    profile_dir.parent().is_none_or(std::path::Path::exists)
}

/// Each node's content, empty but where `found` (one per node, or none at all) has a
/// constant's hash: a constant that names no file has no more to its content.
fn contents_of(nodes: usize, found: Vec<Option<Digest>>) -> Vec<OnceLock<Content>> {
    if found.len() != nodes {
        return (0..nodes).map(|_| OnceLock::new()).collect();
    }
    found
        .into_iter()
        .map(|digest| match digest {
            Some(digest) => OnceLock::from(Content {
                digest,
                files: crate::memo::Files::default(),
            }),
            None => OnceLock::new(),
        })
        .collect()
}
