//! Plans: what a run would do, found without running or writing anything. Each station is
//! cached (its key is in the store and everything it names is intact), will run (and why),
//! or may run (an upstream station will run; whether this one does depends on that output).
//! A map whose list is known before it runs (a constant, or the output of a station found
//! in the store) is followed by its items, each cached or to run.

use crate::execution::Execution;
use crate::execution::decide::Verdict;
use crate::graph::Kind;
use crate::graph::edge::Edge;
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

    /// Why: `no record`, `input `doc` changed`, `after `text``, `forced`, …
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
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
        let count =
            |entries: &[&Planned], action| entries.iter().filter(|e| e.action == action).count();
        write!(
            f,
            "{} stations: {} to run, {} may run, {} cached",
            stations.len(),
            count(&stations, Action::Run),
            count(&stations, Action::MayRun),
            count(&stations, Action::Cached)
        )?;
        if !items.is_empty() {
            write!(
                f,
                "; {} items: {} to run, {} cached",
                items.len(),
                count(&items, Action::Run),
                count(&items, Action::Cached)
            )?;
        }
        Ok(())
    }
}

/// Walks the graph in order (every node comes after its inputs), deciding each station from
/// what is known of its inputs.
pub(crate) fn plan(execution: &Execution<'_>) -> Plan {
    let graph = execution.graph;
    let mut actions: Vec<Option<Action>> = vec![None; graph.nodes.len()];
    let mut entries = Vec::new();
    for (id, node) in graph.ids().zip(&graph.nodes) {
        let Kind::Station { station, inputs } = &node.kind else {
            continue;
        };
        let (action, reason) = decide(execution, id, station.as_ref(), inputs, &actions);
        actions[id.index()] = Some(action);
        entries.push(Planned {
            id: station.id(),
            name: station.name(),
            label: node.label.clone(),
            node: execution.paths[id.index()].clone(),
            action,
            reason,
        });
        if node.map.is_some() && action != Action::MayRun {
            entries.extend(items(execution, id, station.as_ref(), action));
        }
    }
    Plan { entries }
}

/// The lines of a map's items, when its list is known: each cached, or to run and why.
fn items(
    execution: &Execution<'_>,
    id: NodeId,
    station: &dyn crate::graph::erased::ErasedStation,
    action: Action,
) -> Vec<Planned> {
    let verdicts = execution
        .item_verdicts(id, action == Action::Cached)
        .unwrap_or_default();
    let shown = execution.shown(id);
    verdicts
        .into_iter()
        .map(|(node, runs)| {
            let label =
                crate::report::split_item(&node).map(|(_, item)| format!("{shown}[{item}]"));
            let (action, reason) = match runs {
                Some(reason) => (Action::Run, Some(reason)),
                None if station.has_check() => {
                    (Action::Cached, Some("if its check still holds".to_owned()))
                }
                None => (Action::Cached, None),
            };
            Planned {
                id: station.id(),
                name: station.name(),
                label: label.map(String::into_boxed_str),
                node,
                action,
                reason,
            }
        })
        .collect()
}

/// One station's line: the run's own rule ([`Execution::verdict`]), with what a plan cannot
/// know yet — the output of a station upstream that will run — as "may run".
fn decide(
    execution: &Execution<'_>,
    id: NodeId,
    station: &dyn crate::graph::erased::ErasedStation,
    inputs: &[Edge],
    actions: &[Option<Action>],
) -> (Action, Option<String>) {
    // A forced station runs whatever its inputs are, known or not.
    if let Some(reason) = execution.forced_reason(id) {
        return (Action::Run, Some(reason));
    }
    let running = inputs
        .iter()
        .flat_map(Edge::sources)
        .find(|source| matches!(actions[source.index()], Some(Action::Run | Action::MayRun)));
    if let Some(source) = running {
        return (
            Action::MayRun,
            Some(format!(
                "after `{}`",
                execution
                    .graph
                    .node(*source)
                    .label
                    .as_deref()
                    .unwrap_or(&execution.paths[source.index()])
            )),
        );
    }
    let head = match execution.head(id, station, inputs) {
        Ok(head) => head,
        Err(error) => {
            return (
                Action::Run,
                Some(format!(
                    "its inputs cannot be read: {}",
                    crate::error::chain(&error)
                )),
            );
        }
    };
    match execution.verdict(id, &head.key) {
        Verdict::Found(found) => {
            // Its remembered output is what the stations after it would read.
            execution.adopt(id, found);
            let reason = station
                .has_check()
                .then(|| "if its check still holds".to_owned());
            (Action::Cached, reason)
        }
        Verdict::Runs(reason) => (Action::Run, Some(reason)),
        Verdict::Missing => (Action::Run, Some(execution.reason(id, station, &head))),
    }
}
