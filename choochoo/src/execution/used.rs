//! Every key a run looked up or recorded, what `gc` keeps for the last runs: gathered in a
//! list per worker thread, so that the workers, which each note a key per station, do not
//! queue on one lock.

use crate::hash::Digest;
use std::sync::Mutex;

/// How many lists the keys are gathered in: a pool's threads each take the list of their
/// index, modulo this.
const LISTS: usize = 8;

/// The keys a run used, in lists by the thread that noted them.
pub(super) struct Used {
    lists: [List; LISTS],
}

/// One thread's list, alone on its cache lines.
#[repr(align(128))]
#[derive(Default)]
struct List(Mutex<Vec<Digest>>);

impl Used {
    pub(super) fn new() -> Used {
        Used {
            lists: std::array::from_fn(|_| List::default()),
        }
    }

    /// Notes `key` in the list of the calling thread.
    pub(super) fn note(&self, key: Digest) {
        self.list().push(key);
    }

    /// Every key noted, in no particular order.
    pub(super) fn take(&self) -> Vec<Digest> {
        let mut lists: Vec<Vec<Digest>> = self
            .lists
            .iter()
            .map(|list| std::mem::take(&mut *list.0.lock().unwrap_or_else(|e| e.into_inner())))
            .collect();
        // The longest list grows in place to hold the others: a large run's keys are not
        // copied into a list of their own while the lists are still there.
        lists.sort_unstable_by_key(|list| std::cmp::Reverse(list.len()));
        let total: usize = lists.iter().map(Vec::len).sum();
        let mut all = lists.swap_remove(0);
        all.reserve_exact(total - all.len());
        for list in &mut lists {
            all.append(list);
        }
        all
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Digest>> {
        let thread = rayon::current_thread_index().map_or(0, |index| index + 1);
        let list = &self.lists[thread % LISTS].0;
        list.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_noted_on_any_thread_is_taken_once() {
        let used = Used::new();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.scope(|scope| {
            for n in 0..100u8 {
                let used = &used;
                scope.spawn(move |_| used.note(Digest::of(&[n])));
            }
        });
        used.note(Digest::of(b"here"));
        let mut taken = used.take();
        taken.sort();
        taken.dedup();
        assert_eq!(taken.len(), 101);
        assert!(used.take().is_empty());
    }
}
