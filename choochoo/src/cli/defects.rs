//! The `defects` command: the recurring failures of this store, for the people on call:
//! the list, and what a person does with a defect (note, fix, merge, export); `show` is
//! `defect_show.rs`.

use super::args::{DefectsAction, ExportAs};
use super::defect_show::show;
use super::{Session, say};
use crate::clock;
use crate::defect::export::ExportFormat;
use crate::defect::model::{Defect, DefectId, NoteKind};
use crate::error::Error;
use crate::store::Store;
use std::process::ExitCode;
use std::time::SystemTime;

pub(super) fn run<F>(
    s: &Session<'_, F>,
    action: Option<&DefectsAction>,
) -> Result<ExitCode, Error> {
    let store = s.store()?;
    match action.unwrap_or(&DefectsAction::List) {
        DefectsAction::List => list(&store)?,
        DefectsAction::Show { id } => show(&store, *id)?,
        DefectsAction::Note {
            id,
            remedy,
            next_steps,
        } => {
            let notes = [
                (NoteKind::Remedy, remedy),
                (NoteKind::NextSteps, next_steps),
            ];
            for (kind, text) in notes {
                if let Some(text) = text {
                    store.add_note(*id, kind, text)?;
                    say(format_args!("added to {id}: {kind}"));
                }
            }
        }
        DefectsAction::Fix { id } => {
            store.mark_fixed(*id)?;
            say(format_args!(
                "{id} is marked fixed; if it is seen again, it reopens as regressed"
            ));
        }
        DefectsAction::Merge { into, from } => merge(&store, *into, *from)?,
        DefectsAction::Export { id, format } => {
            let format = match format {
                ExportAs::Md => ExportFormat::Markdown,
                ExportAs::Json => ExportFormat::Json,
            };
            say(store.export(*id, format)?.trim_end());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(store: &Store) -> Result<(), Error> {
    let mut defects = store.defects()?;
    if defects.is_empty() {
        say("no defects: no station has failed with this store");
        return Ok(());
    }
    defects.sort_by_key(|d| std::cmp::Reverse(d.last_seen()));
    let now = SystemTime::now();
    let width = |column: &dyn Fn(&Defect) -> String, title: &str| {
        defects
            .iter()
            .map(|d| column(d).chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (status_width, stations_width) = (
        width(&status, "STATUS"),
        width(&|d| d.stations().join(", "), "STATIONS"),
    );
    say(format_args!(
        "{:<7} {:<status_width$} {:>5}  {:<9} {:<stations_width$}  TITLE",
        "DEFECT", "STATUS", "SEEN", "LAST", "STATIONS"
    ));
    for d in &defects {
        say(format_args!(
            "{:<7} {:<status_width$} {:>5}  {:<9} {:<stations_width$}  {}",
            d.id().to_string(),
            status(d),
            format!("{}×", d.runs_seen()),
            clock::ago(d.last_seen(), now),
            d.stations().join(", "),
            d.title()
        ));
    }
    Ok(())
}

/// `open`, `fixed`, `open, regressed`, `open, quiet since run 7`.
pub(super) fn status(defect: &Defect) -> String {
    let mut status = defect.status().to_string();
    if defect.regressed() {
        status.push_str(", regressed");
    }
    if let Some(run) = defect.quiet_since() {
        status.push_str(&format!(", quiet since run {run}"));
    }
    status
}

/// Merges `from` into `into`, and says what became of it.
fn merge(store: &Store, into: DefectId, from: DefectId) -> Result<(), Error> {
    if into == from {
        return Err(Error::usage(format!(
            "cannot merge {into} into itself; name two defects, as `defects list` shows them"
        )));
    }
    store.merge(into, from)?;
    let merged = store
        .defect(into)?
        .ok_or_else(|| Error::internal(format!("defect {into} is gone right after the merge")))?;
    say(format_args!(
        "{from} is merged into {}: {} observations in {} runs, {} signatures; \
         later failures like {from}'s count for {}",
        merged.id(),
        merged.count(),
        merged.runs_seen(),
        merged.signatures().len(),
        merged.id()
    ));
    Ok(())
}
