//! Cleaning up after runs: [`Runner::clean`] undoes a workflow's effects, and
//! [`Runner::clean_plan`] says what it would undo, in the same order, touching nothing.

use super::Runner;
use crate::clean::{self, Selection, Undo};
use crate::cleaned::Cleaned;
use crate::error::Error;
use crate::execution::Execution;
use crate::execution::run_id::RunId;
use crate::graph::Graph;
use crate::workflow::Workflow;

impl<'s> Runner<'s> {
    /// Undoes a workflow's effects in this profile: for every station that has a record,
    /// from the last to the first, records what is about to be destroyed, calls its clean
    /// function (if it has one), then removes its record and directory. Stops at the first
    /// clean function that fails, leaving the stations before it intact; the error says what
    /// was and was not cleaned. [`Cleaned`] has an example; [`clean_plan`](Runner::clean_plan)
    /// says what it would undo first.
    pub fn clean<W: Workflow>(&self, workflow: W) -> Result<Cleaned, Error> {
        let mut graph = Graph::new();
        workflow.build(&mut graph)?;
        self.clean_graph(&graph)
    }

    /// [`clean`](Runner::clean) for a graph built with the builder API.
    pub fn clean_graph(&self, graph: &Graph) -> Result<Cleaned, Error> {
        let settings = self.settings(RunId::default());
        let execution = Execution::new(graph, self.store, &settings)?;
        clean::clean(&execution)
    }

    /// What [`clean`](Runner::clean) would undo in this profile, in the order it would (the
    /// last station first, a map's items before the map), without calling a clean function
    /// or writing anything: a preview to show, or to ask about, before cleaning. [`Undo`]
    /// has an example.
    pub fn clean_plan<W: Workflow>(&self, workflow: W) -> Result<Vec<Undo>, Error> {
        let mut graph = Graph::new();
        workflow.build(&mut graph)?;
        self.clean_plan_graph(&graph)
    }

    /// [`clean_plan`](Runner::clean_plan) for a graph built with the builder API.
    pub fn clean_plan_graph(&self, graph: &Graph) -> Result<Vec<Undo>, Error> {
        let settings = self.settings(RunId::default());
        let execution = Execution::new(graph, self.store, &settings)?;
        let targets = clean::targets(&execution, &Selection::All)?;
        Ok(clean::plan(&execution, &targets))
    }
}
