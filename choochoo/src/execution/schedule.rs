//! Scheduling: every node keeps a count of its station inputs not yet finished; a station
//! starts on the runner's pool when its count comes down to zero, started by whoever
//! finished its last input. How an input ended travels down with the count, so a station
//! after a failure is blocked and one after a skip is skipped.

use super::{Execution, Outcome};
use crate::graph::edge::Edge;
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use crate::report::Status;
use std::sync::atomic::{AtomicU32, Ordering};

/// How a node's upstream ended, when not all succeeded: blocked wins over skipped.
pub(super) const UPSTREAM_OK: u8 = 0;
const UPSTREAM_SKIPPED: u8 = 1;
const UPSTREAM_FAILED: u8 = 2;

impl Execution<'_> {
    /// Starts the stations `ready` (as [`ready`](Execution::ready) or
    /// [`settle_cached`](Execution::settle_cached) found them) on the pool.
    pub(crate) fn start<'scope>(&'scope self, scope: &rayon::Scope<'scope>, ready: Vec<NodeId>) {
        #[cfg(feature = "remote")]
        self.prefetch(&ready);
        self.spawn(scope, ready);
    }

    /// Every station ready at the start. All are found before any starts: once one runs, it
    /// may bring others' counts to zero, and those are started by whoever finished their
    /// last input.
    pub(super) fn ready(&self) -> Vec<NodeId> {
        self.graph
            .ids()
            .filter(|&id| {
                is_station(self.graph, id)
                    && !self.is_outside(id)
                    && self.pending[id.index()].load(Ordering::Relaxed) == 0
            })
            .collect()
    }

    /// Starts each of `ready` whose resources' units are free; the others wait in the gate
    /// for a station that gives units back.
    fn spawn<'scope>(
        &'scope self,
        scope: &rayon::Scope<'scope>,
        ready: impl IntoIterator<Item = NodeId>,
    ) {
        for id in ready {
            if self.gate.admit(id) {
                scope.spawn(move |scope| self.visit(scope, id));
            }
        }
    }

    fn visit<'scope>(&'scope self, scope: &rayon::Scope<'scope>, id: NodeId) {
        let outcome = self.decide(id);
        // The waiting stations its units were given to start now, before its dependents.
        for admitted in self.gate.release(id) {
            scope.spawn(move |scope| self.visit(scope, admitted));
        }
        let upstream = self.settle(id, outcome);
        let ready = self.released(id, upstream);
        #[cfg(feature = "remote")]
        if self.remote.is_some() && upstream == UPSTREAM_OK {
            // Their remote lookups all start now, rather than one per worker at a time.
            let ready: Vec<NodeId> = ready.collect();
            self.prefetch(&ready);
            self.spawn(scope, ready);
            self.flush_if_due();
            return;
        }
        self.spawn(scope, ready);
        self.flush_if_due();
    }

    /// The dependents node `id` was the last input of, as their counts come down with how
    /// it ended (`upstream`).
    pub(super) fn released(&self, id: NodeId, upstream: u8) -> impl Iterator<Item = NodeId> {
        self.dependents_of(id)
            .iter()
            .copied()
            .filter(move |&dependent| {
                if upstream != UPSTREAM_OK {
                    self.upstream[dependent.index()].fetch_max(upstream, Ordering::AcqRel);
                }
                self.pending[dependent.index()].fetch_sub(1, Ordering::AcqRel) == 1
                    && !self.is_outside(dependent)
            })
    }

    /// Announces and keeps a node's outcome; returns how it ended, for its dependents.
    pub(super) fn settle(&self, id: NodeId, mut outcome: Outcome) -> u8 {
        if let Some(listener) = &self.settings.listener {
            let (node, name) = (&self.paths[id.index()], self.station_name(id));
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
        let _ = self.outcomes[id.index()].set(super::Settled::of(outcome));
        upstream
    }

    /// The outcome of a station not to be decided at all: blocked after a failure upstream,
    /// skipped after a skip upstream or once the run is stopping.
    pub(super) fn not_reached(&self, id: NodeId) -> Option<Outcome> {
        match self.upstream[id.index()].load(Ordering::Acquire) {
            UPSTREAM_FAILED => return Some(Outcome::not_run(Status::Blocked)),
            UPSTREAM_SKIPPED => return Some(Outcome::not_run(Status::Skipped)),
            _ => {}
        }
        // Ctrl-C during a watch: what runs finishes, nothing else starts.
        if self.stop.load(Ordering::Acquire) || crate::child::interrupted() {
            return Some(Outcome::not_run(Status::Skipped));
        }
        None
    }

    fn station_name(&self, id: NodeId) -> &'static str {
        match &self.graph.node(id).kind {
            Kind::Station { station, .. } => station.name(),
            Kind::Input(_) => "input",
        }
    }

    pub(crate) fn dependents_of(&self, id: NodeId) -> &[NodeId] {
        let at = id.index();
        &self.dependents[self.offsets[at] as usize..self.offsets[at + 1] as usize]
    }
}

/// The graph turned around: for each node, the stations reading it (`dependents[offsets[n]..
/// offsets[n + 1]]`), and for each station, how many of its inputs are stations.
pub(crate) struct Wiring {
    offsets: Vec<u32>,
    dependents: Vec<NodeId>,
    pending: Vec<AtomicU32>,
}

impl Wiring {
    /// The wiring of `graph`.
    pub(crate) fn of(graph: &Graph) -> Wiring {
        let (offsets, dependents, pending) = wiring(graph);
        Wiring {
            offsets,
            dependents,
            pending,
        }
    }

    pub(super) fn into_parts(self) -> (Vec<u32>, Vec<NodeId>, Vec<AtomicU32>) {
        (self.offsets, self.dependents, self.pending)
    }
}

fn wiring(graph: &Graph) -> (Vec<u32>, Vec<NodeId>, Vec<AtomicU32>) {
    let n = graph.nodes.len();
    let mut counts = vec![0u32; n + 1];
    let mut pending = Vec::with_capacity(n);
    for node in &graph.nodes {
        let mut waiting = 0;
        if let Kind::Station { inputs, .. } = &node.kind {
            for source in inputs.iter().flat_map(Edge::sources) {
                if is_station(graph, *source) {
                    counts[source.index() + 1] += 1;
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
    let mut dependents = Vec::new();
    dependents.resize(*offsets.last().unwrap_or(&0) as usize, graph.id_at(0));
    for (id, node) in graph.ids().zip(&graph.nodes) {
        if let Kind::Station { inputs, .. } = &node.kind {
            for source in inputs.iter().flat_map(Edge::sources) {
                if is_station(graph, *source) {
                    let slot = &mut fill[source.index()];
                    dependents[*slot as usize] = id;
                    *slot += 1;
                }
            }
        }
    }
    (offsets, dependents, pending)
}

fn is_station(graph: &Graph, id: NodeId) -> bool {
    matches!(graph.node(id).kind, Kind::Station { .. })
}
