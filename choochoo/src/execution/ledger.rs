//! What a run tells about its failures: each failed attempt written into the defect ledger
//! at once (it survives a kill after it), the warnings of the run, and, once the run is over,
//! each failure's impact (the stations it blocked) and the defect it belongs to.

use super::Execution;
use super::call::{Call, Failure};
use crate::error::chain;
use crate::graph::node::NodeId;
use crate::memo::Head;
use crate::report::{Entry, Status, split_item};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

impl Execution<'_> {
    /// Writes a failed attempt into the defect ledger, at once: it survives a kill after it.
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

    /// Says something went wrong that does not fail the run: now, and in the report.
    pub(crate) fn warn(&self, warning: String) {
        eprintln!("choochoo: warning: {warning}");
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }

    /// For each failed station: how many stations its failure blocked (now that the run is
    /// over), and the defect it belongs to, for the end-of-run summary.
    pub(super) fn attach_defects(&self, entries: &mut [Entry]) {
        let observations =
            std::mem::take(&mut *self.observations.lock().unwrap_or_else(|e| e.into_inner()));
        if observations.is_empty() {
            return;
        }
        let blocked: HashSet<&str> = entries
            .iter()
            .filter(|e| e.status == Status::Blocked)
            .map(|e| &*e.node)
            .collect();
        let index: HashMap<&str, NodeId> = self
            .paths
            .iter()
            .zip(self.graph.ids())
            .map(|(path, id)| (&**path, id))
            .collect();
        let mut found = Vec::new();
        for (node, observation) in &observations {
            // A failed item blocks what its map blocks.
            let downstream = index
                .get(node.as_str())
                .or_else(|| split_item(node).and_then(|(map, _)| index.get(map)))
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
    fn blocked_below(&self, id: NodeId, blocked: &HashSet<&str>) -> usize {
        let mut seen = HashSet::new();
        let mut stack = self.dependents_of(id).to_vec();
        while let Some(next) = stack.pop() {
            if seen.insert(next) && blocked.contains(&*self.paths[next.index()]) {
                stack.extend_from_slice(self.dependents_of(next));
            }
        }
        seen.iter()
            .filter(|id| blocked.contains(&*self.paths[id.index()]))
            .count()
    }
}
