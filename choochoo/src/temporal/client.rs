//! The coordinator's side: a connection to the Temporal server on a small runtime of its
//! own, and [`Dispatch::send`], which starts a station's activity (or re-attaches to the one
//! already running under its id) and waits for its answer from a scheduler thread.

use super::Temporal;
use super::activity::Stations;
use super::task::{Answer, Failed, Kind, Task};
use std::sync::mpsc::sync_channel;
use std::time::Duration;
use temporalio_client::errors::{ActivityResultError, StartActivityError};
use temporalio_client::{
    ActivityIdConflictPolicy, ActivityIdReusePolicy, ActivityStartOptions, Client, RetryPolicy,
};

/// How long an activity may run when its station has no time limit.
const NO_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// A coordinator's connection to the workers.
pub(crate) struct Dispatch {
    runtime: tokio::runtime::Runtime,
    client: Client,
    options: Temporal,
}

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatch")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Dispatch {
    /// Connects to the server `options` name; an error says which and why.
    pub(crate) fn connect(options: Temporal) -> Result<Dispatch, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("choochoo-temporal")
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the Temporal client's runtime: {error}"))?;
        let client = runtime.block_on(options.connect())?;
        Ok(Dispatch {
            runtime,
            client,
            options,
        })
    }

    /// Runs `task` on a worker as activity `id` and waits for its answer; an activity with
    /// this id already running (or done) is awaited instead of started again.
    pub(crate) fn send(
        &self,
        id: String,
        task: Task,
        limit: Option<Duration>,
    ) -> Result<Answer, Failed> {
        let client = self.client.clone();
        let options = start_options(&self.options.task_queue, &id, limit);
        let (send, receive) = sync_channel(1);
        self.runtime.spawn(async move {
            let _ = send.send(run(client, id, task, options).await);
        });
        receive
            .recv()
            .unwrap_or_else(|_| Err(Failed::new(Kind::Failed, "the Temporal client stopped")))
    }
}

/// The options of a station's activity: its id deduplicates; a worker lost (no heartbeat)
/// is retried on another, a few times; a station's own failures are never retried here.
fn start_options(queue: &str, id: &str, limit: Option<Duration>) -> ActivityStartOptions {
    ActivityStartOptions::with_start_to_close_timeout(queue, id, limit.unwrap_or(NO_LIMIT))
        .id_reuse_policy(ActivityIdReusePolicy::AllowDuplicateFailedOnly)
        .id_conflict_policy(ActivityIdConflictPolicy::UseExisting)
        .heartbeat_timeout(super::task::LOST_AFTER)
        .retry_policy(RetryPolicy::builder().maximum_attempts(3).build())
        .build()
}

async fn run(
    client: Client,
    id: String,
    task: Task,
    options: ActivityStartOptions,
) -> Result<Answer, Failed> {
    let node = task.node.clone();
    let handle = match client
        .start_activity(Stations::station, task, options)
        .await
    {
        Ok(handle) => handle,
        Err(StartActivityError::AlreadyStarted { run_id, .. }) => {
            client.get_activity_handle(Stations::station, id, Some(run_id))
        }
        Err(error) => {
            return Err(Failed::new(
                Kind::Transient,
                format!("cannot send `{node}` to the workers: {error}"),
            ));
        }
    };
    handle.result().await.map_err(|error| failed(&node, error))
}

/// What a failed activity says: the worker's failure, or what Temporal says of it.
fn failed(node: &str, error: ActivityResultError) -> Failed {
    if let ActivityResultError::ActivityFailed(incoming) = &error {
        let mut failure = Some(incoming.failure());
        while let Some(f) = failure {
            use temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo;
            if let Some(FailureInfo::ApplicationFailureInfo(info)) = &f.failure_info {
                let mut failed = Failed::new(Kind::named(&info.r#type), f.message.clone());
                failed.worker = worker_of(info);
                return failed;
            }
            failure = f.cause.as_deref();
        }
    }
    Failed::new(
        Kind::Failed,
        format!("`{node}` did not run on a worker: {error}"),
    )
}

/// The worker's name a failure's details carry.
fn worker_of(
    info: &temporalio_common::protos::temporal::api::failure::v1::ApplicationFailureInfo,
) -> Option<String> {
    let payload = info.details.as_ref()?.payloads.first()?;
    serde_json::from_slice(&payload.data).ok()
}
