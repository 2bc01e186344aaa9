//! The `defects` command: the recurring failures of this store, for the people on call.

use super::args::{DefectsAction, ExportAs};
use super::{Session, say};
use crate::clock;
use crate::defect::export::ExportFormat;
use crate::defect::model::{Defect, DefectId, NoteKind, Observation};
use crate::error::Error;
use crate::store::Store;
use std::process::ExitCode;
use std::time::SystemTime;

/// How many of a defect's latest observations `show` prints, and of their log lines.
const OBSERVATIONS_SHOWN: usize = 3;
const LOG_LINES_SHOWN: usize = 10;

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
            format!("{}×", d.count()),
            clock::ago(d.last_seen(), now),
            d.stations().join(", "),
            d.title()
        ));
    }
    Ok(())
}

/// `open`, `fixed`, `open, regressed`.
fn status(defect: &Defect) -> String {
    if defect.regressed() {
        format!("{}, regressed", defect.status())
    } else {
        defect.status().to_string()
    }
}

/// `once`, `3 times`.
fn times(n: u64) -> String {
    match n {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    }
}

/// `1 station`, `3 stations`.
fn stations(n: u64) -> String {
    match n {
        1 => "1 station".to_owned(),
        n => format!("{n} stations"),
    }
}

fn show(store: &Store, id: DefectId) -> Result<(), Error> {
    let defect = store.defect(id)?.ok_or_else(|| {
        Error::usage(format!(
            "there is no defect {id} in this store; `defects list` lists them"
        ))
    })?;
    let d = &defect;
    say(format_args!("defect {}: {}", d.id(), d.title()));
    let once = || "unknown (seen once)".to_owned();
    let rows = [
        ("status", status(d)),
        ("seen", times(d.count())),
        ("first seen", clock::utc(d.first_seen())),
        ("last seen", clock::utc(d.last_seen())),
        (
            "every",
            d.mean_interval().map_or_else(once, clock::duration),
        ),
        (
            "next expected",
            d.next_expected().map_or_else(once, clock::utc),
        ),
        ("stations", d.stations().join(", ")),
        ("instances", d.instances().join(", ")),
        (
            "impact",
            format!(
                "{} blocked, {} lost",
                stations(d.blocked()),
                clock::duration(d.time_lost())
            ),
        ),
    ];
    for (name, value) in rows {
        say(format_args!("  {name:<14} {value}"));
    }
    for note in d.notes() {
        say(format_args!("  {}: {}", note.kind(), note.text()));
    }
    let observations = store.observations(d.id())?;
    let latest = observations.iter().rev().take(OBSERVATIONS_SHOWN);
    for o in latest {
        observation(o);
    }
    Ok(())
}

fn observation(o: &Observation) {
    say(format_args!(
        "\nobservation {} · {} · run {} · {} on {}",
        o.id(),
        clock::utc(o.finished()),
        o.run(),
        o.node(),
        o.instance()
    ));
    for (depth, cause) in o.chain().iter().enumerate() {
        say(format_args!(
            "  {}{cause}",
            if depth == 0 {
                "error: "
            } else {
                "  caused by: "
            }
        ));
    }
    if let Some(panic) = o.panic() {
        say(format_args!("  panic: {panic}"));
    }
    let tail = o.log_tail();
    if !tail.is_empty() {
        say(format_args!("  last lines it logged:"));
        for line in &tail[tail.len().saturating_sub(LOG_LINES_SHOWN)..] {
            say(format_args!("    | {line}"));
        }
    }
    if let Some(dir) = o.kept_dir() {
        say(format_args!("  kept: {}", dir.display()));
    }
}
