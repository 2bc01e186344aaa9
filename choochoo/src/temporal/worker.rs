//! A worker: the workflow program polling a task queue, running the stations it is sent
//! (`choochoo.station`), their inputs and outputs through the remote cache's CAS, each byte
//! it downloads verified.

use super::Temporal;
use super::activity::{Stations, Work};
use super::task::{Answer, BlobRef, Failed, Kind, Task};
use crate::error::{Error, chain};
use crate::execution::{Execution, Settings};
use crate::graph::Graph;
use crate::remote::Cache;
use crate::remote::wire::{self, Blob, Source};
use crate::store::Store;
use std::sync::Arc;

/// What a worker runs stations with.
pub(crate) struct Bench {
    pub(crate) graph: Graph,
    pub(crate) store: Store,
    pub(crate) cache: Arc<Cache>,
    pub(crate) profile: String,
    /// This worker's name, in each answer.
    pub(crate) instance: String,
}

/// Runs a worker until it fails (or the process ends).
pub(crate) fn serve(bench: Bench, options: &Temporal) -> Result<(), Error> {
    let paths = crate::execution::paths::node_paths(&bench.graph)?;
    let instance = bench.instance.clone();
    let bench = Arc::new((bench, paths));
    let work: Work = Arc::new(move |task| bench.0.work(&bench.1, task));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("choochoo-worker")
        .build()
        .map_err(|error| Error::usage(format!("cannot start the worker's runtime: {error}")))?;
    runtime.block_on(poll(options, work, &instance))
}

async fn poll(options: &Temporal, work: Work, instance: &str) -> Result<(), Error> {
    use temporalio_sdk::{Runtime, Worker, WorkerOptions};
    let client = options.connect().await.map_err(Error::usage)?;
    let runtime = Runtime::from_current_tokio(Default::default())
        .map_err(|error| Error::usage(format!("cannot start the Temporal worker: {error}")))?;
    let stations = Stations {
        work: Some(work),
        instance: instance.to_owned(),
    };
    let worker_options = WorkerOptions::new(&options.task_queue)
        .register_activities(stations)
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

impl Bench {
    /// Runs one task: the station named, with the inputs downloaded, its output stored.
    fn work(&self, paths: &[Box<str>], task: Task) -> Result<Answer, Failed> {
        let id = paths
            .iter()
            .position(|path| **path == *task.node)
            .map(|index| self.graph.id_at(index))
            .ok_or_else(|| {
                Failed::new(
                    Kind::Refused,
                    format!("this worker's graph has no station `{}`", task.node),
                )
            })?;
        let inputs = self.download(&task)?;
        let settings = self.settings();
        let execution = Execution::with_paths(&self.graph, &self.store, &settings, paths.to_vec())
            .map_err(|error| Failed::new(Kind::Failed, chain(&error)))?;
        let encoded = execution.work(id, &task.fingerprint, inputs)?;
        let digest = wire::sha256(&encoded);
        let blob = Blob {
            path: String::new(),
            digest: digest.clone(),
            source: Source::Bytes(encoded),
        };
        self.cache.put(vec![blob]).map_err(|why| {
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
            worker: self.instance.clone(),
        })
    }

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
