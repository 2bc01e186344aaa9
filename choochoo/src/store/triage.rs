//! What a person reads and does with the ledger: list the defects and their observations,
//! mark a defect fixed or mitigated, add notes, merge two that are one, export a ticket.
//! Every change records who made it (the user name of the process) and when.

use super::Store;
use crate::defect::export::{self, ExportFormat};
use crate::defect::export_json;
use crate::defect::model::{Defect, DefectId, DefectStatus, NoteKind};
use crate::defect::observation::Observation;
use crate::error::Error;

/// The defect ledger: every failed attempt is an [`Observation`], grouped into [`Defect`]s
/// the team can annotate, mark fixed, merge and export. The
/// [defects guide](crate::guide::defects) shows them at work.
impl Store {
    /// Every defect in the ledger, oldest first. Defects merged into another are not listed.
    pub fn defects(&self) -> Result<Vec<Defect>, Error> {
        self.ledger().defects()
    }

    /// The defect `id`, or the one it was merged into; `None` if there is no such defect.
    pub fn defect(&self, id: DefectId) -> Result<Option<Defect>, Error> {
        self.ledger().defect(id)
    }

    /// The observations of a defect, in the order they failed.
    pub fn observations(&self, defect: DefectId) -> Result<Vec<Observation>, Error> {
        self.ledger()
            .observations(defect)?
            .ok_or_else(|| no_defect(defect))
    }

    /// Marks a defect fixed, recording who did and when ([`Defect::decisions`]). If it is
    /// observed again it reopens, flagged regressed.
    pub fn mark_fixed(&self, id: DefectId) -> Result<(), Error> {
        self.set_status(id, DefectStatus::Fixed)
    }

    /// Marks a defect mitigated: worked around, its cause still there. Recorded like
    /// [`mark_fixed`](Store::mark_fixed).
    pub fn mark_mitigated(&self, id: DefectId) -> Result<(), Error> {
        self.set_status(id, DefectStatus::Mitigated)
    }

    fn set_status(&self, id: DefectId, status: DefectStatus) -> Result<(), Error> {
        found(self.ledger().set_status(id, status, &person())?, id)
    }

    /// Adds a note to a defect: how to identify or remedy it, or what to look at next time;
    /// it records who added it ([`Note::added_by`](crate::Note::added_by)) and when.
    pub fn add_note(&self, id: DefectId, kind: NoteKind, text: &str) -> Result<(), Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::usage("a note needs some text"));
        }
        found(self.ledger().add_note(id, kind, text, &person())?, id)
    }

    /// Records a person's judgement that `from` is the same defect as `into`: `from`'s
    /// observations, signatures and notes join `into`, later failures with `from`'s
    /// signature count for `into`, and `from`'s id leads to `into`. `into` keeps its title
    /// and status, and is regressed if either was. The merge is one of `into`'s
    /// [decisions](Defect::decisions), with who merged and when.
    pub fn merge(&self, into: DefectId, from: DefectId) -> Result<(), Error> {
        let missing = self.ledger().merge(into, from, &person())?;
        missing.map_or(Ok(()), |id| Err(no_defect(id)))
    }

    /// A ticket body for the defect: title, summary table, timeline of observations,
    /// evidence and notes.
    pub fn export(&self, id: DefectId, format: ExportFormat) -> Result<String, Error> {
        let (defect, observations) = self.ledger().ticket(id)?.ok_or_else(|| no_defect(id))?;
        Ok(match format {
            ExportFormat::Markdown => export::markdown(&defect, &observations),
            ExportFormat::Json => export_json::json(&defect, &observations),
        })
    }
}

/// Who is changing the ledger: the user name the process runs as (`USER`, `LOGNAME` or
/// `USERNAME`), or `unknown`.
fn person() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(std::env::var_os)
        .map(|name| name.to_string_lossy().trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn found(exists: bool, id: DefectId) -> Result<(), Error> {
    if exists { Ok(()) } else { Err(no_defect(id)) }
}

fn no_defect(id: DefectId) -> Error {
    Error::usage(format!(
        "there is no defect {id} in this store; `Store::defects` lists them"
    ))
}
