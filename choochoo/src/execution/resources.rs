//! Resource limits: a station that names a resource (`#[station(resources = ["db"])]`,
//! [`Graph::resources`](crate::Graph::resources)) holds one unit of it while it is decided
//! and run, and a runner that was given a limit ([`Runner::resource`](crate::Runner::resource))
//! lets at most that many stations hold it at once. A ready station whose units are not all
//! free is not started: it waits in the gate's queue, taking no worker, and the station that
//! gives back the last unit it needs starts it. Units are taken all at once or not at all,
//! so two stations that each want what the other holds cannot wait for each other.

use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The units of the run's limited resources, and the stations waiting for them.
#[derive(Default)]
pub(crate) struct Gate {
    /// The limited resources each station holds, by node index, as indices into `free`:
    /// only stations that hold one.
    needs: HashMap<u32, Box<[usize]>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The free units of each limited resource.
    free: Vec<usize>,
    /// Ready stations not started for want of a unit, in the order they became ready.
    waiting: VecDeque<NodeId>,
}

impl Gate {
    /// The gate of `graph` under `limits` (each resource's number of units). A resource
    /// with no limit is not held back.
    pub(crate) fn new(graph: &Graph, limits: &[(String, usize)]) -> Gate {
        if limits.is_empty() {
            return Gate::default();
        }
        let index: HashMap<&str, usize> = limits
            .iter()
            .enumerate()
            .map(|(at, (name, _))| (name.as_str(), at))
            .collect();
        let mut needs = HashMap::new();
        for (id, node) in graph.ids().zip(&graph.nodes) {
            let Kind::Station { station, .. } = &node.kind else {
                continue;
            };
            let names = station.resources().iter().copied();
            let mut held: Vec<usize> = names
                .chain(node.resources().iter().map(|name| &**name))
                .filter_map(|name| index.get(name).copied())
                .collect();
            held.sort_unstable();
            held.dedup();
            if !held.is_empty() {
                needs.insert(id.index() as u32, held.into_boxed_slice());
            }
        }
        let free = limits.iter().map(|(_, units)| *units).collect();
        Gate {
            needs,
            state: Mutex::new(State {
                free,
                waiting: VecDeque::new(),
            }),
        }
    }

    /// Whether station `id` may start now: it holds no limited resource, or it took one unit
    /// of each. Else it waits in the queue, to be handed back by [`release`](Gate::release).
    pub(crate) fn admit(&self, id: NodeId) -> bool {
        let Some(needs) = self.needs.get(&(id.index() as u32)) else {
            return true;
        };
        let mut state = self.lock();
        if state.take(needs) {
            return true;
        }
        state.waiting.push_back(id);
        false
    }

    /// Gives back the units station `id` held; the waiting stations that could now take
    /// theirs, which have taken them and are to start.
    pub(crate) fn release(&self, id: NodeId) -> Vec<NodeId> {
        let Some(needs) = self.needs.get(&(id.index() as u32)) else {
            return Vec::new();
        };
        let mut state = self.lock();
        for &resource in needs.iter() {
            state.free[resource] += 1;
        }
        let mut started = Vec::new();
        let mut waiting = std::mem::take(&mut state.waiting);
        waiting.retain(|&next| {
            let admitted = state.take(&self.needs[&(next.index() as u32)]);
            if admitted {
                started.push(next);
            }
            !admitted
        });
        state.waiting = waiting;
        started
    }

    /// Whether station `id` holds a limited resource.
    pub(crate) fn holds_any(&self, id: NodeId) -> bool {
        self.needs.contains_key(&(id.index() as u32))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// Takes one unit of each of `needs` if every one is free.
    fn take(&mut self, needs: &[usize]) -> bool {
        if needs.iter().any(|&resource| self.free[resource] == 0) {
            return false;
        }
        for &resource in needs {
            self.free[resource] -= 1;
        }
        true
    }
}
