//! Running only some targets: [`Runner::targets`] names stations, and a run or a plan then
//! reaches only them and what they need; every other station is left alone.

use super::Runner;
use crate::error::Error;
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use crate::plan::Plan;
use crate::report::Report;
use crate::select::matching;
use crate::workflow::Workflow;

/// A [`Runner`] told to run only some targets, from [`Runner::targets`]: the named stations
/// and everything upstream of them run (or come from the store) as in a whole run; every
/// other station is left alone: not run, not looked up, not blocked, not in the report.
///
/// Its runs give a [`Report`], not the workflow's output: the output's station may be one
/// of those left alone. A station of the targets' cone that fails makes the run an `Err`
/// carrying the report, as in a whole run; one outside it cannot, since it does not run.
/// [`Runner::targets`] has an example.
#[derive(Debug)]
pub struct Targets<'r, 's> {
    runner: &'r Runner<'s>,
    names: Vec<String>,
}

impl<'s> Runner<'s> {
    /// Runs (or plans) only the stations `names` name and what they need, leaving every
    /// other station alone. A name is a binding, a node name in the store, or a station's
    /// function name (every node of that station), as in [`force`](Runner::force); one
    /// that names no station is a usage error before anything runs, naming the closest
    /// names. No names at all: every station, as in [`run`](Runner::run).
    ///
    /// ```
    /// use choochoo::{station, workflow, Runner, Status, Store};
    ///
    /// #[station]
    /// fn build(app: &str) -> String { format!("{app}.tar") }
    ///
    /// #[station]
    /// fn test(bundle: &str) -> bool { !bundle.is_empty() }
    ///
    /// #[station]
    /// fn publish(bundle: &str, tested: &bool) -> String { format!("published {bundle} ({tested})") }
    ///
    /// workflow! {
    ///     fn release(app: String) -> String {
    ///         let bundle = build(app);
    ///         let tested = test(bundle);
    ///         publish(bundle, tested)
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let dir = std::env::temp_dir().join(format!("choochoo-targets-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let runner = Runner::new(&store);
    ///
    /// // Only the tests, and the build they need: nothing is published.
    /// let report = runner.targets(["tested"]).run(release("shop".to_owned()))?;
    /// let nodes: Vec<&str> = report.entries().iter().map(|e| e.label().unwrap()).collect();
    /// assert_eq!(nodes, ["bundle", "tested"]);
    /// assert_eq!(report.count(Status::Ran), 2);
    ///
    /// // A slip is a usage error that names the closest names.
    /// let error = runner.targets(["tsted"]).run(release("shop".to_owned())).unwrap_err();
    /// assert!(error.to_string().contains("did you mean `tested`?"), "{error}");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn targets<I, S>(&self, names: I) -> Targets<'_, 's>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Targets {
            runner: self,
            names: names.into_iter().map(Into::into).collect(),
        }
    }
}

impl Targets<'_, '_> {
    /// Builds the workflow and runs its targets: the report of the stations that were
    /// reached. A station failure is an `Err` whose [`report`](Error::report) says what
    /// ran, what failed and what was blocked.
    pub fn run<W: Workflow>(&self, workflow: W) -> Result<Report, Error> {
        let mut graph = Graph::new();
        let name = workflow.name().to_owned();
        workflow.build(&mut graph)?;
        self.run_named(&name, &graph)
    }

    /// [`run`](Targets::run) for a graph built with the builder API.
    pub fn run_graph(&self, graph: &Graph) -> Result<Report, Error> {
        self.run_named("graph", graph)
    }

    /// What a run of the targets would do, without running or writing anything, as
    /// [`Runner::plan`] says it; the stations left alone are not in it.
    pub fn plan<W: Workflow>(&self, workflow: W) -> Result<Plan, Error> {
        let mut graph = Graph::new();
        workflow.build(&mut graph)?;
        self.plan_graph(&graph)
    }

    /// [`plan`](Targets::plan) for a graph built with the builder API.
    pub fn plan_graph(&self, graph: &Graph) -> Result<Plan, Error> {
        let outside = self.outside(graph)?;
        self.runner.plan_with(graph, false, outside)
    }

    /// [`plan`](Targets::plan), asking the checks of the remembered stations it reaches, as
    /// [`Runner::plan_checked`] does.
    pub fn plan_graph_checked(&self, graph: &Graph) -> Result<Plan, Error> {
        let outside = self.outside(graph)?;
        self.runner.plan_with(graph, true, outside)
    }

    fn run_named(&self, workflow: &str, graph: &Graph) -> Result<Report, Error> {
        let outside = self.outside(graph)?;
        let (_, report) = self.runner.execute_nodes(workflow, graph, &[], outside)?;
        Ok(report)
    }

    /// The stations outside the targets' cone, by node index: all but the named ones and
    /// those upstream of them (none when no name is given).
    fn outside(&self, graph: &Graph) -> Result<Vec<bool>, Error> {
        if self.names.is_empty() {
            return Ok(Vec::new());
        }
        graph.check(&[])?;
        let paths = crate::execution::paths::node_paths(graph)?;
        let mut stack = Vec::new();
        for name in &self.names {
            if crate::report::split_item(name).is_some() {
                return Err(Error::usage(format!(
                    "`{name}` names an item of a map; a target is a station: name the map"
                )));
            }
            let ids = matching(graph, &paths, name)
                .map_err(|error| Error::usage(format!("cannot run the target: {error}")))?;
            stack.extend(ids);
        }
        Ok(cone(graph, stack)
            .into_iter()
            .map(|inside| !inside)
            .collect())
    }
}

/// The nodes `targets` need, by node index: themselves and everything upstream of them.
fn cone(graph: &Graph, mut stack: Vec<NodeId>) -> Vec<bool> {
    let mut inside = vec![false; graph.nodes.len()];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut inside[id.index()], true) {
            continue;
        }
        if let Kind::Station { inputs, .. } = &graph.node(id).kind {
            stack.extend(inputs.iter().flat_map(|edge| edge.sources()));
        }
    }
    inside
}
