//! The end of a run: the records still waiting are committed (and their leases let go), the
//! output values taken out, the stat cache saved, and the report put together, one entry
//! per station, each failure with its defect.

use super::{Execution, Outcome};
use crate::error::{Error, chain};
use crate::graph::Kind;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::report::entry::{Entry, Names};
use crate::report::{Report, Status, split_item};
use crate::value::Shared;
use foldhash::HashMap;
use std::sync::Arc;

/// What a finished run hands back to its runner.
pub(crate) struct Finished<'g> {
    /// The values of the nodes asked for, in their order.
    pub(crate) values: Result<Vec<Shared>, Error>,
    pub(crate) report: Report,
    /// Every key the run looked up or recorded: what `gc` keeps for the last runs.
    pub(crate) used: Vec<Digest>,
    /// The rest of the execution, for the runner to free while it records the run.
    pub(crate) rest: Execution<'g>,
}

impl<'g> Execution<'g> {
    /// Ends the run once every station is done: commits, takes the values of `outputs`,
    /// saves the stat cache and reports. What the nodes held is freed on `pool` while the
    /// report is made, when there is a pool.
    pub(crate) fn finish(
        mut self,
        outputs: &[NodeId],
        pool: Option<&rayon::ThreadPool>,
    ) -> Finished<'g> {
        #[cfg(feature = "remote")]
        self.materialize_wanted(outputs);
        self.flush();
        let values = outputs
            .iter()
            .map(|id| self.take_value(*id))
            .collect::<Result<Vec<_>, _>>();
        self.stats.settle_racy();
        if let Err(error) = self.store.save_stats(&self.stats.take_changed()) {
            self.warn(format!("the stat cache was not saved: {}", chain(&error)));
        }
        self.store.count_hashed(self.stats.hashed());
        // What the nodes held is not needed for the report but the items of maps not
        // reached: its memory goes before the report's entries are made.
        let unreached = self.unreached_items();
        let held = (
            std::mem::take(&mut self.values),
            std::mem::take(&mut self.contents),
            std::mem::take(&mut self.records),
            std::mem::take(&mut self.materialized),
        );
        let report = beside(pool, move || drop(held), || self.report(unreached));
        let used = self.used.take();
        Finished {
            values,
            report,
            used,
            rest: self,
        }
    }

    fn report(&mut self, unreached: HashMap<NodeId, super::ItemOutcomes>) -> Report {
        let mut entries = self.entries(unreached);
        self.mark_unrecorded(&mut entries);
        self.attach_warnings(&mut entries);
        self.attach_defects(&mut entries);
        #[allow(unused_mut, reason = "the remote cache adds its warnings")]
        let mut warnings =
            std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()));
        #[cfg(feature = "remote")]
        warnings.extend(self.finish_remote());
        Report {
            run: self.settings.run_id.get(),
            entries,
            warnings,
        }
    }

    /// One entry per station, in the graph's order, from its outcome; a map's items follow
    /// it, in its list's order (blocked or skipped with it, when its list is known).
    fn entries(&mut self, mut unreached: HashMap<NodeId, super::ItemOutcomes>) -> Vec<Entry> {
        let mut items: HashMap<NodeId, super::ItemOutcomes> =
            std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        let mut entries = Vec::with_capacity(self.graph.nodes.len());
        let mut names = StationNames::default();
        for (id, node) in self.graph.ids().zip(&self.graph.nodes) {
            let Kind::Station { station, .. } = &node.kind else {
                continue;
            };
            if self.is_outside(id) {
                continue;
            }
            let settled = self.outcomes[id.index()].take();
            let (status, details) =
                settled.map_or((Status::Skipped, None), |s| (s.status, s.details));
            let path = Box::<str>::from(&self.paths[id.index()]);
            let names = names.of(station.as_ref());
            #[allow(
                unused_mut,
                reason = "a station sent to a Temporal worker says where it ran"
            )]
            let mut made =
                Entry::labeled(path, names.clone(), node.label.as_deref(), status, details);
            #[cfg(feature = "temporal")]
            if let Some(worker) = self.ran_on_of(&made.node) {
                made.more_mut().ran_on = Some(worker);
            }
            entries.push(made);
            let items = items
                .remove(&id)
                .or_else(|| unreached.remove(&id))
                .unwrap_or_default();
            for (path, outcome) in items {
                let label = split_item(&path)
                    .map(|(_, item)| format!("{}[{item}]", self.shown(id)).into_boxed_str());
                entries.push(entry(names.clone(), path, label, outcome));
            }
        }
        entries
    }

    /// The items of each map that was blocked or skipped, when its list is known: blocked or
    /// skipped too.
    fn unreached_items(&self) -> HashMap<NodeId, super::ItemOutcomes> {
        let maps = self.graph.ids().zip(&self.graph.nodes);
        maps.filter(|(id, node)| node.map().is_some() && !self.is_outside(*id))
            .filter_map(|(id, _)| {
                let status = self.outcomes[id.index()]
                    .get()
                    .map_or(Status::Skipped, super::Settled::status);
                let items = self.items_not_run(id, status);
                (!items.is_empty()).then_some((id, items))
            })
            .collect()
    }

    /// The items of a map that was blocked or skipped, when its list is known: blocked or
    /// skipped too.
    fn items_not_run(&self, id: NodeId, status: Status) -> super::ItemOutcomes {
        if !matches!(status, Status::Blocked | Status::Skipped) {
            return Vec::new();
        }
        self.current_items(id)
            .unwrap_or_default()
            .into_iter()
            .map(|(path, _)| (path, Outcome::not_run(status)))
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
                entry.more_mut().error = Some(message.clone());
            }
        }
    }
}

/// A station's (or a map item's) entry, from its outcome.
fn entry(names: Arc<Names>, node: Box<str>, label: Option<Box<str>>, outcome: Outcome) -> Entry {
    let status = outcome.status;
    Entry::new(node, names, label, status, outcome.details())
}

/// Each station's names, made once for all the entries of its nodes.
#[derive(Default)]
struct StationNames(HashMap<&'static str, Arc<Names>>);

impl StationNames {
    fn of(&mut self, station: &dyn ErasedStation) -> &Arc<Names> {
        self.0.entry(station.id()).or_insert_with(|| {
            Arc::new(Names {
                id: station.id().into(),
                name: station.name().into(),
            })
        })
    }
}

/// `work`'s result, with `aside` done on `pool` meanwhile when there is a pool (else first).
pub(crate) fn beside<R>(
    pool: Option<&rayon::ThreadPool>,
    aside: impl FnOnce() + Send,
    work: impl FnOnce() -> R,
) -> R {
    match pool {
        Some(pool) => pool.in_place_scope(|scope| {
            scope.spawn(|_| aside());
            work()
        }),
        None => {
            aside();
            work()
        }
    }
}
