//! Plans: what a run would do, found without running or writing anything. Each station is
//! cached (its key is in the store and everything it names is intact), will run (and why),
//! or may run (an upstream station will run; whether this one does depends on that output).
//! A map whose list is known before it runs (a constant, or the output of a station found
//! in the store) is followed by its items, each cached or to run. A plan that asks checks
//! ([`Runner::plan_checked`](crate::Runner::plan_checked)) also asks each remembered
//! station's check, once: drifted (it runs, and its dependents may), holds, or cannot tell.

use crate::checked::Checked;
use crate::execution::Execution;
use crate::execution::decide::Verdict;
use crate::execution::item::ItemPlan;
use crate::graph::Kind;
use crate::graph::edge::Edge;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use std::fmt;

/// What a run would do with each station, from [`Runner::plan`](crate::Runner::plan).
///
/// It prints as one line per station and a summary.
///
/// ```
/// use choochoo::{station, workflow, Action, Runner, Store};
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(x: u64) -> u64 {
///         let y = double(x);
///         double(y)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-plan-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let runner = Runner::new(&store);
/// runner.run(twice(1))?;
///
/// let plan = runner.plan(twice(5))?;
/// let actions: Vec<Action> = plan.entries().iter().map(|e| e.action()).collect();
/// // `y`'s input changed; the output runs only if `y`'s output changes.
/// assert_eq!(actions, [Action::Run, Action::MayRun]);
/// assert_eq!(plan.entries()[0].reason(), Some("input `x` changed: 1 → 5"));
/// println!("{plan}");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Plan {
    entries: Vec<Planned>,
}

/// What a run would do with one station.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Its result is in the store; it will not run (a station with a check is asked first).
    Cached,
    /// It will run.
    Run,
    /// It runs if a station upstream of it, which will run, produces a different output.
    MayRun,
    /// Its check, asked by a plan that asks checks, could not tell whether its remembered
    /// result still holds (it returned an error or panicked; the reason says how). A run
    /// asks again, as often as the station's retries allow, and fails the station if the
    /// check still cannot tell.
    Unknown,
}

/// One station's line in a [`Plan`].
#[derive(Clone, Debug)]
pub struct Planned {
    id: &'static str,
    name: &'static str,
    label: Option<Box<str>>,
    node: Box<str>,
    action: Action,
    reason: Option<String>,
    drifted: bool,
    /// Whether its station has a check (asked or not).
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) has_check: bool,
}

impl Planned {
    /// The station's id.
    pub fn id(&self) -> &str {
        self.id
    }

    /// The station's human name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The binding name in `workflow!` or the name given to a builder node, if any; for
    /// an item of a map, `label[item]`.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// For an item of a map, the item's name ([`Entry::item`](crate::Entry::item)).
    pub fn item(&self) -> Option<&str> {
        crate::report::split_item(&self.node).map(|(_, item)| item)
    }

    /// The node's name in the store.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// What the run would do.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Why: `no record`, `input `doc` changed`, `after `text``, `forced`,
    /// `check failed: drift: role shop is missing`, …
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Whether its check, asked by a plan that asks checks
    /// ([`Runner::plan_checked`](crate::Runner::plan_checked)), found the world drifted from
    /// its remembered result: it runs again (its [`reason`](Planned::reason) says why), and
    /// the stations after it may.
    pub fn drifted(&self) -> bool {
        self.drifted
    }
}

/// One line of a plan, before it is named.
struct Line {
    action: Action,
    reason: Option<String>,
    drifted: bool,
}

impl Line {
    fn new(action: Action, reason: Option<String>) -> Line {
        Line {
            action,
            reason,
            drifted: false,
        }
    }
}

impl Plan {
    /// Every station, in the order they were added to the graph, each map followed by its
    /// items when its list is known.
    pub fn entries(&self) -> &[Planned] {
        &self.entries
    }

    /// The stations with `action`.
    pub fn with_action(&self, action: Action) -> impl Iterator<Item = &Planned> {
        self.entries
            .iter()
            .filter(move |entry| entry.action == action)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Cached => "cached",
            Action::Run => "run",
            Action::MayRun => "may run",
            Action::Unknown => "unknown",
        })
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for entry in &self.entries {
            write!(
                f,
                "{:>8}  {}",
                entry.action.to_string(),
                entry.label().unwrap_or(entry.name)
            )?;
            if let Some(reason) = &entry.reason {
                write!(f, ": {reason}")?;
            }
            writeln!(f)?;
        }
        let (items, stations): (Vec<&Planned>, Vec<&Planned>) = self
            .entries
            .iter()
            .partition(|entry| entry.item().is_some());
        write!(
            f,
            "{} stations: {}, {} may run, {} cached{}",
            stations.len(),
            to_run(&stations),
            count(&stations, Action::MayRun),
            count(&stations, Action::Cached),
            unknown(&stations)
        )?;
        if !items.is_empty() {
            write!(
                f,
                "; {} items: {}, {} cached{}",
                items.len(),
                to_run(&items),
                count(&items, Action::Cached),
                unknown(&items)
            )?;
        }
        Ok(())
    }
}

/// How many of `entries` do `action`.
fn count(entries: &[&Planned], action: Action) -> usize {
    entries.iter().filter(|e| e.action == action).count()
}

/// `2 to run`, or `2 to run (1 drifted)` when a check found drift.
fn to_run(entries: &[&Planned]) -> String {
    let run = count(entries, Action::Run);
    match entries.iter().filter(|e| e.drifted).count() {
        0 => format!("{run} to run"),
        drifted => format!("{run} to run ({drifted} drifted)"),
    }
}

/// `, 1 unknown` when a check could not tell, else nothing.
fn unknown(entries: &[&Planned]) -> String {
    match count(entries, Action::Unknown) {
        0 => String::new(),
        n => format!(", {n} unknown"),
    }
}

/// Walks the graph in order (every node comes after its inputs), deciding each station from
/// what is known of its inputs; with `checks`, asking the check of each remembered station.
pub(crate) fn plan(execution: &Execution<'_>, checks: bool) -> Plan {
    let graph = execution.graph;
    let mut actions: Vec<Option<Action>> = vec![None; graph.nodes.len()];
    let mut entries = Vec::new();
    for (id, node) in graph.ids().zip(&graph.nodes) {
        let Kind::Station { station, inputs } = &node.kind else {
            continue;
        };
        if execution.is_outside(id) {
            continue;
        }
        let mut line = decide(execution, id, station.as_ref(), inputs, &actions, checks);
        let items = match line.action {
            Action::MayRun => Vec::new(),
            action => items(execution, id, station.as_ref(), action, checks),
        };
        if line.action == Action::Cached
            && let Some(reason) = items_reason(&items)
        {
            line = reason;
        }
        actions[id.index()] = Some(line.action);
        entries.push(Planned {
            id: station.id(),
            name: station.name(),
            label: node.label.clone(),
            node: execution.paths[id.index()].into(),
            action: line.action,
            reason: line.reason,
            drifted: line.drifted,
            has_check: station.has_check(),
        });
        entries.extend(items);
    }
    Plan { entries }
}

/// The lines of a map's items, when its list is known: each cached, or to run and why.
fn items(
    execution: &Execution<'_>,
    id: NodeId,
    station: &dyn ErasedStation,
    action: Action,
    checks: bool,
) -> Vec<Planned> {
    let verdicts = execution
        .item_verdicts(id, action == Action::Cached, checks)
        .unwrap_or_default();
    let shown = execution.shown(id);
    verdicts
        .into_iter()
        .map(|(node, verdict)| {
            let label =
                crate::report::split_item(&node).map(|(_, item)| format!("{shown}[{item}]"));
            let line = match verdict {
                ItemPlan::Runs(reason) => Line::new(Action::Run, Some(reason)),
                ItemPlan::Found(said) => found(said, station.has_check()),
            };
            Planned {
                id: station.id(),
                name: station.name(),
                label: label.map(String::into_boxed_str),
                node,
                action: line.action,
                reason: line.reason,
                drifted: line.drifted,
                has_check: station.has_check(),
            }
        })
        .collect()
}

/// A map found in the store runs when a check found one of its items drifted (or cannot
/// tell whether one did): the line it then has, naming them.
fn items_reason(items: &[Planned]) -> Option<Line> {
    let names = |action| -> Vec<&str> {
        items
            .iter()
            .filter(|item| item.action == action)
            .filter_map(Planned::item)
            .collect()
    };
    let (drifted, unknown) = (names(Action::Run), names(Action::Unknown));
    let (action, names, verb) = match (drifted.is_empty(), unknown.is_empty()) {
        (true, true) => return None,
        (false, _) => (Action::Run, drifted, "found drift"),
        (true, false) => (Action::Unknown, unknown, "cannot tell"),
    };
    let reason = match names.as_slice() {
        [item] => format!("the check of item `{item}` {verb}"),
        items => format!("the checks of items `{}` {verb}", items.join("`, `")),
    };
    Some(Line {
        action,
        reason: Some(reason),
        drifted: action == Action::Run,
    })
}

/// The line of a remembered result, from what its check said when the plan asked it
/// (`None`: not asked).
fn found(said: Option<Result<Checked, String>>, has_check: bool) -> Line {
    match said {
        None if has_check => Line::new(Action::Cached, Some("if its check still holds".to_owned())),
        None => Line::new(Action::Cached, None),
        Some(Ok(Checked::Holds)) => Line::new(Action::Cached, Some("its check holds".to_owned())),
        Some(Ok(drifted)) => Line {
            action: Action::Run,
            reason: drifted.drift(),
            drifted: true,
        },
        Some(Err(message)) => Line::new(Action::Unknown, Some(message)),
    }
}

/// One station's line: the run's own rule ([`Execution::verdict`]), with what a plan cannot
/// know yet — the output of a station upstream that will run — as "may run".
fn decide(
    execution: &Execution<'_>,
    id: NodeId,
    station: &dyn ErasedStation,
    inputs: &[Edge],
    actions: &[Option<Action>],
    checks: bool,
) -> Line {
    // A forced station runs whatever its inputs are, known or not.
    if let Some(reason) = execution.forced_reason(id) {
        return Line::new(Action::Run, Some(reason));
    }
    let running = inputs.iter().flat_map(Edge::sources).find(|source| {
        matches!(
            actions[source.index()],
            Some(Action::Run | Action::MayRun | Action::Unknown)
        )
    });
    if let Some(source) = running {
        let shown = execution.shown(*source);
        return Line::new(Action::MayRun, Some(format!("after `{shown}`")));
    }
    let head = match execution.head(id, station, inputs) {
        Ok(head) => head,
        Err(error) => {
            let error = crate::error::chain(&error);
            return Line::new(
                Action::Run,
                Some(format!("its inputs cannot be read: {error}")),
            );
        }
    };
    match execution.verdict(id, &head.key) {
        Verdict::Found(found_record) => {
            // A map's check is its items': they are asked with the map's items.
            let asks = checks && station.has_check() && execution.graph.node(id).map().is_none();
            let said = asks.then(|| execution.plan_check(id, &found_record));
            let line = found(said, station.has_check());
            if line.action == Action::Cached {
                // Its remembered output is what the stations after it would read.
                execution.adopt(id, found_record);
            }
            line
        }
        Verdict::Runs(reason) => Line::new(Action::Run, Some(reason)),
        Verdict::Missing => Line::new(
            Action::Run,
            Some(execution.reason(id, station, &head).into_owned()),
        ),
    }
}
