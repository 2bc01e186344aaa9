//! One run of a graph: its names and options resolved, the stations the store has settled
//! on the calling thread, the rest on the pool, the run recorded in the store (while the
//! first stations run, when there are any), and the report kept.

use super::{Run, Runner};
use crate::error::Error;
use crate::execution::ahead::LOOK_AHEAD_BELOW;
use crate::execution::finish::Finished;
use crate::execution::paths::{Names, names};
use crate::execution::run_id::RunId;
use crate::execution::schedule::Wiring;
use crate::execution::{Execution, Settings};
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};
use crate::report::{Report, Status};
use crate::stat::Entries;
use crate::store::journal::Journal;
use crate::value::Shared;
use crate::workflow::Outputs;

/// What a run finds before its execution is made: node names, stat cache, wiring.
type Found = (Names, Entries, Wiring);

/// A run begun: when, and its journal.
type Begun = (i64, Journal);

impl Runner<'_> {
    pub(super) fn settings(&self, run_id: RunId) -> Settings {
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
    /// and the graph's wiring, and the run begun: when, and its journal (the run is
    /// recorded later, so a name given twice writes nothing); for a graph large enough to
    /// start the pool at once anyway, all four are found side by side on it.
    fn begin(&self, graph: &Graph) -> Result<(Found, Begun), Error> {
        let begin = || Ok((crate::stat::now_ns(), self.store.new_journal()?));
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
        Ok((names.and_then(|names| Ok((names, stats?, wiring)))?, begun?))
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
        let (found, (started_ns, journal)) = self.begin(graph)?;
        let mut settings = self.settings(RunId::pending());
        let journal = std::sync::Arc::new(journal);
        settings.journal = Some(journal.clone());
        #[cfg(feature = "remote")]
        {
            settings.remote = self.remote.clone();
        }
        #[cfg(feature = "temporal")]
        {
            settings.temporal = self.dispatch()?;
        }
        // A name it was given is wrong: the run does not start, and is not recorded.
        let mut execution = self.prepare(graph, &settings, found)?;
        execution.outside = outside;
        #[cfg(feature = "remote")]
        execution.want(wanted);
        let record = || {
            let recorded = (self.store).record_run(
                workflow,
                &self.profile,
                &self.instance,
                started_ns,
                &journal,
            );
            settings.run_id.set(*recorded.as_ref().unwrap_or(&0));
            if recorded.is_err() {
                journal.give_up();
            }
            recorded.map(drop)
        };
        self.drive(&execution, &record)?;
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

    /// Announces the run, runs its stations and `record`s the run: what the store has is
    /// settled on this thread, and the pool starts only for what is left; this thread then
    /// records the run while the pool's first stations run (opening the store's database,
    /// for a store opened for a run). An error: the pool did not start, or the run could not
    /// be recorded (then no other station starts, and nothing is recorded).
    fn drive(
        &self,
        execution: &Execution<'_>,
        record: &(dyn Fn() -> Result<(), Error> + Sync),
    ) -> Result<(), Error> {
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
        if ready.is_empty() {
            return record();
        }
        let pool = self.pool()?;
        execution.with_committer(|| {
            pool.in_place_scope(|scope| {
                // Started from a worker, as a scope of the pool's own starts them; the run
                // is recorded once that worker runs, so that both go on at once (a thread
                // just made may wait for its maker to block before it runs at all).
                let (started, has_started) = std::sync::mpsc::channel::<()>();
                scope.spawn(move |scope| {
                    let _ = started.send(());
                    execution.start(scope, ready);
                });
                let _ = has_started.recv();
                record().inspect_err(|_| execution.refuse())
            })
        })
    }
}
