//! Running a graph. The [`Runner`] starts every station as soon as its inputs are ready, on
//! a thread pool it owns, and collects a [`Report`] with one entry per station.

use crate::error::chain;
use crate::graph::{Edge, ErasedStation, Graph, Kind};
use crate::memo::{self, Content};
use crate::report::{Entry, Report, Status};
use crate::stat::{Seen, StatCache};
use crate::station::Ctx;
use crate::store::{Head, Record};
use crate::value::Shared;
use crate::workflow::{Outputs, Workflow};
use crate::{Digest, Error, Store};
use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Runs workflows against a [`Store`]. A builder: set options, then call
/// [`run`](Runner::run) as often as needed.
#[derive(Debug)]
pub struct Runner<'s> {
    store: &'s Store,
    jobs: usize,
    keep_going: bool,
    profile: String,
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
        Runner {
            store,
            jobs,
            keep_going: false,
            profile: "default".to_owned(),
            pool: OnceLock::new(),
        }
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
        let name = workflow.name().to_owned();
        let outputs = workflow.build(&mut graph)?;
        self.execute(&name, &graph, &*outputs)
    }

    /// Runs every station of `graph` and returns the value(s) of `output`.
    pub fn run_graph<N: Outputs>(&self, graph: &Graph, output: N) -> Result<Run<N::Value>, Error> {
        self.execute("graph", graph, &output)
    }

    fn execute<O>(
        &self,
        workflow: &str,
        graph: &Graph,
        outputs: &dyn Outputs<Value = O>,
    ) -> Result<Run<O>, Error> {
        let wanted = outputs.nodes();
        if let Some(bad) = wanted.iter().find(|id| **id as usize >= graph.nodes.len()) {
            return Err(Error::usage(format!(
                "the output node {bad} is not part of this graph"
            )));
        }
        let pool = self.pool()?;
        let run_id = self.store.begin_run(workflow, &self.profile)?;
        let mut execution = Execution::new(graph, self.store, &self.profile, self.keep_going)?;
        pool.scope(|scope| execution.start(scope));
        let values = wanted
            .iter()
            .map(|id| execution.take_value(*id))
            .collect::<Result<Vec<_>, _>>();
        if let Err(error) = self.store.save_stats(&execution.stats.take_changed()) {
            execution.warn(format!("the stat cache was not saved: {}", chain(&error)));
        }
        let report = execution.report();
        drop(execution);
        let counts =
            [Status::Ran, Status::Cached, Status::Failed].map(|status| report.count(status));
        self.store
            .finish_run(run_id, counts[0], counts[1], counts[2])?;
        if counts[2] > 0 {
            return Err(Error::failed(report));
        }
        Ok(Run {
            output: outputs.take(values?)?,
            report,
        })
    }

    fn pool(&self) -> Result<&rayon::ThreadPool, Error> {
        if let Some(pool) = self.pool.get() {
            return Ok(pool);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs)
            .thread_name(|i| format!("choochoo-{i}"))
            .build()
            .map_err(|error| {
                Error::usage(format!(
                    "cannot start {} worker threads: {error}",
                    self.jobs
                ))
            })?;
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
    store: &'g Store,
    profile: &'g str,
    keep_going: bool,
    /// `dependents[offsets[n]..offsets[n + 1]]` are the stations reading node `n`.
    offsets: Vec<u32>,
    dependents: Vec<u32>,
    /// Station inputs not yet finished, per node.
    pending: Vec<AtomicU32>,
    upstream: Vec<AtomicU8>,
    /// Each station's name in the store (directory, head, lock).
    paths: Vec<Box<str>>,
    values: Vec<OnceLock<Shared>>,
    contents: Vec<OnceLock<Content>>,
    /// The record a cached node's value can be decoded from, when it is needed.
    records: Vec<OnceLock<Record>>,
    outcomes: Vec<OnceLock<Outcome>>,
    stats: StatCache,
    warnings: Mutex<Vec<String>>,
    stop: Arc<AtomicBool>,
}

struct Outcome {
    status: Status,
    duration: Duration,
    reason: Option<String>,
    error: Option<String>,
}

impl Outcome {
    fn not_run(status: Status) -> Outcome {
        Outcome {
            status,
            duration: Duration::ZERO,
            reason: None,
            error: None,
        }
    }

    fn failed(duration: Duration, reason: Option<String>, error: String) -> Outcome {
        Outcome {
            status: Status::Failed,
            duration,
            reason,
            error: Some(error),
        }
    }
}

impl<'g> Execution<'g> {
    fn new(
        graph: &'g Graph,
        store: &'g Store,
        profile: &'g str,
        keep_going: bool,
    ) -> Result<Execution<'g>, Error> {
        let n = graph.nodes.len();
        let (offsets, dependents, pending) = wiring(graph);
        Ok(Execution {
            graph,
            store,
            profile,
            keep_going,
            offsets,
            dependents,
            pending,
            upstream: (0..n).map(|_| AtomicU8::new(UPSTREAM_OK)).collect(),
            paths: node_paths(graph)?,
            values: graph
                .nodes
                .iter()
                .map(|node| match &node.kind {
                    Kind::Input(value) => OnceLock::from(value.clone()),
                    Kind::Station { .. } => OnceLock::new(),
                })
                .collect(),
            contents: (0..n).map(|_| OnceLock::new()).collect(),
            records: (0..n).map(|_| OnceLock::new()).collect(),
            outcomes: (0..n).map(|_| OnceLock::new()).collect(),
            stats: StatCache::new(store.stats()?),
            warnings: Mutex::default(),
            stop: Arc::default(),
        })
    }

    fn start<'scope>(&'scope self, scope: &rayon::Scope<'scope>) {
        // Find every ready station before starting any: once one runs, it may bring others'
        // counts to zero, and those are started by whoever finished their last input.
        let ready: Vec<u32> = (0..self.graph.nodes.len() as u32)
            .filter(|&id| {
                is_station(self.graph, id) && self.pending[id as usize].load(Ordering::Relaxed) == 0
            })
            .collect();
        for id in ready {
            scope.spawn(move |scope| self.visit(scope, id));
        }
    }

    fn visit<'scope>(&'scope self, scope: &rayon::Scope<'scope>, id: u32) {
        let outcome = self.decide(id);
        let upstream = match outcome.status {
            Status::Ran | Status::Cached => UPSTREAM_OK,
            Status::Skipped => UPSTREAM_SKIPPED,
            _ => UPSTREAM_FAILED,
        };
        if outcome.status == Status::Failed && !self.keep_going {
            self.stop.store(true, Ordering::Release);
        }
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

    /// Cached, ran, failed, or not run: the runtime's core rule for one station.
    fn decide(&self, id: u32) -> Outcome {
        match self.upstream[id as usize].load(Ordering::Acquire) {
            UPSTREAM_FAILED => return Outcome::not_run(Status::Blocked),
            UPSTREAM_SKIPPED => return Outcome::not_run(Status::Skipped),
            _ => {}
        }
        if self.stop.load(Ordering::Acquire) {
            return Outcome::not_run(Status::Skipped);
        }
        let Kind::Station { station, inputs } = &self.graph.nodes[id as usize].kind else {
            return Outcome::not_run(Status::Cached);
        };
        let input_hashes = match self.input_hashes(inputs) {
            Ok(hashes) => hashes,
            Err(error) => return Outcome::failed(Duration::ZERO, None, chain(&error)),
        };
        let codec = &self.graph.nodes[id as usize].codec;
        let fingerprint = station.fingerprint();
        let key = memo::key(
            station.id(),
            &fingerprint,
            (codec.type_name)(),
            &input_hashes,
        );
        let stale = match self.lookup(id, &key) {
            Lookup::Hit => return Outcome::not_run(Status::Cached),
            Lookup::Stale(reason) => Some(reason),
            Lookup::Miss => None,
        };
        // Another process may be computing this node: wait for it, then look again.
        let lease = match self.store.lease(self.profile, &self.paths[id as usize]) {
            Ok(lease) => lease,
            Err(error) => return Outcome::failed(Duration::ZERO, None, chain(&error)),
        };
        if stale.is_none() && matches!(self.lookup(id, &key), Lookup::Hit) {
            return Outcome::not_run(Status::Cached);
        }
        let reason = stale.unwrap_or_else(|| {
            let head = self
                .store
                .head(self.profile, &self.paths[id as usize])
                .ok()
                .flatten();
            memo::reason(
                head.as_ref(),
                &fingerprint,
                &input_hashes,
                station.input_names(),
            )
        });
        let head = Head {
            key,
            fingerprint,
            inputs: input_hashes,
        };
        let outcome = self.execute(id, station.as_ref(), inputs, head, reason);
        drop(lease);
        outcome
    }

    /// Runs the station's function and records its output.
    fn execute(
        &self,
        id: u32,
        station: &dyn ErasedStation,
        inputs: &[Edge],
        head: Head,
        reason: String,
    ) -> Outcome {
        let node = &self.graph.nodes[id as usize];
        let path = &self.paths[id as usize];
        let ctx = Ctx {
            id: station.id(),
            out_dir: self.store.work_dir(self.profile, path),
            label: node.label.clone(),
            stopping: self.stop.clone(),
        };
        let started = Instant::now();
        let result = self.gather(inputs).and_then(|owned| {
            let refs = self.refs(inputs, &owned).map_err(|error| chain(&error))?;
            match catch_unwind(AssertUnwindSafe(|| station.run(&ctx, &refs))) {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(error)) => Err(chain(&*error)),
                Err(panic) => Err(format!("panicked: {}", panic_message(&*panic))),
            }
        });
        let duration = started.elapsed();
        let value = match result {
            Ok(value) => value,
            Err(error) => return Outcome::failed(duration, Some(reason), error),
        };
        let (encoded, paths) = match (node.codec.encode)(&*value) {
            Ok(encoded) => encoded,
            Err(error) => {
                return Outcome::failed(
                    duration,
                    Some(reason),
                    format!("its output cannot be stored: {}", chain(&error)),
                );
            }
        };
        let content = match self.hash_files(paths) {
            Ok(files) => memo::content(&encoded, files),
            Err(error) => return Outcome::failed(duration, Some(reason), chain(&error)),
        };
        let mut reason = reason;
        let read = inputs
            .iter()
            .flat_map(Edge::sources)
            .filter_map(|source| self.contents[*source as usize].get());
        if let Some(changed) = memo::changed_during_run(read.flat_map(|content| &content.files)) {
            reason.push_str(&format!(
                "; not recorded: {} changed while the station ran",
                changed.display()
            ));
        } else {
            let files: Vec<(PathBuf, Digest)> = content
                .files
                .iter()
                .map(|(p, seen)| (p.clone(), seen.digest))
                .collect();
            let committed = self.store.commit(
                self.profile,
                &head.key,
                station.id(),
                path,
                &head,
                &content.digest,
                &encoded,
                &files,
                duration.as_nanos() as i64,
            );
            if let Err(error) = committed {
                self.warn(format!(
                    "the result of `{path}` was not recorded: {}",
                    chain(&error)
                ));
            }
        }
        let _ = self.contents[id as usize].set(content);
        let _ = self.values[id as usize].set(value);
        Outcome {
            status: Status::Ran,
            duration,
            reason: Some(reason),
            error: None,
        }
    }

    /// Looks a key up and checks that what it names is all there and intact.
    fn lookup(&self, id: u32, key: &Digest) -> Lookup {
        let path = &self.paths[id as usize];
        let record = match self.store.record(self.profile, key) {
            Ok(None) => return Lookup::Miss,
            Ok(Some(Ok(record))) => record,
            Ok(Some(Err(problem))) => {
                self.warn(format!(
                    "the record {key} of `{path}` is unreadable ({problem}); running it again"
                ));
                return Lookup::Stale("its record was unreadable".to_owned());
            }
            Err(error) => {
                self.warn(format!(
                    "cannot look up `{path}`: {}; running it again",
                    chain(&error)
                ));
                return Lookup::Miss;
            }
        };
        if let Err(problem) = self.store.verify(&record) {
            self.warn(format!(
                "the record {key} of `{path}` is corrupt ({problem}); running it again"
            ));
            return Lookup::Stale("its stored output was corrupt".to_owned());
        }
        if let Some(reason) = memo::stale_output(&record, |file| self.stats.hash(file).ok()) {
            return Lookup::Stale(reason);
        }
        let files = record
            .files
            .iter()
            .filter_map(|(file, _)| Some((file.clone(), self.stats.hash(file).ok()?)))
            .collect();
        let _ = self.contents[id as usize].set(Content {
            digest: record.output_hash,
            files,
        });
        let _ = self.records[id as usize].set(record);
        Lookup::Hit
    }

    /// The content hash of every input of a station, in order.
    fn input_hashes(&self, inputs: &[Edge]) -> Result<Vec<Digest>, Error> {
        inputs
            .iter()
            .map(|edge| match edge {
                Edge::One(source) => self.content(*source),
                Edge::Many(sources, _) => sources
                    .iter()
                    .map(|source| self.content(*source))
                    .collect::<Result<Vec<_>, _>>()
                    .map(memo::many),
            })
            .collect()
    }

    /// A node's content hash; for a constant input, computed on first use.
    fn content(&self, id: u32) -> Result<Digest, Error> {
        if let Some(content) = self.contents[id as usize].get() {
            return Ok(content.digest);
        }
        let node = &self.graph.nodes[id as usize];
        let value = self.value(id)?;
        let (encoded, paths) = (node.codec.encode)(value)?;
        let content = memo::content(&encoded, self.hash_files(paths)?);
        Ok(self.contents[id as usize].get_or_init(|| content).digest)
    }

    fn hash_files(&self, paths: Vec<PathBuf>) -> Result<Vec<(PathBuf, Seen)>, Error> {
        paths
            .into_iter()
            .map(|path| {
                let seen = self
                    .stats
                    .hash(&path)
                    .map_err(|error| Error::io("hash", &path, error))?;
                Ok((path, seen))
            })
            .collect()
    }

    /// Builds the owned `Vec`s of fan-in edges; single edges are borrowed later.
    fn gather(&self, inputs: &[Edge]) -> Result<Vec<Option<Box<dyn Any + Send + Sync>>>, String> {
        inputs
            .iter()
            .map(|edge| match edge {
                Edge::One(_) => Ok(None),
                Edge::Many(sources, collect) => {
                    let values: Vec<&(dyn Any + Send + Sync)> = sources
                        .iter()
                        .map(|source| self.value(*source))
                        .collect::<Result<_, _>>()?;
                    collect(&values).map(Some)
                }
            })
            .collect::<Result<_, Error>>()
            .map_err(|error| chain(&error))
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

    /// A node's value, decoded from the store the first time a cached node's value is needed.
    fn value(&self, id: u32) -> Result<&(dyn Any + Send + Sync), Error> {
        if let Some(value) = self.values[id as usize].get() {
            return Ok(&**value);
        }
        let path = &self.paths[id as usize];
        let record = self.records[id as usize]
            .get()
            .ok_or_else(|| Error::internal(format!("`{path}` has no value yet")))?;
        let bytes = self.store.load(record).map_err(|problem| {
            Error::usage(format!(
                "the stored output of `{path}` changed during the run: {problem}"
            ))
        })?;
        let value = (self.graph.nodes[id as usize].codec.decode)(&bytes).map_err(|error| {
            // The bytes are intact, so the type changed without the station's code changing.
            let _ = self.store.forget(self.profile, &record.key);
            Error::usage(format!(
                "the stored output of `{path}` no longer decodes ({}); its record was removed, so the next run computes it again. \
                 When a station's output type changes, bump its `version`",
                chain(&error)
            ))
        })?;
        Ok(&**self.values[id as usize].get_or_init(|| value))
    }

    fn take_value(&mut self, id: u32) -> Result<Shared, Error> {
        self.value(id)?;
        self.values[id as usize]
            .take()
            .ok_or_else(|| Error::internal(format!("the output node {id} produced no value")))
    }

    fn warn(&self, warning: String) {
        eprintln!("choochoo: warning: {warning}");
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }

    fn report(&mut self) -> Report {
        let entries = self
            .graph
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(id, node)| {
                let Kind::Station { station, .. } = &node.kind else {
                    return None;
                };
                let outcome = self.outcomes[id]
                    .take()
                    .unwrap_or(Outcome::not_run(Status::Skipped));
                Some(Entry {
                    node: self.paths[id].clone(),
                    id: station.id(),
                    name: station.name(),
                    label: node.label.clone(),
                    status: outcome.status,
                    duration: outcome.duration,
                    reason: outcome.reason,
                    error: outcome.error,
                })
            })
            .collect();
        let warnings =
            std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()));
        Report { entries, warnings }
    }
}

enum Lookup {
    /// A record exists and everything it names is present and intact.
    Hit,
    /// A record exists but cannot be used, for this reason.
    Stale(String),
    Miss,
}

/// Who reads whom: CSR lists of each node's station dependents, and each station's count of
/// unfinished station inputs.
fn wiring(graph: &Graph) -> (Vec<u32>, Vec<u32>, Vec<AtomicU32>) {
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
    (offsets, dependents, pending)
}

/// Each station's name in the store, stable from run to run: `workflow/binding` for a
/// `workflow!` binding; for a builder node, the station's name and a hash of where its inputs
/// come from (constants by value, files by path), so editing a file keeps the name.
fn node_paths(graph: &Graph) -> Result<Vec<Box<str>>, Error> {
    let mut identities: Vec<Digest> = Vec::with_capacity(graph.nodes.len());
    let mut paths = Vec::with_capacity(graph.nodes.len());
    let mut taken: HashMap<String, usize> = HashMap::new();
    for node in &graph.nodes {
        let (identity, base) = match &node.kind {
            Kind::Input(value) => {
                let (encoded, _) = (node.codec.encode)(&**value)?;
                (
                    Digest::of(&encoded),
                    node.label.as_deref().unwrap_or("input").to_owned(),
                )
            }
            Kind::Station { station, inputs } => {
                let mut hasher = crate::hash::Hasher::new("choochoo/node");
                hasher.field("station", station.id().as_bytes());
                for source in inputs.iter().flat_map(Edge::sources) {
                    hasher.digest("source", &identities[*source as usize]);
                }
                let identity = hasher.finish();
                let base = match (&node.label, graph_scope(node)) {
                    (Some(label), scope) => format!("{scope}{label}"),
                    (None, _) => {
                        let name = station.id().rsplit("::").next().unwrap_or("station");
                        format!("{name}-{}", &identity.to_hex()[..12])
                    }
                };
                (identity, base)
            }
        };
        identities.push(identity);
        let count = taken.entry(base.clone()).or_insert(0);
        *count += 1;
        paths.push(
            if *count == 1 {
                base
            } else {
                format!("{base}-{count}")
            }
            .into_boxed_str(),
        );
    }
    Ok(paths)
}

fn graph_scope(node: &crate::graph::NodeData) -> String {
    node.scope
        .map(|scope| format!("{scope}."))
        .unwrap_or_default()
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
