//! What a run tells about its failures: each failed attempt written into the defect ledger
//! at once (it survives a kill after it), a station's later attempts into the same
//! observation, the warnings of the run, and, once the run is over, each failure's impact
//! (the stations it blocked, the time it cost, whether a retry recovered it) and the defect
//! it belongs to.

use super::Execution;
use super::call::{Call, Failure};
use crate::defect::model::ObservationId;
use crate::error::chain;
use crate::graph::node::NodeId;
use crate::memo::Head;
use crate::report::entry::Entry;
use crate::report::{Status, split_item};
use crate::store::ledger::Impact;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

impl Execution<'_> {
    /// Writes a failed attempt into the defect ledger, at once: it survives a kill after it.
    /// The first failure of a station in the run is a new observation; a later one (a retry)
    /// is added to it.
    pub(super) fn observe(
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
        let observation = crate::defect::model::NewObservation {
            station_id: call.station.id().to_owned(),
            station_name: call.station.name().to_owned(),
            node: call.path.to_owned(),
            profile: self.settings.profile.clone(),
            instance: (failure.worker.as_deref())
                .unwrap_or(&self.settings.instance)
                .to_owned(),
            run_id: self.settings.run_id.get(),
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
        let mut observations = self.observations.lock().unwrap_or_else(|e| e.into_inner());
        let recorded = match observations.get(call.path) {
            Some(&id) => self.store.observe_again(id, &observation).map(|()| id),
            None => self.store.observe(&observation),
        };
        match recorded {
            Ok(id) => {
                observations.insert(call.path.to_owned(), id);
            }
            Err(error) => self.warn(format!(
                "the failure of `{}` was not recorded in the ledger: {}",
                call.path,
                chain(&error)
            )),
        }
    }

    /// Says something went wrong that does not fail the run: now, and in the report; while
    /// warnings are held, only to the holder.
    pub(crate) fn warn(&self, warning: String) {
        if let Some(held) = self.held.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            held.push(warning);
            return;
        }
        eprintln!("choochoo: warning: {warning}");
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }

    /// For each observed station, now that the run is over: whether a retry recovered it,
    /// the time its failure cost as the report shows it, and the stations it blocked (each
    /// counted for the first failure of the run above it, so that they add up to the
    /// report's count); then the defect it belongs to, for the end-of-run summary.
    pub(super) fn attach_defects(&self, entries: &mut [Entry]) {
        let mut observations: Vec<(String, ObservationId)> =
            std::mem::take(&mut *self.observations.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        if observations.is_empty() {
            return;
        }
        // In the order the failures were recorded.
        observations.sort_unstable_by_key(|(_, id)| *id);
        let impacts = self.impacts(&observations, entries);
        if let Err(error) = self.store.set_impacts(&impacts) {
            self.warn(format!(
                "the impact of the run's failures was not recorded: {}",
                chain(&error)
            ));
        }
        for (node, observation) in &observations {
            let Ok(Some(defect)) = self.store.observed_defect(*observation) else {
                continue;
            };
            if let Some(entry) = entries.iter_mut().find(|e| *e.node == **node) {
                entry.more_mut().defect = Some(Box::new(defect));
            }
        }
    }

    /// What the report says of each observed node.
    fn impacts(&self, observations: &[(String, ObservationId)], entries: &[Entry]) -> Vec<Impact> {
        let blocked: HashSet<&str> = entries
            .iter()
            .filter(|e| e.status == Status::Blocked)
            .map(|e| &*e.node)
            .collect();
        let outcomes: HashMap<&str, (Status, Duration)> = entries
            .iter()
            .map(|e| (&*e.node, (e.status, e.duration())))
            .collect();
        let index: HashMap<&str, NodeId> = self.paths.iter().zip(self.graph.ids()).collect();
        let mut counted = HashSet::new();
        let mut impact = |node: &str, observation: ObservationId| {
            let outcome = outcomes.get(node).copied();
            let recovered = outcome.is_some_and(|(status, _)| status != Status::Failed);
            // A failed item blocks what its map blocks.
            let below = index
                .get(node)
                .or_else(|| split_item(node).and_then(|(map, _)| index.get(map)));
            let blocked = match below {
                Some(id) if !recovered => self.blocked_below(*id, &blocked, &mut counted),
                _ => 0,
            };
            Impact {
                observation,
                blocked,
                recovered,
                lost: outcome.filter(|_| !recovered).map(|(_, duration)| duration),
            }
        };
        observations
            .iter()
            .map(|(node, observation)| impact(node, *observation))
            .collect()
    }

    /// How many stations downstream of `id` were blocked and are not yet in `counted`;
    /// they are added to it.
    fn blocked_below(
        &self,
        id: NodeId,
        blocked: &HashSet<&str>,
        counted: &mut HashSet<NodeId>,
    ) -> usize {
        let mut seen = HashSet::new();
        let mut stack = self.dependents_of(id).to_vec();
        while let Some(next) = stack.pop() {
            if seen.insert(next) && blocked.contains(&self.paths[next.index()]) {
                stack.extend_from_slice(self.dependents_of(next));
            }
        }
        seen.into_iter()
            .filter(|id| blocked.contains(&self.paths[id.index()]))
            .filter(|id| counted.insert(*id))
            .count()
    }
}
