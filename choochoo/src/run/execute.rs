//! One run of a graph: recorded in the store, its names and options resolved, the stations
//! the store has settled on the calling thread, the rest on the pool, and the report kept.

use super::{Run, Runner};
use crate::error::Error;
use crate::execution::ahead::LOOK_AHEAD_BELOW;
use crate::execution::finish::Finished;
use crate::execution::paths::{Names, names};
use crate::execution::{Execution, Settings};
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use crate::report::{Report, Status};
use crate::stat::Entries;
use crate::value::Shared;
use crate::workflow::Outputs;

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
        (names, stats): (Names, Entries),
    ) -> Result<Execution<'g>, Error> {
        let mut execution = Execution::with_stats(graph, self.store, settings, names, stats)?;
        self.force_on(graph, &mut execution)?;
        execution.overrides = self.overrides(graph, &execution)?;
        Ok(execution)
    }

    /// The graph's node names (and its constants' content hashes) and the store's stat
    /// cache; side by side on the pool for a graph large enough to start it at once anyway.
    fn names_and_stats(&self, graph: &Graph) -> Result<(Names, Entries), Error> {
        if graph.nodes.len() < LOOK_AHEAD_BELOW {
            return Ok((names(graph, true)?, self.store.stats()?));
        }
        let (names, stats) = self
            .pool()?
            .join(|| names(graph, true), || self.store.stats());
        Ok((names?, stats?))
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
        // Names are found before the run is recorded: a name given twice writes nothing.
        let paths = self.names_and_stats(graph)?;
        let _active = self.store.active()?;
        let (run_id, journal) = self
            .store
            .begin_run(workflow, &self.profile, &self.instance)?;
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
        let mut execution = match self.prepare(graph, &settings, paths) {
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
        let Finished {
            values,
            report,
            used,
        } = execution.finish(wanted);
        let counts =
            [Status::Ran, Status::Cached, Status::Failed].map(|status| report.count(status));
        self.store.finish_run(
            &report,
            counts[0],
            counts[1],
            counts[2],
            &self.profile,
            used,
        )?;
        if counts[2] > 0 {
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
