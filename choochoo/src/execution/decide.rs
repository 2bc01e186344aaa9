//! The runtime's core rule for one station: its key from its inputs' content, the store
//! looked up, the check asked on a remembered result, the node's lease taken (another
//! process may be computing it), the store looked at again, and only then the station run,
//! with the reason it runs. [`Execution::verdict`] is the part without side effects, which
//! a plan shares.

use super::lookup::{Found, Lookup};
use super::recheck::Rechecked;
use super::values::Unusable;
use super::{Execution, Outcome};
use crate::error::{Error, chain};
use crate::graph::Kind;
use crate::graph::edge::Edge;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo;
use crate::memo::{Head, Reason};
use crate::report::Status;
use std::sync::Arc;
use std::time::Duration;

/// Why a remembered map runs: to ask the check of each of its remembered items.
const ITEMS_CHECKED: &str = "its items' checks are asked";

/// What the store says of a station's key, before anything is asked, run or written.
pub(crate) enum Verdict {
    /// A usable record: the station is cached, once its check (if it has one) agrees.
    Found(Found),
    /// It runs, for this reason.
    Runs(String),
    /// Its key has no record: it runs, and [`Execution::reason`] compares heads to say why.
    Missing,
}

impl Execution<'_> {
    /// Cached, ran, failed, or not run: the runtime's core rule for one station.
    pub(super) fn decide(&self, id: NodeId) -> Outcome {
        if let Some(outcome) = self.not_reached(id) {
            return outcome;
        }
        let Kind::Station { station, inputs } = &self.graph.node(id).kind else {
            return Outcome::not_run(Status::Cached);
        };
        let head = match self.head(id, station.as_ref(), inputs) {
            Ok(head) => head,
            Err(error) => return Outcome::failed(Duration::ZERO, None, chain(&error)),
        };
        self.used(head.key);
        let reason = match self.remembered(id, station, inputs, &head) {
            Ok(reason) => reason,
            Err(outcome) => return outcome,
        };
        // Another process may be computing this node: wait for it, then look again.
        let lease = match self.lease(id) {
            Ok(lease) => lease,
            Err(error) => return Outcome::failed(Duration::ZERO, None, chain(&error)),
        };
        if reason.is_none() && self.look_again(id, &head.key) {
            return Outcome::not_run(Status::Cached);
        }
        #[cfg(feature = "remote")]
        if !self.is_forced(id)
            && let Some(outcome) = self.fetch_remote(id, station.as_ref(), inputs, head.clone())
        {
            self.release(lease);
            return outcome;
        }
        let reason = reason.map_or_else(|| self.reason(id, station.as_ref(), &head), Reason::from);
        // Files of its inputs left in the remote cache are fetched (or made again) first.
        if let Err(why) = self.materialize_inputs(inputs) {
            self.release(lease);
            return Outcome::failed(Duration::ZERO, Some(reason), why);
        }
        let items_checked = reason == ITEMS_CHECKED;
        let outcome = match self.graph.node(id).map() {
            Some(map) => self.execute_map(id, station, inputs, map, head, reason),
            None => self.execute(id, station, inputs, head, reason),
        };
        self.release(lease);
        match items_checked {
            true => self.items_held(id, outcome),
            false => outcome,
        }
    }

    /// What the store remembers of station `id`'s key, and what its check says of it: why
    /// it runs (`None`: no record, the heads will say), or its outcome when it does not run.
    /// A record becomes the node's result only once it is used: a station that runs again
    /// (forced, or its check failed) must give its dependents its new output, not this one.
    fn remembered(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        head: &Head,
    ) -> Result<Option<String>, Outcome> {
        match self.verdict(id, &head.key) {
            Verdict::Found(found) if !station.has_check() => {
                self.adopt(id, found);
                Err(Outcome::not_run(Status::Cached))
            }
            // A map's check is its items': each remembered item is asked as the map runs.
            Verdict::Found(_) if self.graph.node(id).map().is_some() => {
                Ok(Some(ITEMS_CHECKED.to_owned()))
            }
            Verdict::Found(found) => match self.still_holds(id, station, inputs, head, &found) {
                Rechecked::Holds(outcome) => {
                    self.adopt(id, found);
                    Err(outcome)
                }
                Rechecked::Drifted(reason) => Ok(Some(reason)),
                Rechecked::Failed(outcome) => Err(outcome),
            },
            Verdict::Runs(reason) => Ok(Some(reason)),
            Verdict::Missing => Ok(None),
        }
    }

    /// A remembered map whose items' checks were all asked and all held is cached, as a
    /// station whose check holds is; else it is what running it made it.
    fn items_held(&self, id: NodeId, outcome: Outcome) -> Outcome {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let held = items
            .iter()
            .find(|(map, _)| *map == id)
            .is_some_and(|(_, items)| items.iter().all(|(_, item)| item.status == Status::Cached));
        match held && outcome.status == Status::Ran {
            true => Outcome {
                reason: Some(Reason::Borrowed("its items' checks hold")),
                ..Outcome::not_run(Status::Cached)
            },
            false => outcome,
        }
    }

    /// The rule's part without side effects: whether station `id` runs whatever the store
    /// says (forced), or what the store holds for its key. No check is asked, nothing is
    /// run, locked or written (a corrupt record costs a warning), and nothing is adopted.
    pub(crate) fn verdict(&self, id: NodeId, key: &Digest) -> Verdict {
        if let Some(reason) = self.forced_reason(id) {
            return Verdict::Runs(reason);
        }
        match self.find(&self.paths[id.index()], key, false) {
            Lookup::Hit(found) => Verdict::Found(found),
            Lookup::Stale(reason) => Verdict::Runs(reason),
            Lookup::Miss => Verdict::Missing,
        }
    }

    /// Why a forced station runs: whatever the store says, and whatever its inputs are. A
    /// map runs to reach the items forced.
    pub(crate) fn forced_reason(&self, id: NodeId) -> Option<String> {
        if self.is_forced(id) {
            return Some("forced".to_owned());
        }
        let items: Vec<&str> = self.forced_items_of(id).collect();
        match items.as_slice() {
            [] => None,
            [item] => Some(format!("item `{item}` forced")),
            items => Some(format!("items `{}` forced", items.join("`, `"))),
        }
    }

    /// The station's key and what it is made of.
    pub(crate) fn head(
        &self,
        id: NodeId,
        station: &dyn ErasedStation,
        inputs: &[Edge],
    ) -> Result<Head, Error> {
        let input_hashes = self.input_hashes(inputs)?;
        let codec = &self.graph.node(id).codec;
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
    pub(crate) fn reason(&self, id: NodeId, station: &dyn ErasedStation, head: &Head) -> Reason {
        let before = self.last_head(&self.paths[id.index()]);
        let Kind::Station { inputs, .. } = &self.graph.node(id).kind else {
            return Reason::Borrowed("");
        };
        // A map's first input is its list, not one item.
        let mut names = station.input_names().to_vec();
        if self.graph.node(id).map().is_some() && !names.is_empty() {
            names[0] = "list";
        }
        memo::reason(before.as_ref(), head, &names, |index| {
            let sources = inputs.get(index)?.sources();
            match sources {
                [source] => self
                    .value(*source)
                    .ok()
                    .and_then(|value| (self.graph.node(*source).codec.to_json)(value)),
                _ => None,
            }
        })
    }

    /// For a station with a check, whether the remembered result still holds in the world:
    /// the check is asked about the record's output, decoded here, as attempts.
    fn still_holds(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        head: &Head,
        found: &Found,
    ) -> Rechecked {
        if let Err(why) = self.materialize_inputs(inputs) {
            return Rechecked::Failed(Outcome::failed(Duration::ZERO, None, why));
        }
        let codec = &self.graph.node(id).codec;
        let output = match self.stored_output(&found.record, codec) {
            Ok(output) => output,
            Err(Unusable::Changed(problem)) => {
                return Rechecked::Failed(Outcome::failed(Duration::ZERO, None, problem));
            }
            Err(Unusable::Undecodable(cause)) => {
                let problem = format!(
                    "its stored output {}",
                    cause.explain("the next run computes it again")
                );
                return Rechecked::Failed(Outcome::failed(Duration::ZERO, None, problem));
            }
        };
        self.node_call(id, station, inputs, |call| {
            self.recheck(&call, head, &output)
        })
    }
}
