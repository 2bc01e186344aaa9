//! What `run` prints of a failed run's failures, after its error: each failed station or
//! item with its kept directory and its defect, then what the failures blocked.

use crate::clock;
use crate::report::{Report, Status};
use crate::store::Store;

/// Each failed station with its kept directory and defect (and its error, past the first,
/// whose error the headline shows), then what it blocked.
pub(super) fn failures(store: &Store, report: &Report, program: &str) {
    // A live report names each failure's defect; one read back from the store does not.
    let ledger = std::cell::OnceCell::new();
    let mut told = std::collections::HashSet::new();
    for (i, entry) in report.with_status(Status::Failed).enumerate() {
        let took = clock::duration(entry.duration());
        match entry.error() {
            Some(error) if i > 0 => eprintln!(
                "  {} failed after {took}: {}",
                entry.node(),
                crate::report::indented(error, "    ")
            ),
            _ => eprintln!("  {} failed after {took}", entry.node()),
        }
        if let Some(dir) = entry.kept_dir() {
            eprintln!("    its directory was kept: {}", dir.display());
        }
        let defect = entry.defect().cloned().or_else(|| {
            let ledger = ledger
                .get_or_init(|| crate::html::ledger(store, report.run_id()).ok())
                .as_ref()?;
            let observation = ledger
                .observations
                .iter()
                .rev()
                .find(|o| o.node() == entry.node())?;
            ledger
                .defects
                .iter()
                .find(|d| d.id() == observation.defect())
                .cloned()
        });
        match defect {
            // The stations of one event tell one story.
            Some(defect) if !told.insert(defect.id()) => {
                eprintln!("    defect {}, as above", defect.id());
            }
            Some(defect) => known_defect(&defect, program),
            None => {}
        }
    }
    let entries = report.entries();
    for (at, entry) in entries.iter().enumerate() {
        if entry.status() != Status::Blocked || entry.item().is_some() {
            continue;
        }
        // A blocked map's items are blocked with it: counted on its line.
        let items = entries[at + 1..]
            .iter()
            .take_while(|e| e.item().is_some())
            .count();
        match items {
            0 => eprintln!("  {} was blocked", entry.node()),
            1 => eprintln!("  {} was blocked, with its item", entry.node()),
            n => eprintln!("  {} was blocked, with its {n} items", entry.node()),
        }
    }
    let skipped = report.count(Status::Skipped);
    if skipped > 0 {
        eprintln!(
            "  {skipped} stations were skipped: the run stopped at the failure (--keep-going goes on)"
        );
    }
}

/// Which defect a failure is, how well known, and what the team noted to remedy it.
fn known_defect(defect: &crate::defect::model::Defect, program: &str) {
    // Counted in runs: the stations of one event and the retries of one station are one.
    let mut known = match defect.runs_seen() {
        0 | 1 => "new".to_owned(),
        n => format!("{}, seen {n} times", defect.status()),
    };
    if defect.regressed() {
        known.push_str(", came back after it was marked fixed");
    }
    eprintln!(
        "    defect {} ({known}): {program} defects show {}",
        defect.id(),
        defect.id().to_string().trim_start_matches('#'),
    );
    for note in defect.notes() {
        eprintln!("    {}: {}", note.kind(), note.text());
    }
}
