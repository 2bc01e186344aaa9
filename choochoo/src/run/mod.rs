//! Running a graph. The [`Runner`] starts every station as soon as its inputs are ready, on
//! a thread pool it owns, and collects a [`Report`] with one entry per station. It can also
//! [`plan`](Runner::plan) a run without doing anything, and [`clean`](Runner::clean) up
//! after one.

#[cfg(feature = "watch")]
mod changes;
mod clean;
mod execute;
mod plan;
mod policy;
mod targets;
#[cfg(feature = "temporal")]
mod temporal;
#[cfg(feature = "watch")]
pub(crate) mod watch;
#[cfg(feature = "watch")]
mod watched;

use crate::error::Error;
use crate::execution::Execution;
use crate::graph::Graph;
use crate::report::Report;
use crate::select::{Named, select};
use crate::store::Store;
use crate::workflow::{Outputs, Workflow};
use std::collections::HashSet;
use std::sync::OnceLock;
pub use targets::Targets;

/// Runs workflows against a [`Store`]. A builder: set options, then call
/// [`run`](Runner::run) as often as needed.
///
/// Each station starts as soon as its inputs are ready, on a thread pool the runner owns
/// ([`jobs`](Runner::jobs); the global rayon pool is left alone), started when the first
/// station needs more than a lookup. A station whose key is in the store is not called: its
/// result is [`Cached`](crate::Status::Cached).
///
/// ```
/// use choochoo::{station, workflow, Runner, Status, Store};
///
/// #[station]
/// fn square(x: &u64) -> u64 { x * x }
///
/// workflow! {
///     fn squares(a: u64, b: u64) -> (u64, u64) {
///         let x = square(a);
///         let y = square(b);
///         (x, y)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-runner-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let runner = Runner::new(&store).jobs(2).keep_going(true);
/// assert_eq!(runner.run(squares(3, 4))?.into_output(), (9, 16));
///
/// // The same run again: every result comes from the store.
/// let again = runner.run(squares(3, 4))?;
/// assert_eq!(again.report().count(Status::Cached), 2);
///
/// // One input changed: only the station reading it runs.
/// let changed = runner.run(squares(3, 5))?;
/// assert_eq!(changed.report().count(Status::Ran), 1);
///
/// // Forced by its binding's name, `x` runs whatever the store says.
/// let forced = Runner::new(&store).force(["x"]).run(squares(3, 5))?;
/// assert_eq!(forced.report().find("x").next().unwrap().reason(), Some("forced"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
pub struct Runner<'s> {
    store: &'s Store,
    /// `None`: one per available core, asked of the system only when the pool starts.
    jobs: Option<usize>,
    keep_going: bool,
    profile: String,
    instance: String,
    force: Vec<String>,
    force_downstream: Vec<String>,
    /// Attempt policies set for this runner's runs, by station name, in order.
    policies: Vec<(String, crate::execution::policy::Setting)>,
    /// How many stations may hold each limited resource at once, by resource.
    resources: Vec<(String, usize)>,
    listener: Option<crate::progress::Listener>,
    pool: OnceLock<rayon::ThreadPool>,
    #[cfg(feature = "remote")]
    remote: Option<std::sync::Arc<crate::remote::Cache>>,
    /// The workers to send stations to, connected at the first run.
    #[cfg(feature = "temporal")]
    temporal: Option<temporal::Workers>,
}

/// A successful run: the workflow's output and the report.
#[derive(Debug)]
pub struct Run<O> {
    output: O,
    report: Report,
}

impl<O> Run<O> {
    /// The workflow's output.
    pub fn output(&self) -> &O {
        &self.output
    }

    /// Takes the output out of the run.
    pub fn into_output(self) -> O {
        self.output
    }

    /// What happened to each station.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Takes the report out of the run.
    pub fn into_report(self) -> Report {
        self.report
    }
}

impl<'s> Runner<'s> {
    /// A runner using `store`, with one job per available core, the profile `default`, and
    /// this machine's host name as the instance. With the `remote` feature, the remote cache
    /// named by the environment, if any ([`Remote::from_env`]).
    ///
    #[cfg_attr(
        feature = "remote",
        doc = "[`Remote::from_env`]: crate::Remote::from_env"
    )]
    #[cfg_attr(
        not(feature = "remote"),
        doc = "[`Remote::from_env`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.from_env"
    )]
    pub fn new(store: &'s Store) -> Runner<'s> {
        let runner = Runner {
            store,
            jobs: None,
            keep_going: false,
            profile: "default".to_owned(),
            instance: host_name(),
            force: Vec::new(),
            force_downstream: Vec::new(),
            policies: Vec::new(),
            resources: Vec::new(),
            listener: None,
            pool: OnceLock::new(),
            #[cfg(feature = "remote")]
            remote: None,
            #[cfg(feature = "temporal")]
            temporal: None,
        };
        #[cfg(feature = "remote")]
        if let Some(remote) = crate::remote::config::Remote::from_env() {
            return runner.remote(remote);
        }
        runner
    }

    /// Uses `remote` as a second-level cache shared with other stores: a station the store
    /// does not have is looked up there before it runs, and, when `remote` is written to,
    /// each station that runs is uploaded. The cache never fails a run: a server that cannot
    /// be reached, is slow or sends a result that does not verify costs a warning.
    #[cfg(feature = "remote")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
    pub fn remote(mut self, remote: crate::remote::config::Remote) -> Runner<'s> {
        match crate::remote::Cache::new(remote) {
            Ok(cache) => self.remote = Some(std::sync::Arc::new(cache)),
            Err(error) => {
                eprintln!("choochoo: warning: the remote cache is off: {error}");
                self.remote = None;
            }
        }
        self
    }

    /// Uses no remote cache, whatever the environment says.
    #[cfg(feature = "remote")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
    pub fn local_only(mut self) -> Runner<'s> {
        self.remote = None;
        self
    }

    /// Runs at most `jobs` stations at once (at least one).
    pub fn jobs(mut self, jobs: usize) -> Runner<'s> {
        self.jobs = Some(jobs.max(1));
        self.pool = OnceLock::new();
        self
    }

    /// Lets at most `units` stations (at least one) hold `resource` at once: a station that
    /// names it (`#[station(resources = ["db"])]`, [`Graph::resources`]) and finds every
    /// unit taken waits, without taking a worker, while other stations keep the pool busy.
    /// Setting a resource again replaces its limit. A resource no runner limits is not
    /// held back: naming one is how a station says what it uses, and the operator decides
    /// whether it needs a limit.
    ///
    /// A station holds its units while it is decided and run: its lookup, its check, every
    /// attempt. A map holding a resource runs its items one after another under its units.
    ///
    /// ```
    /// use choochoo::{station, workflow, Runner, Store};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// static RUNNING: AtomicUsize = AtomicUsize::new(0);
    /// static MOST: AtomicUsize = AtomicUsize::new(0);
    ///
    /// /// Migrates one schema; the database takes one migration at a time.
    /// #[station(resources = ["db"])]
    /// fn migrate(schema: &str) -> String {
    ///     let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    ///     MOST.fetch_max(now, Ordering::SeqCst);
    ///     std::thread::sleep(std::time::Duration::from_millis(20));
    ///     RUNNING.fetch_sub(1, Ordering::SeqCst);
    ///     format!("{schema} migrated")
    /// }
    ///
    /// workflow! {
    ///     fn schemas(a: String, b: String, c: String) -> (String, String, String) {
    ///         let x = migrate(a);
    ///         let y = migrate(b);
    ///         let z = migrate(c);
    ///         (x, y, z)
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let dir = std::env::temp_dir().join(format!("choochoo-resource-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let runner = Runner::new(&store).jobs(3).resource("db", 1);
    /// runner.run(schemas("orders".into(), "users".into(), "carts".into()))?;
    /// assert_eq!(MOST.load(Ordering::SeqCst), 1);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`Graph::resources`]: crate::Graph::resources
    pub fn resource(mut self, resource: impl Into<String>, units: usize) -> Runner<'s> {
        let resource = resource.into();
        self.resources.retain(|(name, _)| *name != resource);
        self.resources.push((resource, units.max(1)));
        self
    }

    /// After a failure, `false` (the default) lets running stations finish but starts no new
    /// ones; `true` goes on with every station that does not depend on the failure.
    pub fn keep_going(mut self, keep_going: bool) -> Runner<'s> {
        self.keep_going = keep_going;
        self
    }

    /// Runs the named stations whatever the store says. Their dependents run only if the
    /// output changed. A name is a binding (`workflow!`), a node name in the store, or a
    /// station's id or function name (which matches every node of that station). A map named
    /// runs all its items; `map[item]` runs one item of a map (`objects[src/main.c]`).
    pub fn force<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Runner<'s> {
        self.force = names.into_iter().map(Into::into).collect();
        self
    }

    /// Runs the named stations and everything downstream of them, whatever the store says.
    pub fn force_downstream<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        names: I,
    ) -> Runner<'s> {
        self.force_downstream = names.into_iter().map(Into::into).collect();
        self
    }

    /// Keeps this run's records and directories apart from other profiles' (`default` unless
    /// set): a staging and a production deployment never take each other's results.
    pub fn profile(mut self, profile: impl Into<String>) -> Runner<'s> {
        self.profile = profile.into();
        self
    }

    /// Names where the run happens (the host name unless set), for the run's records and its
    /// failure observations.
    pub fn instance(mut self, instance: impl Into<String>) -> Runner<'s> {
        self.instance = instance.into();
        self
    }

    /// Calls `listener` with every [`Event`](crate::Event) of a run, as it happens, from the
    /// worker threads (and from the calling thread, for stations found in the store before
    /// the workers start): for progress bars and logs. [`Event`](crate::Event) has an example.
    pub fn progress(
        mut self,
        listener: impl Fn(&crate::progress::Event<'_>) + Send + Sync + 'static,
    ) -> Runner<'s> {
        self.listener = Some(std::sync::Arc::new(listener));
        self
    }

    /// The store this runner uses.
    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// Builds and runs a workflow. A station failure is an `Err` whose
    /// [`report`](Error::report) says what ran, what failed and what was blocked.
    pub fn run<W: Workflow>(&self, workflow: W) -> Result<Run<W::Output>, Error> {
        let mut graph = Graph::new();
        let name = workflow.name().to_owned();
        let outputs = workflow.build(&mut graph)?;
        self.execute(&name, &graph, &*outputs)
    }

    /// Runs every station of `graph` and returns the value(s) of `output`.
    pub fn run_graph<N: Outputs>(&self, graph: &Graph, output: N) -> Result<Run<N::Value>, Error> {
        self.execute("graph", graph, &output)
    }

    /// Which nodes are forced: the named ones, and the named ones of `force_downstream`
    /// with everything downstream of them; and which map items (a map named forces all its
    /// items). A name that matches no station is an error.
    fn force_on(&self, graph: &Graph, execution: &mut Execution<'_>) -> Result<(), Error> {
        let mut forced = vec![false; graph.nodes.len()];
        let mut items = HashSet::new();
        let mut stack = Vec::new();
        let names = self.force.iter().map(|name| (name, false));
        for (name, downstream) in names.chain(self.force_downstream.iter().map(|n| (n, true))) {
            match select(graph, &execution.paths, name)? {
                Named::Nodes(ids) if downstream => stack.extend(ids),
                Named::Nodes(ids) => ids.iter().for_each(|id| forced[id.index()] = true),
                Named::Items(named) => {
                    for (map, item) in named {
                        items.insert(item);
                        if downstream {
                            stack.extend_from_slice(execution.dependents_of(map));
                        }
                    }
                }
            }
        }
        let mut seen = vec![false; graph.nodes.len()];
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut seen[id.index()], true) {
                forced[id.index()] = true;
                stack.extend_from_slice(execution.dependents_of(id));
            }
        }
        execution.forced = forced;
        execution.forced_items = items;
        Ok(())
    }

    /// Whether this runner's pool has started (tests).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn threads_started(&self) -> bool {
        self.pool.get().is_some()
    }

    fn pool(&self) -> Result<&rayon::ThreadPool, Error> {
        if let Some(pool) = self.pool.get() {
            return Ok(pool);
        }
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .thread_name(|i| format!("choochoo-{i}"))
            .build()
            .map_err(|error| {
                Error::usage(format!("cannot start {jobs} worker threads: {error}"))
            })?;
        Ok(self.pool.get_or_init(|| pool))
    }
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("store", &self.store.dir())
            .field("jobs", &self.jobs)
            .field("keep_going", &self.keep_going)
            .field("profile", &self.profile)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// This machine's name, the default instance.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}
