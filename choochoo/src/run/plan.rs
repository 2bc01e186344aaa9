//! The plans a runner makes: what a run would do, without running or writing anything
//! ([`Runner::plan`]), and the same with every remembered station's check asked, to see
//! drift before acting on it ([`Runner::plan_checked`]).

use super::Runner;
use crate::error::Error;
use crate::execution::Execution;
use crate::execution::run_id::RunId;
use crate::graph::Graph;
use crate::plan::{self, Plan};
use crate::workflow::Workflow;

impl Runner<'_> {
    /// Says what a run would do, station by station, without running or writing anything:
    /// cached, will run (and why), or may run (after an upstream station that will run).
    /// No check is asked: a remembered station with a check is cached "if its check still
    /// holds" ([`plan_checked`](Runner::plan_checked) asks). [`Plan`] has an example.
    pub fn plan<W: Workflow>(&self, workflow: W) -> Result<Plan, Error> {
        let mut graph = Graph::new();
        workflow.build(&mut graph)?;
        self.plan_graph(&graph)
    }

    /// [`plan`](Runner::plan) for a graph built with the builder API.
    pub fn plan_graph(&self, graph: &Graph) -> Result<Plan, Error> {
        self.plan_with(graph, false, Vec::new())
    }

    /// [`plan`](Runner::plan), asking the check of every remembered station with one:
    /// drift is seen before anything acts on it. A drifted station is to run, with its
    /// check's reason (`check failed: drift: role shop is missing`;
    /// [`Planned::drifted`](crate::Planned::drifted)), and the stations after it may run; a
    /// check that errors makes its station [`Unknown`](crate::Action::Unknown). Each check is
    /// asked once, without retries, and nothing else is run or written — but the checks
    /// are the program's own code: a check must only look at the world, never change it.
    ///
    /// ```
    /// use choochoo::{station, workflow, Action, Runner, Store};
    /// use std::path::{Path, PathBuf};
    ///
    /// #[station(check = exists)]
    /// fn create(dir: &Path) -> std::io::Result<PathBuf> {
    ///     std::fs::create_dir_all(dir)?;
    ///     std::fs::write(dir.join("shop.db"), "tables")?;
    ///     Ok(dir.join("shop.db"))
    /// }
    ///
    /// fn exists(_dir: &Path, db: &Path) -> choochoo::Checked {
    ///     match db.exists() {
    ///         true => choochoo::Checked::Holds,
    ///         false => choochoo::Checked::drifted("the database is gone"),
    ///     }
    /// }
    ///
    /// #[station]
    /// fn connect(db: &PathBuf) -> String { format!("sqlite://{}", db.display()) }
    ///
    /// workflow! {
    ///     fn shop(dir: PathBuf) -> String {
    ///         let db = create(dir);
    ///         connect(db)
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::env::temp_dir().join(format!("choochoo-plan-checked-{}", std::process::id()));
    /// let store = Store::open(dir.join(".choochoo"))?;
    /// let runner = Runner::new(&store);
    /// let db = dir.join("data");
    /// runner.run(shop(db.clone()))?;
    /// std::fs::remove_file(db.join("shop.db"))?; // by hand
    ///
    /// // A plan without checks cannot see it; one with checks does.
    /// assert_eq!(runner.plan(shop(db.clone()))?.with_action(Action::Run).count(), 0);
    /// let plan = runner.plan_checked(shop(db.clone()))?;
    /// let actions: Vec<Action> = plan.entries().iter().map(|e| e.action()).collect();
    /// assert_eq!(actions, [Action::Run, Action::MayRun]);
    /// assert!(plan.entries()[0].drifted());
    /// assert_eq!(plan.entries()[0].reason(), Some("check failed: drift: the database is gone"));
    /// assert!(!db.join("shop.db").exists(), "a plan changes nothing");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn plan_checked<W: Workflow>(&self, workflow: W) -> Result<Plan, Error> {
        let mut graph = Graph::new();
        workflow.build(&mut graph)?;
        self.plan_graph_checked(&graph)
    }

    /// [`plan_checked`](Runner::plan_checked) for a graph built with the builder API.
    pub fn plan_graph_checked(&self, graph: &Graph) -> Result<Plan, Error> {
        self.plan_with(graph, true, Vec::new())
    }

    /// The plan of the stations of `graph` but those `outside` marks (by node index).
    pub(super) fn plan_with(
        &self,
        graph: &Graph,
        checks: bool,
        outside: Vec<bool>,
    ) -> Result<Plan, Error> {
        // A plan writes nothing: not even a store's first secret key.
        let settings = crate::execution::Settings {
            read_only: true,
            ..self.settings(RunId::default())
        };
        let mut execution = Execution::new(graph, self.store, &settings)?;
        execution.outside = outside;
        self.force_on(graph, &mut execution)?;
        // A plan's checks keep to the run's time limits, as a run's would.
        execution.overrides = self.overrides(graph, &execution)?;
        Ok(plan::plan(&execution, checks))
    }
}
