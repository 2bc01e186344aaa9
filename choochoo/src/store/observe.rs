//! What a run records in the ledger: each failed attempt, filed under the defect of its
//! signature, and later how many stations it blocked.

use super::Store;
use super::ledger::Filing;
use crate::defect::model::{Defect, NewObservation, ObservationId};
use crate::defect::signature::signature;
use crate::error::Error;

impl Store {
    /// Records a failed attempt: the observation, its defect (found by signature, or opened),
    /// the defect's counters, and its reopening if it was marked fixed, in one transaction.
    pub(crate) fn observe(&self, observation: &NewObservation) -> Result<ObservationId, Error> {
        let signature = signature(&observation.station_id, &observation.message);
        let message = first_line(&observation.message);
        let title = format!("Handle: \"{message}\" on \"{}\"", observation.instance);
        let filing = Filing {
            signature: &signature,
            title: &title,
            defect_title: message,
        };
        self.ledger().observe(observation, &filing)
    }

    /// Sets how many stations an observed failure blocked downstream, once the run knows.
    pub(crate) fn set_blocked(&self, id: ObservationId, blocked: usize) -> Result<(), Error> {
        self.ledger().set_blocked(id, blocked)
    }

    /// The defect an observation belongs to now, for the end-of-run summary.
    pub(crate) fn observed_defect(&self, id: ObservationId) -> Result<Option<Defect>, Error> {
        self.ledger().defect_of(id)
    }
}

/// A title is one line: a multi-line message (a command's stderr) keeps its first.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default().trim()
}
