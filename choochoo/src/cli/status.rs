//! Where each station stands: cached (its result is in the store and still valid), stale
//! (it will run again, and why), drifted (with `--check`: its check found the world changed),
//! never run, or failed (its last attempt failed, or with `--check` its check cannot tell),
//! with when it last ran. Found the way `plan` finds it, so it reads and writes nothing
//! else. The items of a map whose list is known stand the same way; they are counted in one
//! line under their map, or listed one by one with `--items`. Under a station's line, what it
//! warned of the last time it ran (under a map's line, its items').

use super::{Session, say};
use crate::clock;
use crate::error::Error;
use crate::plan::{Action, Planned};
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
    Drifted(String),
    NeverRun,
    Failed(String),
}

impl State {
    fn word(&self) -> &'static str {
        match self {
            State::Cached => "cached",
            State::Stale(_) => "stale",
            State::Drifted(_) => "drifted",
            State::NeverRun => "never run",
            State::Failed(_) => "failed",
        }
    }
}

pub(super) fn show<W, F>(s: &Session<'_, F>, items: bool, check: bool) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let store = s.store()?;
    let profile = &s.args.profile;
    super::interrupted::say_since_last_run(&store, profile)?;
    let (_, graph) = s.graph()?;
    let runner = s.runner(&store);
    let plan = match check {
        true => runner.plan_graph_checked(&graph)?,
        false => runner.plan_graph(&graph)?,
    };
    let executed = store.last_entries(profile, true)?;
    let warned = store.last_warnings(profile)?;
    let latest = store.last_entries(profile, false)?;
    let heads = store.nodes_with_results(profile)?;
    let now = SystemTime::now();
    // The STATION column fits every name shown: with `--items` the items', else each map's
    // collapsed line, `map[…]`.
    let width = plan
        .entries()
        .iter()
        .map(|p| match crate::report::split_item(p.node()) {
            Some((map, _)) if !items => map.chars().count() + 3,
            _ => p.node().chars().count(),
        })
        .max()
        .unwrap_or(0)
        .max(7);
    say(format_args!(
        "{:<9}  {:<width$}  LAST RUN",
        "STATE", "STATION"
    ));
    let (mut stations, mut all_items) = (Counts::default(), Counts::default());
    // The items of the map being listed, collapsed into one line unless `--items` (their
    // warnings follow it).
    let mut collapsed: Option<(&str, Counts)> = None;
    let mut hidden = Vec::new();
    for planned in plan.entries() {
        let last = executed.get(planned.node());
        let state = match latest.get(planned.node()) {
            // Its check failed in the last run that looked at it, and was not asked since.
            Some(latest) if planned.has_check && !check && latest.status == Status::Failed => {
                State::Failed(latest.error.clone().unwrap_or_default())
            }
            _ => state_of(planned, last, heads.contains(planned.node())),
        };
        let line = || {
            say(format_args!(
                "{:<9}  {:<width$}  {}",
                state.word(),
                planned.node(),
                describe(&state, last, now)
            ));
            super::warnings::under(WARNING_INDENT, &warned, &[planned.node()]);
        };
        if let Some((map, _)) = crate::report::split_item(planned.node()) {
            all_items.add(state.word());
            if !items {
                hidden.push(planned.node());
            }
            match &mut collapsed {
                _ if items => line(),
                Some((_, counts)) => counts.add(state.word()),
                None => collapsed = Some((map, Counts::one(state.word()))),
            }
            continue;
        }
        say_collapsed(collapsed.take(), width);
        super::warnings::under(WARNING_INDENT, &warned, &std::mem::take(&mut hidden));
        stations.add(state.word());
        line();
    }
    say_collapsed(collapsed, width);
    super::warnings::under(WARNING_INDENT, &warned, &hidden);
    let mut summary = format!("{} stations: {}", stations.total(), stations);
    if all_items.total() > 0 {
        summary.push_str(&format!("; {} items: {all_items}", all_items.total()));
    }
    say(summary);
    Ok(ExitCode::SUCCESS)
}

/// Warnings are indented past the STATE column.
const WARNING_INDENT: usize = 11;

/// Where a station or item stands, from the plan, its last execution and whether the store
/// has a result for it.
fn state_of(planned: &Planned, last: Option<&LastEntry>, has_result: bool) -> State {
    let reason = planned.reason().unwrap_or("it will run").to_owned();
    match (planned.action(), last) {
        (Action::Cached, _) => State::Cached,
        (Action::Unknown, _) => State::Failed(reason),
        (Action::Run, _) if planned.drifted() => State::Drifted(reason),
        (_, Some(last)) if last.status == Status::Failed => {
            State::Failed(last.error.clone().unwrap_or_default())
        }
        (_, None) if !has_result => State::NeverRun,
        _ => State::Stale(reason),
    }
}

/// A map's items in one line: `items  build.objects[…]  34 items: 1 stale, 33 cached`.
fn say_collapsed(collapsed: Option<(&str, Counts)>, width: usize) {
    if let Some((map, counts)) = collapsed {
        say(format_args!(
            "{:<9}  {:<width$}  {} items: {counts} (`status --items` lists them)",
            "items",
            format!("{map}[…]"),
            counts.total()
        ));
    }
}

/// How many stations (or items) are in each state, in the order the states were met.
#[derive(Default)]
struct Counts(Vec<(&'static str, usize)>);

impl Counts {
    fn one(word: &'static str) -> Counts {
        Counts(vec![(word, 1)])
    }

    fn add(&mut self, word: &'static str) {
        match self.0.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => self.0.push((word, 1)),
        }
    }

    fn total(&self) -> usize {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let counts: Vec<String> = self
            .0
            .iter()
            .map(|(word, n)| format!("{n} {word}"))
            .collect();
        f.write_str(&counts.join(", "))
    }
}

/// The LAST RUN column: when the station last ran, and what makes its state.
fn describe(state: &State, last: Option<&LastEntry>, now: SystemTime) -> String {
    let when = last.map(|last| {
        let mut when = format!("{} {}", last.status, clock::ago(last.at, now));
        if last.status == Status::Ran {
            when.push_str(&format!(", took {}", clock::duration(last.duration)));
        }
        if let Some(worker) = &last.ran_on {
            when.push_str(&format!(", on {worker}"));
        }
        when
    });
    match (state, when) {
        (State::Failed(error), Some(when)) => format!("{when}: {}", first_line(error)),
        (State::Stale(reason) | State::Drifted(reason), Some(when)) => {
            format!("{when}; runs again: {reason}")
        }
        (State::Stale(reason) | State::Drifted(reason), None) => format!("runs again: {reason}"),
        (State::Failed(error), None) => first_line(error).to_owned(),
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
