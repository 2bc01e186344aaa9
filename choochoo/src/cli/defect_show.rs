//! `defects show ID`: one defect's figures, notes and decisions, then its latest events:
//! each run it was seen in, with the stations that failed in it and their evidence.

use super::defects::status;
use super::say;
use crate::clock;
use crate::defect::export::unknown_pace;
use crate::defect::model::{Defect, DefectId};
use crate::defect::observation::Observation;
use crate::error::Error;
use crate::store::Store;

/// How many of a defect's latest events `show` prints, of each event's observations, and
/// of their log lines.
const EVENTS_SHOWN: usize = 3;
const OBSERVATIONS_SHOWN: usize = 3;
const LOG_LINES_SHOWN: usize = 10;
/// How many of an event's nodes its heading names.
const NODES_NAMED: usize = 5;

pub(super) fn show(store: &Store, id: DefectId) -> Result<(), Error> {
    let defect = store.defect(id)?.ok_or_else(|| {
        Error::usage(format!(
            "there is no defect {id} in this store; `defects list` lists them"
        ))
    })?;
    summary(&defect);
    let observations = store.observations(defect.id())?;
    let events = events(&observations);
    for event in events.iter().rev().take(EVENTS_SHOWN) {
        show_event(event);
    }
    Ok(())
}

fn summary(d: &Defect) {
    say(format_args!("defect {}: {}", d.id(), d.title()));
    let unknown = || unknown_pace(d);
    let rows = [
        ("status", status(d)),
        ("seen", seen(d)),
        ("first seen", clock::utc(d.first_seen())),
        ("last seen", clock::utc(d.last_seen())),
        (
            "every",
            d.mean_interval().map_or_else(unknown, clock::duration),
        ),
        (
            "next expected",
            d.next_expected().map_or_else(unknown, clock::utc),
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
    for decision in d.decisions() {
        say(format_args!(
            "  {} by {} at {}",
            decision.what(),
            decision.by(),
            clock::utc(decision.at())
        ));
    }
}

/// `2 times, last in run 5 (6 observations, 1 recovered)`: runs, and observations when
/// they are more.
fn seen(d: &Defect) -> String {
    let mut seen = format!("{}, last in run {}", times(d.runs_seen()), d.last_run());
    let mut parts = Vec::new();
    if d.count() != d.runs_seen() {
        parts.push(format!("{} observations", d.count()));
    }
    if d.recovered() > 0 {
        parts.push(format!("{} recovered", d.recovered()));
    }
    if !parts.is_empty() {
        seen.push_str(&format!(" ({})", parts.join(", ")));
    }
    seen
}

/// The observations of one run: one event.
struct Event<'a> {
    run: i64,
    observations: Vec<&'a Observation>,
}

/// The observations grouped by run, in the order the runs first failed.
fn events(observations: &[Observation]) -> Vec<Event<'_>> {
    let mut events: Vec<Event<'_>> = Vec::new();
    for o in observations {
        match events.iter_mut().find(|event| event.run == o.run()) {
            Some(event) => event.observations.push(o),
            None => events.push(Event {
                run: o.run(),
                observations: vec![o],
            }),
        }
    }
    events
}

fn show_event(event: &Event<'_>) {
    let first = event.observations[0];
    let nodes: Vec<&str> = event.observations.iter().map(|o| o.node()).collect();
    let mut heading = format!("on {}", first.instance());
    if nodes.len() > 1 {
        let mut named = nodes[..nodes.len().min(NODES_NAMED)].join(", ");
        if nodes.len() > NODES_NAMED {
            named.push_str(", …");
        }
        heading.push_str(&format!(" · {} failed alike: {named}", nodes.len()));
    }
    say(format_args!(
        "\nrun {} · {} · {heading}",
        event.run,
        clock::utc(first.finished())
    ));
    for o in event.observations.iter().take(OBSERVATIONS_SHOWN) {
        observation(o);
    }
    let more = event.observations.len().saturating_sub(OBSERVATIONS_SHOWN);
    if more > 0 {
        say(format_args!(
            "  and {more} more observations of this run: `defects export` has them all"
        ));
    }
}

fn observation(o: &Observation) {
    let mut heading = format!("  observation {} · {}", o.id(), o.node());
    if o.attempts() > 1 || o.recovered() {
        heading.push_str(&format!(" · {} attempts", o.attempts()));
    }
    if o.recovered() {
        heading.push_str(&format!(", recovered on attempt {}", o.attempts()));
    }
    say(heading);
    for (depth, cause) in o.chain().iter().enumerate() {
        let lead = if depth == 0 {
            "error: "
        } else {
            "  caused by: "
        };
        say(format_args!("    {lead}{cause}"));
    }
    if let Some(panic) = o.panic() {
        say(format_args!("    panic: {panic}"));
    }
    let tail = o.log_tail();
    if !tail.is_empty() {
        say(format_args!("    last lines it logged:"));
        for line in &tail[tail.len().saturating_sub(LOG_LINES_SHOWN)..] {
            say(format_args!("      | {line}"));
        }
    }
    if let Some(dir) = o.kept_dir() {
        say(format_args!("    kept: {}", dir.display()));
    }
    for later in o.failed_attempts().iter().skip(1) {
        let same = later.message() == o.message();
        let message = if same {
            "the same error"
        } else {
            later.message()
        };
        say(format_args!("    attempt {}: {message}", later.attempt()));
        if let Some(dir) = later.kept_dir() {
            say(format_args!("      kept: {}", dir.display()));
        }
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
