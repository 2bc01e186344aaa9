//! A worker: the workflow program polling a task queue, running the stations it is sent
//! (`choochoo.station`), their inputs and outputs through the remote cache's CAS, each byte
//! it downloads verified.

use super::Temporal;
use super::activity::{Stations, Work};
use super::task::{Answer, BlobRef, Failed, INLINE, Kind, Task};
use crate::error::Error;
use crate::execution::{Execution, Settings};
use crate::graph::Graph;
use crate::graph::node::NodeId;
use crate::remote::Cache;
use crate::remote::wire::{self, Blob, Source};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;

/// What a worker runs stations with.
pub(crate) struct Bench {
    pub(crate) graph: Graph,
    pub(crate) store: Store,
    pub(crate) cache: Arc<Cache>,
    pub(crate) profile: String,
    /// This worker's name, in each answer.
    pub(crate) instance: String,
    /// How many stations it runs at once.
    pub(crate) jobs: usize,
}

/// A worker at work: one execution of its graph serves every task, and each station is
/// found by its name in the store.
struct Working {
    bench: &'static Bench,
    execution: Execution<'static>,
    by_path: HashMap<Box<str>, NodeId>,
}

/// Runs a worker until it fails (or the process ends).
pub(crate) fn serve(bench: Bench, options: &Temporal) -> Result<(), Error> {
    let (instance, jobs) = (bench.instance.clone(), bench.jobs);
    let working = Arc::new(Working::new(bench)?);
    let work: Work = Arc::new(move |task| working.work(task));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("choochoo-worker")
        .build()
        .map_err(|error| Error::usage(format!("cannot start the worker's runtime: {error}")))?;
    runtime.block_on(poll(options, work, &instance, jobs))
}

async fn poll(options: &Temporal, work: Work, instance: &str, jobs: usize) -> Result<(), Error> {
    use temporalio_sdk::runtime::worker_tuner::{FixedSizeSlotSupplier, TunerHolder};
    use temporalio_sdk::{Runtime, Worker, WorkerOptions};
    let client = options.connect().await.map_err(Error::usage)?;
    let runtime = Runtime::from_current_tokio(Default::default())
        .map_err(|error| Error::usage(format!("cannot start the Temporal worker: {error}")))?;
    let stations = Stations {
        work: Some(work),
        instance: instance.to_owned(),
    };
    let slots = FixedSizeSlotSupplier::new(jobs.max(1));
    let tuner = TunerHolder::builder()
        .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(1))
        .activity_task_slot_supplier(slots)
        .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(1))
        .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(1))
        .build();
    let worker_options = WorkerOptions::new(&options.task_queue)
        .register_activities(stations)
        .tuner(tuner)
        .build();
    let mut worker = Worker::new(&runtime, client, worker_options)
        .map_err(|error| Error::usage(format!("cannot start the Temporal worker: {error}")))?;
    worker.run().await.map_err(|error| {
        Error::usage(format!(
            "the worker of task queue `{}` stopped: {error}",
            options.task_queue
        ))
    })
}

impl Working {
    /// The execution a worker's tasks share. A worker serves until its process ends: what
    /// it runs with lives as long.
    fn new(bench: Bench) -> Result<Working, Error> {
        let bench: &'static Bench = Box::leak(Box::new(bench));
        let settings: &'static Settings = Box::leak(Box::new(bench.settings()));
        let paths = crate::execution::paths::node_paths(&bench.graph)?;
        let by_path = (paths.iter().map(Box::<str>::from))
            .enumerate()
            .map(|(index, path)| (path, bench.graph.id_at(index)))
            .collect();
        let execution = Execution::with_paths(&bench.graph, &bench.store, settings, paths)?;
        Ok(Working {
            bench,
            execution,
            by_path,
        })
    }

    /// Runs one task: the station named, with the inputs downloaded, its output stored.
    fn work(&self, task: Task) -> Result<Answer, Failed> {
        let id = *self.by_path.get(&*task.node).ok_or_else(|| {
            Failed::new(
                Kind::Refused,
                format!("this worker's graph has no station `{}`", task.node),
            )
        })?;
        let inputs = self.bench.download(&task)?;
        let encoded = self.execution.work(id, &task.fingerprint, inputs)?;
        let digest = wire::sha256(&encoded);
        let inline = (encoded.len() <= INLINE).then(|| encoded.clone());
        let blob = Blob {
            path: String::new(),
            digest: digest.clone(),
            source: Source::Bytes(encoded),
        };
        self.bench.cache.put(vec![blob]).map_err(|why| {
            Failed::new(
                Kind::Transient,
                format!(
                    "`{}` ran, but its output cannot be stored: {why}",
                    task.node
                ),
            )
        })?;
        Ok(Answer {
            output: BlobRef::of(&digest),
            inline,
            worker: self.bench.instance.clone(),
            attempt: 0,
        })
    }
}

impl Bench {
    /// The task's inputs, each checked against its digest.
    fn download(&self, task: &Task) -> Result<Vec<Vec<u8>>, Failed> {
        let digests = task.inputs.iter().map(BlobRef::digest).collect();
        let blobs = self.cache.blobs(digests).map_err(|why| {
            Failed::new(
                Kind::Failed,
                format!("the inputs of `{}` cannot be had: {why}", task.node),
            )
        })?;
        task.inputs
            .iter()
            .map(|input| {
                blobs.get(&input.hash).cloned().ok_or_else(|| {
                    Failed::new(
                        Kind::Failed,
                        format!("input blob {} is missing", input.hash),
                    )
                })
            })
            .collect()
    }

    fn settings(&self) -> Settings {
        Settings {
            profile: self.profile.clone(),
            instance: self.instance.clone(),
            ..Settings::default()
        }
    }
}
