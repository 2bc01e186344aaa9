//! The order a map's items go in: every item looked up first, in parallel, then the items
//! that must run queued longest first, by how long each took the last time it ran, so the
//! longest do not start last and leave the other workers idle at the end (items never run
//! before go first, in the list's order).

use super::Execution;
use super::item::Looked;
use super::items::Item;
use super::map::{Done, MapRun};
use std::sync::OnceLock;
use std::time::Duration;

impl Execution<'_> {
    /// What became of each item, in the list's order; the same item again is not run again
    /// (its entry is a placeholder, its output the first one's).
    ///
    /// Each lookup and each run is a task of its own, queued in order, so a worker that is
    /// free takes the next whoever queued it: splitting the list between workers instead
    /// leaves one idle while the other goes through its share, when the share of one is in
    /// the store and the other's must run.
    ///
    /// A map that holds a limited resource runs its items one after another, under the
    /// map's units, so they keep to the resource's limit.
    pub(super) fn run_items(&self, run: &MapRun<'_>, items: &[Item]) -> Vec<Done> {
        if self.gate.holds_any(run.id) {
            return items
                .iter()
                .map(|item| match self.looked_up(run, item) {
                    Looked::Done(done) => done,
                    Looked::Runs(head, reason) => self.item_ran(run, item, head, reason),
                })
                .collect();
        }
        let looked = in_parallel(items.iter().map(|item| move || self.looked_up(run, item)));
        let mut done: Vec<Option<Done>> = Vec::with_capacity(items.len());
        let mut runs = Vec::new();
        for (index, looked) in looked.into_iter().enumerate() {
            match looked {
                Looked::Done(found) => done.push(Some(found)),
                Looked::Runs(head, reason) => {
                    done.push(None);
                    runs.push((index, head, reason));
                }
            }
        }
        self.longest_first(&mut runs, items);
        let ran = in_parallel(runs.into_iter().map(|(index, head, reason)| {
            move || (index, self.item_ran(run, &items[index], head, reason))
        }));
        for (index, outcome) in ran {
            done[index] = Some(outcome);
        }
        done.into_iter()
            .map(|done| done.expect("every item is looked up or run"))
            .collect()
    }

    /// An item looked up; one found, or failed, is announced.
    fn looked_up(&self, run: &MapRun<'_>, item: &Item) -> Looked {
        if item.same_as.is_some() {
            return Looked::Done(Done::placeholder());
        }
        let looked = self.look_up_item(run, item);
        if let Looked::Done(done) = &looked {
            self.announce_item(run, item, done);
        }
        looked
    }

    /// An item run, announced.
    fn item_ran(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        head: crate::memo::Head,
        reason: String,
    ) -> Done {
        let done = self.run_item(run, item, head, reason);
        self.announce_item(run, item, &done);
        self.flush_if_due();
        done
    }

    fn announce_item(&self, run: &MapRun<'_>, item: &Item, done: &Done) {
        if let Some(listener) = &self.settings.listener {
            listener(&crate::progress::Event::Finished {
                node: &item.path,
                name: run.station.name(),
                status: done.outcome.status,
                duration: done.outcome.duration,
            });
        }
    }

    /// Sorts the items to run: those never run before first, then by their last run's
    /// duration, longest first; the list's order among equals. Asked of the store only
    /// when there is an order to choose.
    fn longest_first<T>(&self, runs: &mut [(usize, T, String)], items: &[Item]) {
        if runs.len() < 2 {
            return;
        }
        let nodes: Vec<&str> = runs
            .iter()
            .map(|(index, ..)| &*items[*index].path)
            .collect();
        // Without the durations the list's order stays: an order is not worth failing for.
        let Ok(last) = self.store.last_ran(&self.settings.profile, &nodes) else {
            return;
        };
        let took = |index: usize| {
            last.get(&*items[index].path)
                .copied()
                .unwrap_or(Duration::MAX)
        };
        runs.sort_by_key(|(index, ..)| std::cmp::Reverse(took(*index)));
    }
}

/// Runs each task on the pool, queued in order, and gives their results in that order.
fn in_parallel<R: Send + Sync>(tasks: impl Iterator<Item = impl FnOnce() -> R + Send>) -> Vec<R> {
    let tasks: Vec<_> = tasks.collect();
    let slots: Vec<OnceLock<R>> = tasks.iter().map(|_| OnceLock::new()).collect();
    rayon::scope_fifo(|scope| {
        for (task, slot) in tasks.into_iter().zip(&slots) {
            scope.spawn_fifo(move |_| {
                let _ = slot.set(task());
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().expect("every task has run"))
        .collect()
}
