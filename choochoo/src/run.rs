//! Running a graph. The [`Runner`] starts every station as soon as its inputs are ready, on
//! a thread pool it owns, and collects a [`Report`] with one entry per station.

use crate::error::chain;
use crate::graph::{Edge, Graph, Kind};
use crate::report::{Entry, Report, Status};
use crate::station::Ctx;
use crate::value::Shared;
use crate::workflow::{Outputs, Workflow};
use crate::{Error, Store};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Runs workflows against a [`Store`]. A builder: set options, then call
/// [`run`](Runner::run) as often as needed.
#[derive(Debug)]
pub struct Runner<'s> {
    store: &'s Store,
    jobs: usize,
    keep_going: bool,
    pool: OnceLock<rayon::ThreadPool>,
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
}

impl<'s> Runner<'s> {
    /// A runner using `store`, with one job per available core.
    pub fn new(store: &'s Store) -> Runner<'s> {
        let jobs = std::thread::available_parallelism().map_or(1, usize::from);
        Runner { store, jobs, keep_going: false, pool: OnceLock::new() }
    }

    /// Runs at most `jobs` stations at once (at least one).
    pub fn jobs(mut self, jobs: usize) -> Runner<'s> {
        self.jobs = jobs.max(1);
        self.pool = OnceLock::new();
        self
    }

    /// After a failure, `false` (the default) lets running stations finish but starts no new
    /// ones; `true` goes on with every station that does not depend on the failure.
    pub fn keep_going(mut self, keep_going: bool) -> Runner<'s> {
        self.keep_going = keep_going;
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
        let outputs = workflow.build(&mut graph)?;
        self.execute(&graph, &*outputs)
    }

    /// Runs every station of `graph` and returns the value(s) of `output`.
    pub fn run_graph<N: Outputs>(&self, graph: &Graph, output: N) -> Result<Run<N::Value>, Error> {
        self.execute(graph, &output)
    }

    fn execute<O>(&self, graph: &Graph, outputs: &dyn Outputs<Value = O>) -> Result<Run<O>, Error> {
        let wanted = outputs.nodes();
        if let Some(bad) = wanted.iter().find(|id| **id as usize >= graph.nodes.len()) {
            return Err(Error::usage(format!("the output node {bad} is not part of this graph")));
        }
        let pool = self.pool()?;
        let mut execution = Execution::new(graph, self.keep_going);
        pool.scope(|scope| execution.start(scope));
        let report = execution.report();
        if report.count(Status::Failed) > 0 {
            return Err(Error::failed(report));
        }
        let values = wanted.iter().map(|id| execution.take_value(*id)).collect::<Result<Vec<_>, _>>()?;
        drop(execution);
        Ok(Run { output: outputs.take(values)?, report })
    }

    fn pool(&self) -> Result<&rayon::ThreadPool, Error> {
        if let Some(pool) = self.pool.get() {
            return Ok(pool);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs)
            .thread_name(|i| format!("choochoo-{i}"))
            .build()
            .map_err(|error| Error::usage(format!("cannot start {} worker threads: {error}", self.jobs)))?;
        Ok(self.pool.get_or_init(|| pool))
    }
}

/// How a node's upstream ended, when not all succeeded: blocked wins over skipped.
const UPSTREAM_OK: u8 = 0;
const UPSTREAM_SKIPPED: u8 = 1;
const UPSTREAM_FAILED: u8 = 2;

/// The shared state of one run of one graph.
struct Execution<'g> {
    graph: &'g Graph,
    keep_going: bool,
    /// `dependents[offsets[n]..offsets[n + 1]]` are the stations reading node `n`.
    offsets: Vec<u32>,
    dependents: Vec<u32>,
    /// Station inputs not yet finished, per node.
    pending: Vec<AtomicU32>,
    upstream: Vec<AtomicU8>,
    values: Vec<OnceLock<Shared>>,
    outcomes: Vec<OnceLock<Outcome>>,
    stop: Arc<AtomicBool>,
}

struct Outcome {
    status: Status,
    duration: Duration,
    error: Option<String>,
}

impl Outcome {
    fn not_run(status: Status) -> Outcome {
        Outcome { status, duration: Duration::ZERO, error: None }
    }
}

impl<'g> Execution<'g> {
    fn new(graph: &'g Graph, keep_going: bool) -> Execution<'g> {
        let n = graph.nodes.len();
        let mut counts = vec![0u32; n + 1];
        let mut pending = Vec::with_capacity(n);
        for node in &graph.nodes {
            let mut waiting = 0;
            if let Kind::Station { inputs, .. } = &node.kind {
                for source in inputs.iter().flat_map(Edge::sources) {
                    if is_station(graph, *source) {
                        counts[*source as usize + 1] += 1;
                        waiting += 1;
                    }
                }
            }
            pending.push(AtomicU32::new(waiting));
        }
        let offsets: Vec<u32> = counts
            .iter()
            .scan(0u32, |sum, count| {
                *sum += count;
                Some(*sum)
            })
            .collect();
        let mut fill = offsets.clone();
        let mut dependents = vec![0u32; *offsets.last().unwrap_or(&0) as usize];
        for (id, node) in graph.nodes.iter().enumerate() {
            if let Kind::Station { inputs, .. } = &node.kind {
                for source in inputs.iter().flat_map(Edge::sources) {
                    if is_station(graph, *source) {
                        let slot = &mut fill[*source as usize];
                        dependents[*slot as usize] = id as u32;
                        *slot += 1;
                    }
                }
            }
        }
        let values: Vec<OnceLock<Shared>> = graph
            .nodes
            .iter()
            .map(|node| match &node.kind {
                Kind::Input(value) => OnceLock::from(value.clone()),
                Kind::Station { .. } => OnceLock::new(),
            })
            .collect();
        Execution {
            graph,
            keep_going,
            offsets,
            dependents,
            pending,
            upstream: (0..n).map(|_| AtomicU8::new(UPSTREAM_OK)).collect(),
            values,
            outcomes: (0..n).map(|_| OnceLock::new()).collect(),
            stop: Arc::default(),
        }
    }

    fn start<'scope>(&'scope self, scope: &rayon::Scope<'scope>) {
        // Find every ready station before starting any: once one runs, it may bring others'
        // counts to zero, and those are started by whoever finished their last input.
        let ready: Vec<u32> = (0..self.graph.nodes.len() as u32)
            .filter(|&id| is_station(self.graph, id) && self.pending[id as usize].load(Ordering::Relaxed) == 0)
            .collect();
        for id in ready {
            scope.spawn(move |scope| self.visit(scope, id));
        }
    }

    fn visit<'scope>(&'scope self, scope: &rayon::Scope<'scope>, id: u32) {
        let outcome = self.execute(id);
        let upstream = match outcome.status {
            Status::Ran | Status::Cached => UPSTREAM_OK,
            Status::Skipped => UPSTREAM_SKIPPED,
            _ => UPSTREAM_FAILED,
        };
        let _ = self.outcomes[id as usize].set(outcome);
        let range = self.offsets[id as usize] as usize..self.offsets[id as usize + 1] as usize;
        for &dependent in &self.dependents[range] {
            if upstream != UPSTREAM_OK {
                self.upstream[dependent as usize].fetch_max(upstream, Ordering::AcqRel);
            }
            if self.pending[dependent as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                scope.spawn(move |scope| self.visit(scope, dependent));
            }
        }
    }

    fn execute(&self, id: u32) -> Outcome {
        match self.upstream[id as usize].load(Ordering::Acquire) {
            UPSTREAM_FAILED => return Outcome::not_run(Status::Blocked),
            UPSTREAM_SKIPPED => return Outcome::not_run(Status::Skipped),
            _ => {}
        }
        if self.stop.load(Ordering::Acquire) {
            return Outcome::not_run(Status::Skipped);
        }
        let node = &self.graph.nodes[id as usize];
        let Kind::Station { station, inputs } = &node.kind else {
            return Outcome::not_run(Status::Ran);
        };
        let ctx = Ctx { id: station.id(), label: node.label.clone(), stopping: self.stop.clone() };
        let started = Instant::now();
        let result = self
            .gather(inputs)
            .map_err(|error| chain(&error))
            .and_then(|owned| {
                let refs = self.refs(inputs, &owned).map_err(|error| chain(&error))?;
                match catch_unwind(AssertUnwindSafe(|| station.run(&ctx, &refs))) {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(error)) => Err(chain(&*error)),
                    Err(panic) => Err(format!("panicked: {}", panic_message(&*panic))),
                }
            });
        let duration = started.elapsed();
        match result {
            Ok(value) => {
                let _ = self.values[id as usize].set(value);
                Outcome { status: Status::Ran, duration, error: None }
            }
            Err(error) => {
                if !self.keep_going {
                    self.stop.store(true, Ordering::Release);
                }
                Outcome { status: Status::Failed, duration, error: Some(error) }
            }
        }
    }

    /// Builds the owned `Vec`s of fan-in edges; single edges are borrowed later.
    fn gather(&self, inputs: &[Edge]) -> Result<Vec<Option<Box<dyn Any + Send + Sync>>>, Error> {
        inputs
            .iter()
            .map(|edge| match edge {
                Edge::One(_) => Ok(None),
                Edge::Many(sources, collect) => {
                    let values: Vec<&(dyn Any + Send + Sync)> =
                        sources.iter().map(|source| self.value(*source)).collect::<Result<_, _>>()?;
                    collect(&values).map(Some)
                }
            })
            .collect()
    }

    fn refs<'a>(
        &'a self,
        inputs: &[Edge],
        owned: &'a [Option<Box<dyn Any + Send + Sync>>],
    ) -> Result<Vec<&'a (dyn Any + Send + Sync)>, Error> {
        inputs
            .iter()
            .zip(owned)
            .map(|(edge, owned)| match (edge, owned) {
                (_, Some(owned)) => Ok(&**owned),
                (Edge::One(source), None) => self.value(*source),
                (Edge::Many(..), None) => Err(Error::internal("a fan-in input was not collected")),
            })
            .collect()
    }

    fn value(&self, id: u32) -> Result<&(dyn Any + Send + Sync), Error> {
        self.values[id as usize]
            .get()
            .map(|value| &**value)
            .ok_or_else(|| Error::internal(format!("node {id} has no value yet")))
    }

    fn take_value(&mut self, id: u32) -> Result<Shared, Error> {
        self.values[id as usize]
            .take()
            .ok_or_else(|| Error::internal(format!("the output node {id} produced no value")))
    }

    fn report(&mut self) -> Report {
        let entries = self
            .graph
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(id, node)| {
                let Kind::Station { station, .. } = &node.kind else { return None };
                let outcome = self.outcomes[id].take().unwrap_or(Outcome::not_run(Status::Skipped));
                Some(Entry {
                    node: id as u32,
                    id: station.id(),
                    name: station.name(),
                    label: node.label.clone(),
                    status: outcome.status,
                    duration: outcome.duration,
                    reason: None,
                    error: outcome.error,
                })
            })
            .collect();
        Report { entries }
    }
}

fn is_station(graph: &Graph, id: u32) -> bool {
    matches!(graph.nodes[id as usize].kind, Kind::Station { .. })
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
