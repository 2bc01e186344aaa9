//! `Runner::temporal`: the stations that must run go to Temporal workers.

use super::Runner;
use crate::error::Error;
use crate::temporal::Temporal;
use crate::temporal::client::Dispatch;
use std::sync::{Arc, OnceLock};

/// The workers a runner sends stations to: where they are, and the connection, made at the
/// first run.
pub(super) struct Workers {
    options: Temporal,
    connected: OnceLock<Result<Arc<Dispatch>, String>>,
}

impl Runner<'_> {
    /// Sends each station that must run to a worker of `workers` (the same program, started
    /// with the command line's `worker`) instead of calling it here; the run decides as
    /// always (the store, the remote cache, checks) and records the results. Values travel
    /// through the remote cache's CAS, which [`Runner::remote`] names: a run without one
    /// fails its stations with an error saying so. A station with a check or a clean, or
    /// one that reads files, runs here.
    #[cfg_attr(docsrs, doc(cfg(feature = "temporal")))]
    pub fn temporal(mut self, workers: Temporal) -> Self {
        self.temporal = Some(Workers {
            options: workers,
            connected: OnceLock::new(),
        });
        self
    }

    /// The connection to the workers, if any; an error when the server cannot be reached.
    pub(super) fn dispatch(&self) -> Result<Option<Arc<Dispatch>>, Error> {
        let Some(workers) = &self.temporal else {
            return Ok(None);
        };
        let connected = workers
            .connected
            .get_or_init(|| Dispatch::connect(workers.options.clone()).map(Arc::new));
        match connected {
            Ok(dispatch) => Ok(Some(dispatch.clone())),
            Err(why) => Err(Error::usage(why.clone())),
        }
    }
}
