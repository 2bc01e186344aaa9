//! What a run records in the ledger: a station's first failed attempt, filed under the
//! defect of its signature or of the run's failures with the same cause; its later attempts,
//! added to the same observation; and, once the run is over, what each failure blocked,
//! cost, and whether a retry recovered it.

use super::Store;
use super::ledger::{Filing, Impact};
use crate::defect::cause::cause;
use crate::defect::model::{Defect, NewObservation, ObservationId};
use crate::defect::signature::signature;
use crate::error::Error;

impl Store {
    /// Records the first failed attempt of a station in a run: the observation, its defect
    /// (found by signature or by a shared cause in the run, or opened), the defect's
    /// counters, and its reopening if it was marked fixed, in one transaction.
    pub(crate) fn observe(&self, observation: &NewObservation) -> Result<ObservationId, Error> {
        let signature = signature(&observation.station_id, &observation.message);
        let cause = cause(&observation.node, &observation.message, &observation.chain);
        let message = first_line(&observation.message);
        let title = format!("Handle: \"{message}\" on \"{}\"", observation.instance);
        let filing = Filing {
            signature: &signature,
            title: &title,
            defect_title: message,
            cause: cause.as_ref(),
        };
        self.ledger().observe(observation, &filing)
    }

    /// Adds a later failed attempt of the same station in the same run to observation `id`.
    pub(crate) fn observe_again(
        &self,
        id: ObservationId,
        observation: &NewObservation,
    ) -> Result<(), Error> {
        self.ledger().observe_again(id, observation)
    }

    /// Records, once the run knows, what each of its failures blocked downstream, what it
    /// cost and whether a retry recovered it.
    pub(crate) fn set_impacts(&self, impacts: &[Impact]) -> Result<(), Error> {
        self.ledger().set_impacts(impacts)
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
