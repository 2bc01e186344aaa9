//! What each station warned of in this run ([`Ctx::warn`](crate::Ctx::warn)): each attempt
//! starts a list of its own, and the last attempt's is in the station's entry of the report.

use super::Execution;
use crate::report::Status;
use crate::report::entry::Entry;
use crate::warnings::Warnings;

impl Execution<'_> {
    /// A fresh list for attempt `number` of node `path`. The first attempt's goes on the
    /// run's board at its first line (a station that warns of nothing costs the run no
    /// entry); a later attempt's goes there at once, in place of an earlier attempt's.
    pub(super) fn warnings_of(&self, path: &str, number: u32) -> Warnings {
        if number == 0 {
            return Warnings::on(&self.warned, number);
        }
        let warnings = Warnings::default();
        warnings.post(&self.warned, path, number);
        warnings
    }

    /// Gives each station that ran (or failed) what its last attempt warned of.
    pub(super) fn attach_warnings(&self, entries: &mut [Entry]) {
        let mut warned =
            std::mem::take(&mut *self.warned.lock().unwrap_or_else(|e| e.into_inner()));
        for entry in entries {
            if !matches!(entry.status, Status::Ran | Status::Failed) {
                continue;
            }
            if let Some((_, warnings)) = warned.remove(&entry.node) {
                entry.more_mut().warnings = warnings.take();
            }
        }
    }
}
