//! Where each station stands: cached (its result is in the store and still valid), stale
//! (it will run again, and why), never run, or failed (its last attempt failed), with when
//! it last ran. Found the way `plan` finds it, so it reads and writes nothing else.

use super::{Session, say};
use crate::clock;
use crate::error::Error;
use crate::plan::Action;
use crate::report::Status;
use crate::store::Store;
use crate::store::runs::LastEntry;
use crate::workflow::Workflow;
use std::process::ExitCode;
use std::time::SystemTime;

/// A station's state, and what says so.
enum State {
    Cached,
    Stale(String),
    NeverRun,
    Failed(String),
}

impl State {
    fn word(&self) -> &'static str {
        match self {
            State::Cached => "cached",
            State::Stale(_) => "stale",
            State::NeverRun => "never run",
            State::Failed(_) => "failed",
        }
    }
}

pub(super) fn show<W, F>(s: &Session<'_, F>) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let store = s.store()?;
    let profile = &s.args.profile;
    let (_, graph) = s.graph()?;
    let plan = s.runner(&store).plan_graph(&graph)?;
    let executed = store.last_entries(profile, true)?;
    let heads = store.nodes_with_results(profile)?;
    let now = SystemTime::now();
    let width = plan
        .entries()
        .iter()
        .map(|p| p.node().len())
        .max()
        .unwrap_or(0)
        .max(7);
    say(format_args!(
        "{:<9}  {:<width$}  LAST RUN",
        "STATE", "STATION"
    ));
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for planned in plan.entries() {
        let last = executed.get(planned.node());
        let reason = planned.reason().unwrap_or("it will run").to_owned();
        let state = match (planned.action(), last) {
            (Action::Cached, _) => State::Cached,
            (_, Some(last)) if last.status == Status::Failed => {
                State::Failed(last.error.clone().unwrap_or_default())
            }
            (_, None) if !heads.contains(planned.node()) => State::NeverRun,
            _ => State::Stale(reason),
        };
        say(format_args!(
            "{:<9}  {:<width$}  {}",
            state.word(),
            planned.node(),
            describe(&state, last, now)
        ));
        match counts.iter_mut().find(|(word, _)| *word == state.word()) {
            Some((_, n)) => *n += 1,
            None => counts.push((state.word(), 1)),
        }
    }
    let counts: Vec<String> = counts
        .iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect();
    say(format_args!(
        "{} stations: {}",
        plan.entries().len(),
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        }
    ));
    Ok(ExitCode::SUCCESS)
}

/// The LAST RUN column: when the station last ran, and what makes its state.
fn describe(state: &State, last: Option<&LastEntry>, now: SystemTime) -> String {
    let when = last.map(|last| {
        let mut when = format!("{} {}", last.status, clock::ago(last.at, now));
        if last.status == Status::Ran {
            when.push_str(&format!(", took {}", clock::duration(last.duration)));
        }
        when
    });
    match (state, when) {
        (State::Failed(error), Some(when)) => format!("{when}: {}", first_line(error)),
        (State::Stale(reason), Some(when)) => format!("{when}; runs again: {reason}"),
        (State::Stale(reason), None) => format!("runs again: {reason}"),
        (_, Some(when)) => when,
        (_, None) => "-".to_owned(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Each node's last status, for colouring the graph: the status of its last run entry;
/// cached when it has a result but no entry (it has only been cached since); `None` when
/// it never ran or its result was cleaned.
pub(super) fn last_statuses(
    store: &Store,
    profile: &str,
) -> Result<impl Fn(&str) -> Option<Status>, Error> {
    let last = store.last_entries(profile, false)?;
    let heads = store.nodes_with_results(profile)?;
    Ok(move |node: &str| match last.get(node) {
        Some(last) if last.status == Status::Ran && !heads.contains(node) => None,
        Some(last) => Some(last.status),
        None => heads.contains(node).then_some(Status::Cached),
    })
}
