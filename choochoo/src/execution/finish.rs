//! The end of a run: the records still waiting are committed (and their leases let go), the
//! output values taken out, the stat cache saved, and the report put together, one entry
//! per station, each failure with its defect.

use super::{Execution, Outcome};
use crate::error::chain;
use crate::graph::{Kind, NodeId};
use crate::report::{Entry, Report, Status};
use crate::value::Shared;
use crate::{Digest, Error};
use std::collections::HashMap;

/// What a finished run hands back to its runner.
pub(crate) struct Finished {
    /// The values of the nodes asked for, in their order.
    pub(crate) values: Result<Vec<Shared>, Error>,
    pub(crate) report: Report,
    /// Every key the run looked up or recorded: what `gc` keeps for the last runs.
    pub(crate) used: Vec<Digest>,
}

impl Execution<'_> {
    /// Ends the run once every station is done: commits, takes the values of `outputs`,
    /// saves the stat cache and reports.
    pub(crate) fn finish(mut self, outputs: &[NodeId]) -> Finished {
        self.flush();
        let values = outputs
            .iter()
            .map(|id| self.take_value(*id))
            .collect::<Result<Vec<_>, _>>();
        if let Err(error) = self.store.save_stats(&self.stats.take_changed()) {
            self.warn(format!("the stat cache was not saved: {}", chain(&error)));
        }
        self.store.count_hashed(self.stats.hashed());
        let report = self.report();
        let used = std::mem::take(&mut *self.used.lock().unwrap_or_else(|e| e.into_inner()));
        Finished {
            values,
            report,
            used,
        }
    }

    fn report(&mut self) -> Report {
        let mut entries = self.entries();
        self.mark_unrecorded(&mut entries);
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

    /// One entry per station, in the graph's order, from its outcome.
    fn entries(&mut self) -> Vec<Entry> {
        self.graph
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
            .collect()
    }

    /// Stations whose records failed to commit ran, but are failures of the run.
    fn mark_unrecorded(&self, entries: &mut [Entry]) {
        let unrecorded: HashMap<String, String> =
            std::mem::take(&mut *self.unrecorded.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        for entry in entries {
            if let Some(message) = unrecorded.get(&*entry.node) {
                entry.status = Status::Failed;
                entry.error = Some(message.clone());
            }
        }
    }
}
