//! The committer: while the pool runs stations, a thread of its own commits the batches of
//! records, woken when a task finds the batch due and at least every batch's age limit, so a
//! sync never stands between a station and the next, and a batch is committed on time even
//! while every station is long. It writes the run journal's kept lines on each wake.

use super::Execution;
use super::commit::BATCH_TIME;
use std::sync::{Arc, Condvar, Mutex};

/// How a committer is woken and told to end.
#[derive(Default)]
pub(super) struct Wake {
    /// `(rung, ended)`.
    state: Mutex<(bool, bool)>,
    signal: Condvar,
}

impl Wake {
    /// Wakes the committer: the batch is due.
    pub(super) fn ring(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = true;
        self.signal.notify_one();
    }

    fn end(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.signal.notify_one();
    }

    /// Waits to be rung, or for the batch's age limit; `false` once told to end.
    fn wait(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (mut state, _) = self
            .signal
            .wait_timeout_while(state, BATCH_TIME, |(rung, ended)| !*rung && !*ended)
            .unwrap_or_else(|e| e.into_inner());
        state.0 = false;
        !state.1
    }
}

impl Execution<'_> {
    /// Runs `work` (the pool's share of the run) with a committer beside it; once `work`
    /// is done the committer ends, and what is left in the batch is the run's last commit.
    pub(crate) fn with_committer<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        let wake = Arc::new(Wake::default());
        std::thread::scope(|threads| {
            let committer = std::thread::Builder::new()
                .name("choochoo-commit".to_owned())
                .spawn_scoped(threads, || self.commit_until_ended(&wake));
            // Without the thread, the tasks commit a batch due themselves.
            if committer.is_ok() {
                self.set_committer(Some(wake.clone()));
            }
            // Ended however `work` ends: a panic in it must not leave the scope waiting
            // for the committer forever.
            let ending = Ending(self, &wake);
            let result = work();
            drop(ending);
            if let Ok(committer) = committer {
                let _ = committer.join();
            }
            result
        })
    }

    fn set_committer(&self, wake: Option<Arc<Wake>>) {
        self.batch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .committer = wake;
    }

    fn commit_until_ended(&self, wake: &Wake) {
        while wake.wait() {
            let due = self
                .batch
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_due();
            if due {
                self.flush();
            }
            if let Some(journal) = &self.settings.journal {
                journal.write();
            }
        }
    }
}

/// Ends the committer when dropped: the tasks commit what is due themselves from then on.
struct Ending<'e, 'g>(&'e Execution<'g>, &'e Wake);

impl Drop for Ending<'_, '_> {
    fn drop(&mut self) {
        self.0.set_committer(None);
        self.1.end();
        if let Some(journal) = &self.0.settings.journal {
            journal.write();
        }
    }
}
