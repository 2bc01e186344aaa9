//! One run of a graph: recorded in the store, its names and options resolved, the stations
//! the store has settled on the calling thread, the rest on the pool, and the report kept.

use super::{Run, Runner};
use crate::error::Error;
use crate::execution::ahead::LOOK_AHEAD_BELOW;
use crate::execution::finish::Finished;
use crate::execution::paths::{Names, names};
use crate::execution::schedule::Wiring;
use crate::execution::{Execution, Settings};
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use crate::report::{Report, Status};
use crate::stat::Entries;
use crate::store::interrupted::Journal;
use crate::value::Shared;
use crate::workflow::Outputs;

/// What a run finds before its execution is made: node names, stat cache, wiring.
type Found = (Names, Entries, Wiring);

/// A run recorded as begun: its id and its journal.
type Begun = (i64, Journal);

impl Runner<'_> {
    pub(super) fn settings(&self, run_id: i64) -> Settings {
        Settings {
            journal: None,
            read_only: false,
            profile: self.profile.clone(),
            instance: self.instance.clone(),
            keep_going: self.keep_going,
            resources: self.resources.clone(),
            run_id,
            listener: self.listener.clone(),
            #[cfg(feature = "remote")]
            remote: None,
            // Asked here, on the caller's thread: the stations run on the pool's.
            #[cfg(feature = "tokio")]
            tokio: std::sync::Arc::new(crate::asynchronous::Tokio::here()),
            #[cfg(feature = "temporal")]
            temporal: None,
        }
    }

    /// The execution of `graph`, with what this run forces and overrides.
    fn prepare<'g>(
        &'g self,
        graph: &'g Graph,
        settings: &'g Settings,
        found: Found,
    ) -> Result<Execution<'g>, Error> {
        let mut execution = Execution::with_wiring(graph, self.store, settings, found)?;
        self.force_on(graph, &mut execution)?;
        execution.overrides = self.overrides(graph, &execution)?;
        Ok(execution)
    }

    /// The graph's node names (and its constants' content hashes), the store's stat cache
    /// and the graph's wiring, and the run recorded as begun: its id and journal. Names
    /// are found before the run is recorded, so a name given twice writes nothing; for a
    /// graph large enough to start the pool at once anyway, all four are found side by side
    /// on it, and a run recorded before its names (or its stat cache) were found wrong is
    /// removed again.
    fn begin(&self, workflow: &str, graph: &Graph) -> Result<(Found, Begun), Error> {
        let begin = || {
            self.store
                .begin_run(workflow, &self.profile, &self.instance)
        };
        if graph.nodes.len() < LOOK_AHEAD_BELOW {
            let names = names(graph, true)?;
            let found = (names, self.store.stats()?, Wiring::of(graph));
            return Ok((found, begin()?));
        }
        let (names, (stats, (wiring, begun))) = self.pool()?.join(
            || names(graph, true),
            || {
                rayon::join(
                    || self.store.stats(),
                    || rayon::join(|| Wiring::of(graph), begin),
                )
            },
        );
        match (names.and_then(|names| Ok((names, stats?, wiring))), begun) {
            (Ok(found), begun) => Ok((found, begun?)),
            (Err(error), begun) => {
                if let Ok((run, _journal)) = begun {
                    self.store.forget_run(run)?;
                }
                Err(error)
            }
        }
    }

    pub(super) fn execute<O>(
        &self,
        workflow: &str,
        graph: &Graph,
        outputs: &dyn Outputs<Value = O>,
    ) -> Result<Run<O>, Error> {
        let wanted = outputs.nodes();
        let (values, report) = self.execute_nodes(workflow, graph, &wanted, Vec::new())?;
        Ok(Run {
            output: outputs.take(values?)?,
            report,
        })
    }

    /// Runs the stations of `graph` but those `outside` marks (by node index), and returns
    /// the values of `wanted` with the report; a station failure is an `Err` with it.
    pub(super) fn execute_nodes(
        &self,
        workflow: &str,
        graph: &Graph,
        wanted: &[NodeId],
        outside: Vec<bool>,
    ) -> Result<(Result<Vec<Shared>, Error>, Report), Error> {
        graph.check(wanted)?;
        let _active = self.store.active()?;
        let (found, (run_id, journal)) = self.begin(workflow, graph)?;
        let mut settings = self.settings(run_id);
        settings.journal = Some(std::sync::Arc::new(journal));
        #[cfg(feature = "remote")]
        {
            settings.remote = self.remote.clone();
        }
        #[cfg(feature = "temporal")]
        {
            settings.temporal = self.dispatch()?;
        }
        let mut execution = match self.prepare(graph, &settings, found) {
            Ok(execution) => execution,
            Err(error) => {
                // A name it was given is wrong: the run did not start.
                self.store.forget_run(run_id)?;
                return Err(error);
            }
        };
        execution.outside = outside;
        #[cfg(feature = "remote")]
        execution.want(wanted);
        if let Err(error) = self.drive(&execution) {
            self.store.forget_run(run_id)?;
            return Err(error);
        }
        // A large run's memory is freed on the pool while its report is made and the run
        // recorded; a small one's in less time than a worker takes to wake.
        let pool = self
            .pool
            .get()
            .filter(|_| graph.nodes.len() >= LOOK_AHEAD_BELOW);
        let Finished {
            values,
            report,
            used,
            rest,
        } = execution.finish(wanted, pool);
        let counts =
            [Status::Ran, Status::Cached, Status::Failed].map(|status| report.count(status));
        let [ran, cached, failed] = counts;
        let record = || (self.store).finish_run(&report, ran, cached, failed, &self.profile, used);
        crate::execution::finish::beside(pool, move || drop(rest), record)?;
        if failed > 0 {
            return Err(Error::failed(report));
        }
        if crate::child::interrupted() && report.count(Status::Skipped) > 0 {
            return Err(Error::interrupted(report));
        }
        Ok((values, report))
    }

    /// Announces the run and runs its stations: what the store has is settled on this
    /// thread, and the pool starts only for what is left. An error: the pool did not start.
    fn drive(&self, execution: &Execution<'_>) -> Result<(), Error> {
        if let Some(listener) = &self.listener {
            let graph = execution.graph;
            let stations = graph
                .ids()
                .zip(&graph.nodes)
                .filter(|(id, node)| {
                    matches!(node.kind, Kind::Station { .. }) && !execution.is_outside(*id)
                })
                .count();
            listener(&crate::progress::Event::Started { stations });
        }
        let ready = execution.settle_cached();
        if !ready.is_empty() {
            let pool = self.pool()?;
            execution.with_committer(|| pool.scope(|scope| execution.start(scope, ready)));
        }
        Ok(())
    }
}
