//! Looking ahead, before the pool starts: on the calling thread, the ready stations whose
//! results the store has are settled as cached, in turn with the stations they make ready,
//! as long as each takes no more than lookups and `stat`s. The first station that needs
//! more (a file to read and hash, a check to ask, a station to run, a warning to give) ends
//! the look, and it and every station ready then start on the pool, as they would have. A
//! run with nothing to do starts no thread; a station settled here is settled as a worker
//! would have settled it, by the same lookup, with the same outcome.

use super::decide::Verdict;
use super::{Execution, Outcome};
use crate::graph::Kind;
use crate::graph::node::NodeId;
use crate::report::Status;
use std::collections::VecDeque;

/// Graphs of this many nodes and more start on the pool at once: starting its threads is a
/// small part of their run, and their lookups are shared among them.
pub(crate) const LOOK_AHEAD_BELOW: usize = 2_000;

impl Execution<'_> {
    /// Settles what the store has, as far as it goes on the calling thread; the stations
    /// then ready, to start on the pool (none: the run is over).
    pub(crate) fn settle_cached(&self) -> Vec<NodeId> {
        let mut ready: VecDeque<NodeId> = self.ready().into();
        if self.graph.nodes.len() >= LOOK_AHEAD_BELOW {
            return ready.into();
        }
        self.stats.refuse_reads(true);
        while let Some(id) = ready.pop_front() {
            let Some(outcome) = self.cached(id) else {
                ready.push_front(id);
                break;
            };
            let upstream = self.settle(id, outcome);
            ready.extend(self.released(id, upstream));
        }
        self.stats.refuse_reads(false);
        ready.into()
    }

    /// Station `id`'s outcome when the store has its result and nothing else is needed to
    /// say so: [`decide`](Execution::decide)'s, for a station with no check found in the
    /// store. `None` leaves nothing behind: no warning said, no file read, no key used.
    fn cached(&self, id: NodeId) -> Option<Outcome> {
        let Kind::Station { station, inputs } = &self.graph.node(id).kind else {
            return None;
        };
        if station.has_check() || self.not_reached(id).is_some() {
            return None;
        }
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
        let found = self
            .head(id, station.as_ref(), inputs)
            .ok()
            .and_then(|head| match self.verdict(id, &head.key) {
                Verdict::Found(found) => Some((head, found)),
                _ => None,
            });
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        let refused = self.stats.take_refused();
        let (head, found) = found.filter(|_| !refused && held.is_none_or(|h| h.is_empty()))?;
        self.used(head.key);
        self.adopt(id, found);
        Some(Outcome::not_run(Status::Cached))
    }
}
