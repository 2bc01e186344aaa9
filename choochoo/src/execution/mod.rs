//! One execution of a graph: the scheduler that starts each station when its inputs are
//! ready, and the runtime's core rule for each station — look its key up, ask its check,
//! run it (with retries and a time limit), check again, record the result.

mod map;
#[cfg(feature = "remote")]
mod remote;

use crate::error::chain;
use crate::graph::{Edge, ErasedStation, Graph, Kind, Policy};
use crate::memo::{self, Content};
use crate::report::{Entry, Report, Status};
use crate::stat::{Seen, StatCache};
use crate::station::{BoxError, Ctx, Transient};
use crate::store::{Head, Record};
use crate::value::Shared;
use crate::{Digest, Error, Store};
use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What a run was asked to do, beyond the graph.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) profile: String,
    pub(crate) instance: String,
    pub(crate) keep_going: bool,
    pub(crate) run_id: i64,
    pub(crate) listener: Option<crate::progress::Listener>,
    /// The shared second-level cache, if any.
    #[cfg(feature = "remote")]
    pub(crate) remote: Option<Arc<crate::remote::Cache>>,
}

/// Records are committed in batches of at most this many, or this old: one transaction for
/// many stations. A kill loses at most one batch, whose stations then run again (their keys
/// are content hashes, so nothing recorded is ever wrong); a run reports only after its last
/// batch is committed, and holds each node's lease until its record is durable.
const BATCH_RECORDS: usize = 256;

/// From this many nodes on, a run reads all of its profile's records in one query.
const INDEX_FROM: usize = 2_000;
const BATCH_TIME: Duration = Duration::from_millis(50);

/// What a run's reason says when a station's result was not recorded.
const NOT_RECORDED: &str = "; not recorded: ";

/// Records waiting to be committed, and the leases waiting for them.
#[derive(Default)]
struct Batch<'g> {
    records: Vec<crate::store::Prepared>,
    leases: Vec<crate::lease::Lease<'g>>,
    started: Option<Instant>,
}

/// How a node's upstream ended, when not all succeeded: blocked wins over skipped.
const UPSTREAM_OK: u8 = 0;
const UPSTREAM_SKIPPED: u8 = 1;
const UPSTREAM_FAILED: u8 = 2;

/// The shared state of one run of one graph.
pub(crate) struct Execution<'g> {
    pub(crate) graph: &'g Graph,
    pub(crate) store: &'g Store,
    pub(crate) settings: &'g Settings,
    /// Stations to run whatever the store says, by node index.
    pub(crate) forced: Vec<bool>,
    /// `dependents[offsets[n]..offsets[n + 1]]` are the stations reading node `n`.
    offsets: Vec<u32>,
    dependents: Vec<u32>,
    /// Station inputs not yet finished, per node.
    pending: Vec<AtomicU32>,
    upstream: Vec<AtomicU8>,
    /// Each station's name in the store (directory, head, lease).
    pub(crate) paths: Vec<Box<str>>,
    values: Vec<OnceLock<Shared>>,
    contents: Vec<OnceLock<Content>>,
    /// The record a cached node's value can be decoded from, when it is needed.
    records: Vec<OnceLock<Record>>,
    outcomes: Vec<OnceLock<Outcome>>,
    pub(crate) stats: StatCache,
    warnings: Mutex<Vec<String>>,
    /// The last observation of each failed node, to add its impact when the run is over.
    observations: Mutex<HashMap<String, crate::defect::ObservationId>>,
    batch: Mutex<Batch<'g>>,
    /// Stations whose records failed to commit, with the error: failures of the run.
    unrecorded: Mutex<Vec<(String, String)>>,
    /// Every key this run looked up or recorded: what `gc` keeps for the last runs.
    pub(crate) used: Mutex<Vec<Digest>>,
    /// The profile's records by key, read in one query (large graphs only).
    index: OnceLock<HashMap<Digest, Result<Record, String>>>,
    /// The profile's heads by node, read in one query (large graphs only).
    heads: OnceLock<HashMap<String, Head>>,
    /// Routes what stations log through `tracing` into their own logs.
    capture: tracing::Dispatch,
    stop: Arc<AtomicBool>,
    #[cfg(feature = "remote")]
    remote: Option<remote::Remote>,
}

pub(crate) struct Outcome {
    status: Status,
    /// When the station's function was first called, and on which worker.
    started: Option<(std::time::SystemTime, usize)>,
    duration: Duration,
    reason: Option<String>,
    error: Option<String>,
    kept_dir: Option<PathBuf>,
}

impl Outcome {
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

    fn failed(duration: Duration, reason: Option<String>, error: String) -> Outcome {
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

/// Why an attempt failed.
struct Failure {
    /// The error and its causes, joined by ": ".
    message: String,
    /// The error and its causes, outermost first.
    chain: Vec<String>,
    panic: Option<String>,
    /// The last lines the station logged.
    log: Vec<String>,
    /// Worth another attempt under the station's retry policy.
    transient: bool,
}

impl Failure {
    fn of(error: &BoxError) -> Failure {
        Failure {
            message: chain(&**error),
            chain: crate::error::chain_parts(&**error),
            panic: None,
            log: Vec::new(),
            transient: Transient::marks(&**error),
        }
    }

    fn fatal(message: String) -> Failure {
        Failure {
            chain: vec![message.clone()],
            message,
            panic: None,
            log: Vec::new(),
            transient: false,
        }
    }

    fn panicked(message: String) -> Failure {
        Failure {
            panic: Some(message.clone()),
            ..Failure::fatal(format!("panicked: {message}"))
        }
    }

    fn with_log(mut self, ctx: &Ctx) -> Failure {
        self.log = ctx.log_tail();
        self
    }
}

/// One station call: what to call, where, and how to get its inputs.
struct Call<'a> {
    station: &'a Arc<dyn ErasedStation>,
    /// The node's name in the store.
    path: &'a str,
    label: Option<&'a str>,
    codec: &'a crate::graph::Codec,
    args: &'a dyn Fn() -> Result<Vec<Arg>, Error>,
    input_values: &'a dyn Fn() -> Vec<Option<String>>,
    /// The nodes whose content it reads, to notice files changed while it ran.
    read: &'a [u32],
}

/// One input of a call, owned or shared, so an attempt can run on a thread of its own.
enum Arg {
    Shared(Shared),
    Owned(Box<dyn Any + Send + Sync>),
}

impl Arg {
    fn get(&self) -> &(dyn Any + Send + Sync) {
        match self {
            Arg::Shared(value) => &**value,
            Arg::Owned(value) => &**value,
        }
    }
}

/// A usable record and the files its output names, as seen now.
struct Found {
    record: Record,
    files: Vec<(PathBuf, Seen)>,
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// A record exists and everything it names is present and intact.
    Hit,
    /// A record exists but cannot be used, for this reason.
    Stale(String),
    Miss,
}

impl<'g> Execution<'g> {
    pub(crate) fn new(
        graph: &'g Graph,
        store: &'g Store,
        settings: &'g Settings,
    ) -> Result<Execution<'g>, Error> {
        let n = graph.nodes.len();
        let (offsets, dependents, pending) = wiring(graph);
        Ok(Execution {
            graph,
            store,
            settings,
            forced: Vec::new(),
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
            observations: Mutex::default(),
            capture: crate::capture::capture(),
            batch: Mutex::default(),
            unrecorded: Mutex::default(),
            used: Mutex::default(),
            index: OnceLock::new(),
            heads: OnceLock::new(),
            stop: Arc::default(),
            #[cfg(feature = "remote")]
            remote: settings
                .remote
                .clone()
                .map(|cache| remote::Remote::new(cache, n)),
        })
    }

    pub(crate) fn start<'scope>(&'scope self, scope: &rayon::Scope<'scope>) {
        // Find every ready station before starting any: once one runs, it may bring others'
        // counts to zero, and those are started by whoever finished their last input.
        let ready: Vec<u32> = (0..self.graph.nodes.len() as u32)
            .filter(|&id| {
                is_station(self.graph, id) && self.pending[id as usize].load(Ordering::Relaxed) == 0
            })
            .collect();
        #[cfg(feature = "remote")]
        self.prefetch(&ready);
        for id in ready {
            scope.spawn(move |scope| self.visit(scope, id));
        }
    }

    fn visit<'scope>(&'scope self, scope: &rayon::Scope<'scope>, id: u32) {
        let mut outcome = self.decide(id);
        if let Some(listener) = &self.settings.listener {
            let (node, name) = (&self.paths[id as usize], self.station_name(id));
            listener(&crate::progress::Event::Finished {
                node,
                name,
                status: outcome.status,
                duration: outcome.duration,
            });
        }
        if outcome.started.is_none() && outcome.status == Status::Failed {
            outcome.started = Some((
                std::time::SystemTime::now() - outcome.duration,
                rayon::current_thread_index().unwrap_or(0),
            ));
        }
        let upstream = match outcome.status {
            Status::Ran | Status::Cached => UPSTREAM_OK,
            Status::Skipped => UPSTREAM_SKIPPED,
            _ => UPSTREAM_FAILED,
        };
        if outcome.status == Status::Failed && !self.settings.keep_going {
            self.stop.store(true, Ordering::Release);
        }
        let _ = self.outcomes[id as usize].set(outcome);
        // The dependents this node was the last input of, as the counts come down.
        let ready = self.dependents_of(id).iter().copied().filter(|&dependent| {
            if upstream != UPSTREAM_OK {
                self.upstream[dependent as usize].fetch_max(upstream, Ordering::AcqRel);
            }
            self.pending[dependent as usize].fetch_sub(1, Ordering::AcqRel) == 1
        });
        #[cfg(feature = "remote")]
        if self.remote.is_some() && upstream == UPSTREAM_OK {
            // Their remote lookups all start now, rather than one per worker at a time.
            let ready: Vec<u32> = ready.collect();
            self.prefetch(&ready);
            for dependent in ready {
                scope.spawn(move |scope| self.visit(scope, dependent));
            }
            return;
        }
        for dependent in ready {
            scope.spawn(move |scope| self.visit(scope, dependent));
        }
    }

    fn station_name(&self, id: u32) -> &'static str {
        match &self.graph.nodes[id as usize].kind {
            Kind::Station { station, .. } => station.name(),
            Kind::Input(_) => "input",
        }
    }

    pub(crate) fn dependents_of(&self, id: u32) -> &[u32] {
        &self.dependents[self.offsets[id as usize] as usize..self.offsets[id as usize + 1] as usize]
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
        let head = match self.head(id, station.as_ref(), inputs) {
            Ok(head) => head,
            Err(error) => return Outcome::failed(Duration::ZERO, None, chain(&error)),
        };
        self.used(head.key);
        let forced = self.forced.get(id as usize).copied().unwrap_or(false);
        // A record becomes the node's result only once it is used: a station that runs again
        // (forced, or its check failed) must give its dependents its new output, not this one.
        let mut reason = if forced {
            Some("forced".to_owned())
        } else {
            match self.find(&self.paths[id as usize], &head.key, false) {
                (Lookup::Hit, Some(found)) => {
                    match self.still_holds(station.as_ref(), inputs, id, &found.record) {
                        Ok(true) => {
                            self.adopt(id, found);
                            return Outcome::not_run(Status::Cached);
                        }
                        Ok(false) => Some("check failed: drift".to_owned()),
                        Err(failure) => {
                            return Outcome::failed(Duration::ZERO, None, failure.message);
                        }
                    }
                }
                (Lookup::Stale(reason), _) => Some(reason),
                (Lookup::Hit | Lookup::Miss, _) => None,
            }
        };
        // Another process may be computing this node: wait for it, then look again.
        let lease =
            match self
                .store
                .lease(&self.settings.profile, &self.paths[id as usize], &|| {
                    self.flush()
                }) {
                Ok(lease) => lease,
                Err(error) => return Outcome::failed(Duration::ZERO, None, chain(&error)),
            };
        if reason.is_none() && matches!(self.lookup_in(id, &head.key, true), Lookup::Hit) {
            return Outcome::not_run(Status::Cached);
        }
        #[cfg(feature = "remote")]
        if !forced
            && let Some(outcome) = self.fetch_remote(id, station.as_ref(), inputs, head.clone())
        {
            self.release(lease);
            return outcome;
        }
        let reason = reason
            .take()
            .unwrap_or_else(|| self.reason(id, station.as_ref(), &head));
        let outcome = match &self.graph.nodes[id as usize].map {
            Some(map) => self.execute_map(id, station, inputs, map, head, reason),
            None => self.execute(id, station, inputs, head, reason),
        };
        self.release(lease);
        outcome
    }

    pub(crate) fn used(&self, key: Digest) {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
    }

    /// Lets go of a node's lease once its record is durable: at once if nothing is waiting
    /// to be committed, else with the batch it is in.
    fn release(&self, lease: crate::lease::Lease<'g>) {
        let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        if !batch.records.is_empty() {
            batch.leases.push(lease);
        }
    }

    /// Commits the records waiting in the batch, in one transaction, then releases the leases
    /// that waited for them.
    pub(crate) fn flush(&self) {
        let batch = std::mem::take(&mut *self.batch.lock().unwrap_or_else(|e| e.into_inner()));
        if let Err(error) = self.store.commit_all(&batch.records) {
            // Their stations ran but nothing remembers it: they are failures of this run,
            // and it stops. Their outputs were never named by a record, so nothing is wrong.
            let message = format!("its result could not be recorded: {}", chain(&error));
            let mut unrecorded = self.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
            unrecorded.extend(
                batch
                    .records
                    .iter()
                    .map(|r| (r.node().to_owned(), message.clone())),
            );
            self.stop.store(true, Ordering::Release);
        }
        drop(batch.leases);
    }

    /// The station's key and what it is made of.
    pub(crate) fn head(
        &self,
        id: u32,
        station: &dyn ErasedStation,
        inputs: &[Edge],
    ) -> Result<Head, Error> {
        let input_hashes = self.input_hashes(inputs)?;
        let codec = &self.graph.nodes[id as usize].codec;
        let fingerprint = station.fingerprint();
        let key = memo::key(
            station.id(),
            &fingerprint,
            (codec.type_name)(),
            &input_hashes,
        );
        Ok(Head {
            key,
            fingerprint,
            inputs: input_hashes,
            values: Vec::new(),
        })
    }

    /// Why a station with no usable record runs, compared with its last head.
    pub(crate) fn reason(&self, id: u32, station: &dyn ErasedStation, head: &Head) -> String {
        let before = self.last_head(&self.paths[id as usize]);
        let Kind::Station { inputs, .. } = &self.graph.nodes[id as usize].kind else {
            return String::new();
        };
        // A map's first input is its list, not one item.
        let mut names = station.input_names().to_vec();
        if self.graph.nodes[id as usize].map.is_some() && !names.is_empty() {
            names[0] = "list";
        }
        memo::reason(before.as_ref(), head, &names, |index| {
            let sources = inputs.get(index)?.sources();
            match sources {
                [source] => self
                    .value(*source)
                    .ok()
                    .and_then(|value| (self.graph.nodes[*source as usize].codec.to_json)(value)),
                _ => None,
            }
        })
    }

    /// For a station with a check, whether the remembered result still holds in the world:
    /// the check is asked about the record's output, decoded here.
    fn still_holds(
        &self,
        station: &dyn ErasedStation,
        inputs: &[Edge],
        id: u32,
        record: &Record,
    ) -> Result<bool, Failure> {
        if !station.has_check() {
            return Ok(true);
        }
        let args = self
            .args(inputs)
            .map_err(|error| Failure::fatal(chain(&error)))?;
        let bytes = self.store.load(record).map_err(Failure::fatal)?;
        let output = (self.graph.nodes[id as usize].codec.decode)(&bytes).map_err(|error| {
            // The bytes are intact, so the type changed without the station's code changing.
            let _ = self.store.forget(&self.settings.profile, &record.key);
            Failure::fatal(format!(
                "its stored output no longer decodes ({}); its record was removed, so the next \
                 run computes it again. When a station's output type changes, bump its `version`",
                chain(&error)
            ))
        })?;
        self.ask_check(station, &args, &*output)
    }

    fn ask_check(
        &self,
        station: &dyn ErasedStation,
        args: &[Arg],
        output: &(dyn Any + Send + Sync),
    ) -> Result<bool, Failure> {
        let refs: Vec<&(dyn Any + Send + Sync)> = args.iter().map(Arg::get).collect();
        match catch_unwind(AssertUnwindSafe(|| station.check(&refs, output))) {
            Ok(Ok(holds)) => Ok(holds),
            Ok(Err(error)) => Err(Failure::fatal(format!(
                "its check failed: {}",
                chain(&*error)
            ))),
            Err(panic) => Err(Failure::panicked(format!(
                "in its check: {}",
                panic_message(&*panic)
            ))),
        }
    }

    /// Runs a graph station and keeps its value and content for the stations after it.
    fn execute(
        &self,
        id: u32,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        head: Head,
        reason: String,
    ) -> Outcome {
        let node = &self.graph.nodes[id as usize];
        let sources: Vec<u32> = inputs.iter().flat_map(Edge::sources).copied().collect();
        let call = Call {
            station,
            path: &self.paths[id as usize],
            label: node.label.as_deref(),
            codec: &node.codec,
            args: &|| self.args(inputs),
            input_values: &|| self.input_values(inputs),
            read: &sources,
        };
        let (done, outcome) = self.call_and_record(call, head, reason);
        if let Some((value, content)) = done {
            let _ = self.values[id as usize].set(value);
            #[cfg(feature = "remote")]
            if !outcome
                .reason
                .as_deref()
                .is_some_and(|reason| reason.contains(NOT_RECORDED))
            {
                self.share_remote(id, station.as_ref(), inputs, &content);
            }
            let _ = self.contents[id as usize].set(content);
        }
        outcome
    }

    /// Runs a station (retrying transient failures), checks the result, records it. Returns
    /// the value and its content when it ran, and the outcome either way.
    fn call_and_record(
        &self,
        call: Call<'_>,
        mut head: Head,
        mut reason: String,
    ) -> (Option<(Shared, Content)>, Outcome) {
        let (path, station) = (call.path, call.station);
        let policy = station.policy();
        if let Some(listener) = &self.settings.listener {
            listener(&crate::progress::Event::Running {
                node: path,
                name: station.name(),
            });
        }
        let started_at = (
            std::time::SystemTime::now(),
            rayon::current_thread_index().unwrap_or(0),
        );
        let started = Instant::now();
        let mut kept_dir = None;
        let mut attempt = 0;
        let value = loop {
            let attempt_started = Instant::now();
            match self.attempt(&call, &policy) {
                Ok(value) => break value,
                Err(failure) => {
                    kept_dir = self.keep_failed_dir(path, attempt);
                    self.observe(
                        &call,
                        &head,
                        &failure,
                        attempt_started.elapsed(),
                        kept_dir.as_deref(),
                    );
                    if failure.transient && attempt < policy.retries {
                        std::thread::sleep(policy.backoff.saturating_mul(1 << attempt.min(16)));
                        attempt += 1;
                        continue;
                    }
                    let mut outcome =
                        Outcome::failed(started.elapsed(), Some(reason), failure.message);
                    outcome.kept_dir = kept_dir;
                    outcome.started = Some(started_at);
                    return (None, outcome);
                }
            }
        };
        let duration = started.elapsed();
        if attempt > 0 {
            reason.push_str(&format!(" (succeeded on attempt {})", attempt + 1));
        }
        let failed = |message: String| (None, Outcome::failed(duration, None, message));
        let (encoded, paths) = match (call.codec.encode)(&*value) {
            Ok(encoded) => encoded,
            Err(error) => return failed(format!("its output cannot be stored: {}", chain(&error))),
        };
        let content = match self.hash_files(paths) {
            Ok(files) => memo::content(&encoded, files),
            Err(error) => return failed(chain(&error)),
        };
        let read = call
            .read
            .iter()
            .filter_map(|source| self.contents[*source as usize].get());
        if let Some(changed) = memo::changed_during_run(read.flat_map(|content| &content.files)) {
            reason.push_str(&format!(
                "{NOT_RECORDED}{} changed while the station ran",
                changed.display()
            ));
        } else {
            head.values = (call.input_values)();
            if let Err(error) = self.record(
                call.station.id(),
                call.path,
                &head,
                &content,
                &encoded,
                duration,
            ) {
                // A result that cannot be stored would have to be computed again by every
                // later run: the station fails, and the run stops (a full disk stays full).
                let message = format!("its result could not be stored: {}", chain(&error));
                let failure = Failure::fatal(message.clone());
                self.observe(&call, &head, &failure, duration, None);
                return (None, Outcome::failed(duration, Some(reason), message));
            }
        }
        let outcome = Outcome {
            status: Status::Ran,
            started: Some(started_at),
            duration,
            reason: Some(reason),
            error: None,
            kept_dir,
        };
        (Some((value, content)), outcome)
    }

    /// Writes a failed attempt into the defect ledger, at once: it survives a kill after it.
    fn observe(
        &self,
        call: &Call<'_>,
        head: &Head,
        failure: &Failure,
        duration: Duration,
        kept_dir: Option<&std::path::Path>,
    ) {
        let names = call.station.input_names();
        let name = |i: usize| {
            names
                .get(i)
                .map_or_else(|| format!("#{}", i + 1), |name| (*name).to_owned())
        };
        let now = crate::stat::now_ns();
        let observation = crate::defect::NewObservation {
            station_id: call.station.id().to_owned(),
            station_name: call.station.name().to_owned(),
            node: call.path.to_owned(),
            profile: self.settings.profile.clone(),
            instance: self.settings.instance.clone(),
            run_id: self.settings.run_id,
            started_ns: now - duration.as_nanos() as i64,
            finished_ns: now,
            duration,
            message: failure.message.clone(),
            chain: failure.chain.clone(),
            panic: failure.panic.clone(),
            log_tail: failure.log.clone(),
            inputs: head
                .inputs
                .iter()
                .enumerate()
                .map(|(i, digest)| (name(i), *digest))
                .collect(),
            input_values: (call.input_values)()
                .into_iter()
                .enumerate()
                .filter_map(|(i, value)| Some((name(i), value?)))
                .collect(),
            kept_dir: kept_dir.map(std::path::Path::to_path_buf),
            blocked: 0,
        };
        match self.store.observe(&observation) {
            Ok(id) => {
                self.observations
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(call.path.to_owned(), id);
            }
            Err(error) => self.warn(format!(
                "the failure of `{}` was not recorded in the ledger: {}",
                call.path,
                chain(&error)
            )),
        }
    }

    /// Stores a finished station's output and queues its record for the next commit.
    fn record(
        &self,
        station: &str,
        path: &str,
        head: &Head,
        content: &Content,
        encoded: &[u8],
        duration: Duration,
    ) -> Result<(), Error> {
        let files: Vec<(PathBuf, Digest)> = content
            .files
            .iter()
            .map(|(p, seen)| (p.clone(), seen.digest))
            .collect();
        let commit = crate::store::Commit {
            profile: &self.settings.profile,
            station,
            node: path,
            head,
            output_hash: &content.digest,
            encoded,
            files: &files,
            used_dir: self.store.work_dir(&self.settings.profile, path).exists(),
            duration_ns: duration.as_nanos() as i64,
        };
        let prepared = self.store.prepare(&commit)?;
        let full = {
            let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
            if batch.records.is_empty() {
                batch.started = Some(Instant::now());
            }
            batch.records.push(prepared);
            batch.records.len() >= BATCH_RECORDS
                || batch.started.is_some_and(|at| at.elapsed() >= BATCH_TIME)
        };
        if full {
            self.flush();
        }
        Ok(())
    }

    /// One call of the station's function, then its check: the visit must leave the world in
    /// the state its check asks for.
    fn attempt(&self, call: &Call<'_>, policy: &Policy) -> Result<Shared, Failure> {
        let args = (call.args)().map_err(|error| Failure::fatal(chain(&error)))?;
        let ctx = Arc::new(self.ctx(call));
        let (value, args) = match policy.timeout {
            None => (run(call.station.as_ref(), &ctx, &args)?, args),
            Some(limit) => run_with_timeout(call.station.clone(), ctx.clone(), args, limit)?,
        };
        if call.station.has_check() && !self.ask_check(call.station.as_ref(), &args, &*value)? {
            return Err(Failure::fatal(format!(
                "work required after visit: `{}` ran, but its check still says the work is not done; \
                 the station or its check is wrong",
                call.path
            ))
            .with_log(&ctx));
        }
        Ok(value)
    }

    fn ctx(&self, call: &Call<'_>) -> Ctx {
        Ctx {
            id: call.station.id(),
            out_dir: self.store.work_dir(&self.settings.profile, call.path),
            label: call.label.map(Box::from),
            stopping: self.stop.clone(),
            cancelled: Arc::default(),
            log: Arc::default(),
            capture: self.capture.clone(),
            node: call.path.into(),
            listener: self.settings.listener.clone(),
        }
    }

    /// Moves a failed attempt's directory aside, as it was at the failure, so the next
    /// attempt starts from a fresh one and the failing environment can be investigated.
    fn keep_failed_dir(&self, path: &str, attempt: u32) -> Option<PathBuf> {
        let dir = self.store.work_dir(&self.settings.profile, path);
        if !dir.exists() {
            return None;
        }
        let kept =
            self.store
                .failed_dir(&self.settings.profile, path, self.settings.run_id, attempt);
        let moved = kept
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::rename(&dir, &kept));
        match moved {
            Ok(()) => Some(kept),
            Err(error) => {
                self.warn(format!(
                    "the failing directory {} could not be kept: {error}",
                    dir.display()
                ));
                Some(dir)
            }
        }
    }

    /// Looks a key up and checks that what it names is all there and intact.
    pub(crate) fn lookup(&self, id: u32, key: &Digest) -> Lookup {
        self.lookup_in(id, key, false)
    }

    /// `lookup` asking the database itself, not the index read at the start: after waiting
    /// for another process, which may have just recorded the node.
    fn lookup_in(&self, id: u32, key: &Digest, fresh: bool) -> Lookup {
        let (lookup, found) = self.find(&self.paths[id as usize], key, fresh);
        if let Some(found) = found {
            self.adopt(id, found);
        }
        lookup
    }

    /// Makes a found record the node's result: its content for its dependents' keys, its
    /// record for its value.
    fn adopt(&self, id: u32, Found { record, files }: Found) {
        let _ = self.contents[id as usize].set(Content {
            digest: record.output_hash,
            files,
        });
        let _ = self.records[id as usize].set(record);
    }

    /// Checks a record's stored output without reading it again when it is a blob file the
    /// stat cache already knows unchanged: a blob's name is its hash, so the digest its file
    /// must have follows from the record. Inline outputs are hashed (they are in memory).
    fn verify(&self, record: &Record) -> Result<(), String> {
        if record.inline.is_some() {
            return self.store.verify(record);
        }
        let path = self.store.blob_path(&record.encoding_hash);
        match self.stats.hash(&path) {
            Ok(seen) if seen.state.is_some_and(|s| s.size == record.size) => {
                if seen.digest == crate::stat::file_digest(&record.encoding_hash) {
                    Ok(())
                } else {
                    Err(format!(
                        "stored output {} does not match its hash",
                        record.encoding_hash
                    ))
                }
            }
            Ok(_) => Err(format!(
                "blob {} is missing or of the wrong size",
                path.display()
            )),
            Err(error) => Err(format!("cannot read blob {}: {error}", path.display())),
        }
    }

    /// The record of `key`: from the profile's index read at once for a large graph, from one
    /// query otherwise.
    fn stored(&self, key: &Digest) -> Result<Option<Result<Record, String>>, Error> {
        if self.graph.nodes.len() < INDEX_FROM {
            return self.store.record(&self.settings.profile, key);
        }
        let index = match self.index.get() {
            Some(index) => index,
            None => {
                let index = self.store.records_of(&self.settings.profile)?;
                self.index.get_or_init(|| index)
            }
        };
        Ok(index.get(key).cloned())
    }

    /// A node's head as the run found it: from one query for all of them in a large graph.
    fn last_head(&self, path: &str) -> Option<Head> {
        if self.graph.nodes.len() < INDEX_FROM {
            return self.store.head(&self.settings.profile, path).ok().flatten();
        }
        let heads = match self.heads.get() {
            Some(heads) => heads,
            None => {
                let heads = self
                    .store
                    .heads_of(&self.settings.profile)
                    .unwrap_or_default();
                self.heads.get_or_init(|| heads)
            }
        };
        heads.get(path).cloned()
    }

    /// Looks a key up for the node named `path`; on a hit, also returns the record and the
    /// files its output names, as seen now.
    fn find(&self, path: &str, key: &Digest, fresh: bool) -> (Lookup, Option<Found>) {
        let stored = if fresh {
            self.store.record(&self.settings.profile, key)
        } else {
            self.stored(key)
        };
        let record = match stored {
            Ok(None) => return (Lookup::Miss, None),
            Ok(Some(Ok(record))) => record,
            Ok(Some(Err(problem))) => {
                self.warn(format!(
                    "the record {key} of `{path}` is unreadable ({problem}); running it again"
                ));
                return (Lookup::Stale("its record was unreadable".to_owned()), None);
            }
            Err(error) => {
                self.warn(format!(
                    "cannot look up `{path}`: {}; running it again",
                    chain(&error)
                ));
                return (Lookup::Miss, None);
            }
        };
        if let Err(problem) = self.verify(&record) {
            self.warn(format!(
                "the record {key} of `{path}` is corrupt ({problem}); running it again"
            ));
            return (
                Lookup::Stale("its stored output was corrupt".to_owned()),
                None,
            );
        }
        // Each output file is looked at once: the same sight decides staleness and is kept.
        let seen: Vec<(PathBuf, Option<Seen>)> = record
            .files
            .iter()
            .map(|(file, _)| (file.clone(), self.stats.hash(file).ok()))
            .collect();
        if let Some(reason) = memo::stale_output(&record, |file| {
            seen.iter()
                .find(|(path, _)| path == file)
                .and_then(|(_, seen)| seen.clone())
        }) {
            return (Lookup::Stale(reason), None);
        }
        if record.used_dir && !self.store.work_dir(&self.settings.profile, path).exists() {
            return (Lookup::Stale("its directory was deleted".to_owned()), None);
        }
        let files = seen
            .into_iter()
            .filter_map(|(path, seen)| Some((path, seen?)))
            .collect();
        (Lookup::Hit, Some(Found { record, files }))
    }

    /// The content hash of every input of a station, in order.
    pub(crate) fn input_hashes(&self, inputs: &[Edge]) -> Result<Vec<Digest>, Error> {
        edge_digests(inputs, |source| self.content(source))
    }

    /// The small inputs' values as JSON, kept with the head to name a changed field later.
    fn input_values(&self, inputs: &[Edge]) -> Vec<Option<String>> {
        inputs
            .iter()
            .map(|edge| match edge.sources() {
                [source] => {
                    let value = self.value(*source).ok()?;
                    let json =
                        (self.graph.nodes[*source as usize].codec.to_json)(value)?.to_string();
                    (json.len() <= memo::SMALL_VALUE).then_some(json)
                }
                _ => None,
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

    /// The inputs of a call: upstream values shared, fan-in `Vec`s collected.
    fn args(&self, inputs: &[Edge]) -> Result<Vec<Arg>, Error> {
        inputs
            .iter()
            .map(|edge| match edge {
                Edge::One(source) => self.shared(*source).map(Arg::Shared),
                Edge::Many(sources, collect) => {
                    let values: Vec<&(dyn Any + Send + Sync)> = sources
                        .iter()
                        .map(|source| self.value(*source))
                        .collect::<Result<_, _>>()?;
                    collect(&values).map(Arg::Owned)
                }
            })
            .collect()
    }

    fn value(&self, id: u32) -> Result<&(dyn Any + Send + Sync), Error> {
        self.shared_ref(id).map(|value| &**value)
    }

    fn shared(&self, id: u32) -> Result<Shared, Error> {
        self.shared_ref(id).cloned()
    }

    /// A node's value, decoded from the store the first time a cached node's value is needed.
    fn shared_ref(&self, id: u32) -> Result<&Shared, Error> {
        if let Some(value) = self.values[id as usize].get() {
            return Ok(value);
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
            let _ = self.store.forget(&self.settings.profile, &record.key);
            Error::usage(format!(
                "the stored output of `{path}` no longer decodes ({}); its record was removed, so the next run \
                 computes it again. When a station's output type changes, bump its `version`",
                chain(&error)
            ))
        })?;
        Ok(self.values[id as usize].get_or_init(|| value))
    }

    /// Makes a record the source of a node's value (cleaning decodes values from heads).
    pub(crate) fn remember(&self, id: u32, record: Record) {
        let _ = self.records[id as usize].set(record);
    }

    /// A node's value as JSON, if it can be had.
    pub(crate) fn output_json(&self, id: u32) -> Option<serde_json::Value> {
        let value = self.value(id).ok()?;
        (self.graph.nodes[id as usize].codec.to_json)(value)
    }

    /// Calls a station's clean function with the inputs and output of its last run.
    pub(crate) fn clean_station(&self, id: u32) -> Result<(), String> {
        let Kind::Station { station, inputs } = &self.graph.nodes[id as usize].kind else {
            return Ok(());
        };
        let args = self.args(inputs).map_err(|error| chain(&error))?;
        let output = self.value(id).map_err(|error| chain(&error))?;
        let refs: Vec<&(dyn Any + Send + Sync)> = args.iter().map(Arg::get).collect();
        match catch_unwind(AssertUnwindSafe(|| station.clean(&refs, output))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(chain(&*error)),
            Err(panic) => Err(format!("panicked: {}", panic_message(&*panic))),
        }
    }

    pub(crate) fn take_value(&mut self, id: u32) -> Result<Shared, Error> {
        self.shared_ref(id)?;
        self.values[id as usize]
            .take()
            .ok_or_else(|| Error::internal(format!("the output node {id} produced no value")))
    }

    pub(crate) fn warn(&self, warning: String) {
        eprintln!("choochoo: warning: {warning}");
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }

    /// For each failed station: how many stations its failure blocked (now that the run is
    /// over), and the defect it belongs to, for the end-of-run summary.
    fn attach_defects(&self, entries: &mut [Entry]) {
        let observations =
            std::mem::take(&mut *self.observations.lock().unwrap_or_else(|e| e.into_inner()));
        if observations.is_empty() {
            return;
        }
        let blocked: std::collections::HashSet<&str> = entries
            .iter()
            .filter(|e| e.status == Status::Blocked)
            .map(|e| &*e.node)
            .collect();
        let index: HashMap<&str, u32> = self
            .paths
            .iter()
            .enumerate()
            .map(|(id, path)| (&**path, id as u32))
            .collect();
        let mut found = Vec::new();
        for (node, observation) in &observations {
            let downstream = index
                .get(node.as_str())
                .map_or(0, |id| self.blocked_below(*id, &blocked));
            if let Err(error) = self.store.set_blocked(*observation, downstream) {
                self.warn(format!(
                    "the impact of `{node}`'s failure was not recorded: {}",
                    chain(&error)
                ));
            }
            if let Ok(Some(defect)) = self.store.observed_defect(*observation) {
                found.push((node.clone(), defect));
            }
        }
        for (node, defect) in found {
            if let Some(entry) = entries.iter_mut().find(|e| *e.node == *node) {
                entry.defect = Some(Box::new(defect));
            }
        }
    }

    /// How many stations downstream of `id` were blocked.
    fn blocked_below(&self, id: u32, blocked: &std::collections::HashSet<&str>) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut stack = self.dependents_of(id).to_vec();
        while let Some(next) = stack.pop() {
            if seen.insert(next) && blocked.contains(&*self.paths[next as usize]) {
                stack.extend_from_slice(self.dependents_of(next));
            }
        }
        seen.iter()
            .filter(|id| blocked.contains(&*self.paths[**id as usize]))
            .count()
    }

    pub(crate) fn report(&mut self) -> Report {
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
                    id: station.id().into(),
                    name: station.name().into(),
                    label: node.label.clone(),
                    status: outcome.status,
                    duration: outcome.duration,
                    reason: outcome.reason,
                    error: outcome.error,
                    kept_dir: outcome.kept_dir,
                    started: outcome.started,
                    defect: None,
                })
            })
            .collect();
        let mut entries: Vec<Entry> = entries;
        let unrecorded: HashMap<String, String> =
            std::mem::take(&mut *self.unrecorded.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        for entry in &mut entries {
            if let Some(message) = unrecorded.get(&*entry.node) {
                entry.status = Status::Failed;
                entry.error = Some(message.clone());
            }
        }
        self.attach_defects(&mut entries);
        #[allow(unused_mut, reason = "the remote cache adds its warnings")]
        let mut warnings =
            std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()));
        #[cfg(feature = "remote")]
        warnings.extend(self.finish_remote());
        Report {
            run: self.settings.run_id,
            entries,
            warnings,
        }
    }
}

/// Calls a station's function on this thread, catching a panic.
fn run(station: &dyn ErasedStation, ctx: &Ctx, args: &[Arg]) -> Result<Shared, Failure> {
    let refs: Vec<&(dyn Any + Send + Sync)> = args.iter().map(Arg::get).collect();
    let call = || {
        crate::capture::with_capture(&ctx.capture, &ctx.log, crate::station::LOG_TAIL, || {
            station.run(ctx, &refs)
        })
    };
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Failure::of(&error).with_log(ctx)),
        Err(panic) => Err(Failure::panicked(panic_message(&*panic)).with_log(ctx)),
    }
}

/// Calls a station's function on a thread of its own and waits at most `limit`. A call that
/// takes longer is a failure, and a transient one; it is told to stop (`Ctx::is_stopping`)
/// and its result, if it ever comes, is dropped: a thread cannot be killed, but the run does
/// not wait for it.
fn run_with_timeout(
    station: Arc<dyn ErasedStation>,
    ctx: Arc<Ctx>,
    args: Vec<Arg>,
    limit: Duration,
) -> Result<(Shared, Vec<Arg>), Failure> {
    let (send, receive) = std::sync::mpsc::channel();
    let worker_ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("choochoo-{}", ctx.id))
        .spawn(move || {
            let result = run(station.as_ref(), &worker_ctx, &args);
            let _ = send.send((result, args));
        });
    if let Err(error) = spawned {
        return Err(Failure::fatal(format!(
            "cannot start a thread for it: {error}"
        )));
    }
    match receive.recv_timeout(limit) {
        Ok((result, args)) => result.map(|value| (value, args)),
        Err(_) => {
            ctx.cancelled.store(true, Ordering::Release);
            let failure = Failure::fatal(format!("timed out after {limit:?}")).with_log(&ctx);
            Err(Failure {
                transient: true,
                ..failure
            })
        }
    }
}

/// One digest per input edge: `digest` of its source, or of each source of a fan-in,
/// combined in order.
fn edge_digests(
    inputs: &[Edge],
    digest: impl Fn(u32) -> Result<Digest, Error>,
) -> Result<Vec<Digest>, Error> {
    inputs
        .iter()
        .map(|edge| match edge {
            Edge::One(source) => digest(*source),
            Edge::Many(sources, _) => sources
                .iter()
                .map(|source| digest(*source))
                .collect::<Result<Vec<_>, _>>()
                .map(memo::many),
        })
        .collect()
}

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
pub(crate) fn node_paths(graph: &Graph) -> Result<Vec<Box<str>>, Error> {
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
