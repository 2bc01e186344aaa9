//! A run's id, known once the run is recorded. A run's first stations start before it is:
//! the store's database is opened and the run recorded on the runner's thread while they
//! run, and what needs the id (a failure's kept directory and its observation, the report)
//! waits for it.

use std::sync::{Arc, OnceLock};

/// The id of a run, or the promise of it.
#[derive(Clone, Debug)]
pub(crate) struct RunId(Arc<OnceLock<i64>>);

impl RunId {
    /// An id not known yet: [`set`](RunId::set) makes it known.
    pub(crate) fn pending() -> RunId {
        RunId(Arc::default())
    }

    /// An id known already.
    pub(crate) fn known(id: i64) -> RunId {
        RunId(Arc::new(OnceLock::from(id)))
    }

    /// Makes the id known (`0` when the run could not be recorded), once.
    pub(crate) fn set(&self, id: i64) {
        let _ = self.0.set(id);
    }

    /// Whether the id is known (the run is recorded, or could not be).
    pub(crate) fn is_known(&self) -> bool {
        self.0.get().is_some()
    }

    /// The id, once known.
    pub(crate) fn get(&self) -> i64 {
        *self.0.wait()
    }
}

impl Default for RunId {
    /// The id of a run that is not recorded (a plan, a worker's station): `0`.
    fn default() -> RunId {
        RunId::known(0)
    }
}

#[cfg(test)]
mod tests {
    use super::RunId;

    #[test]
    fn an_id_is_waited_for_until_it_is_set() {
        let id = RunId::pending();
        let waiting = {
            let id = id.clone();
            std::thread::spawn(move || id.get())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiting.is_finished(), "waits while the id is unknown");
        assert!(!id.is_known());
        id.set(7);
        assert!(id.is_known());
        id.set(8);
        assert_eq!(waiting.join().unwrap(), 7, "set once");
        assert_eq!(RunId::default().get(), 0);
    }
}
