//! The coordinator's side: a connection to the Temporal server on a small runtime of its
//! own, and [`Dispatch::send`], which starts a station's activity (or re-attaches to the one
//! already running under its id) and waits for its answer from a scheduler thread.

use super::Temporal;
use super::activity::Stations;
use super::task::{Answer, Failed, Kind, LOST_ATTEMPTS, Task};
use crate::graph::erased::Policy;
use std::collections::HashSet;
use std::sync::Mutex;
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
    /// The blobs this coordinator stored in the CAS or was answered with: not sent again.
    in_cas: Mutex<HashSet<String>>,
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
            in_cas: Mutex::default(),
        })
    }

    /// Whether the CAS holds the blob of SHA-256 `hash`, as far as this coordinator knows.
    pub(crate) fn in_cas(&self, hash: &str) -> bool {
        self.known().contains(hash)
    }

    /// Notes that the CAS holds the blobs of these SHA-256s.
    pub(crate) fn stored<'h>(&self, hashes: impl IntoIterator<Item = &'h str>) {
        self.known().extend(hashes.into_iter().map(str::to_owned));
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.in_cas.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `task` on a worker as activity `id`, under the station's `policy` (its retries
    /// and backoff for transient failures, its time limit), and waits for its answer; an
    /// activity with this id already running is awaited instead of started again, and so is
    /// one done unless the station runs `again` (forced).
    pub(crate) fn send(
        &self,
        id: String,
        task: Task,
        policy: &Policy,
        again: bool,
    ) -> Result<Answer, Failed> {
        let client = self.client.clone();
        let options = start_options(&self.options.task_queue, &id, policy, again);
        let (send, receive) = sync_channel(1);
        self.runtime.spawn(async move {
            let _ = send.send(run(client, id, task, options).await);
        });
        receive
            .recv()
            .unwrap_or_else(|_| Err(Failed::new(Kind::Failed, "the Temporal client stopped")))
    }
}

/// The options of a station's activity: its id deduplicates (a done one is taken again
/// unless the station runs `again`); a transient failure is tried again as the station's
/// policy says (its backoff doubling), and a lost worker's station (no heartbeat) goes to
/// another, a few times.
fn start_options(queue: &str, id: &str, policy: &Policy, again: bool) -> ActivityStartOptions {
    let retries = RetryPolicy::builder()
        .initial_interval(policy.backoff.max(Duration::from_millis(1)))
        .backoff_coefficient(2.0)
        .maximum_attempts(policy.retries.saturating_add(1 + LOST_ATTEMPTS))
        .build();
    let limit = policy.timeout.unwrap_or(NO_LIMIT);
    ActivityStartOptions::with_start_to_close_timeout(queue, id, limit)
        .id_reuse_policy(match again {
            true => ActivityIdReusePolicy::AllowDuplicate,
            false => ActivityIdReusePolicy::AllowDuplicateFailedOnly,
        })
        .id_conflict_policy(ActivityIdConflictPolicy::UseExisting)
        .heartbeat_timeout(super::task::LOST_AFTER)
        .retry_policy(retries)
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
    // A call the server did not answer in time (it was busy) is made again, a few times.
    let mut tries = 0;
    loop {
        match handle.result().await {
            Err(ActivityResultError::Rpc(status)) if tries < RPC_TRIES && busy(&status) => {
                tries += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            result => return result.map_err(|error| failed(&node, error)),
        }
    }
}

/// How many times the coordinator asks again for an answer the server was too busy to give.
const RPC_TRIES: u32 = 5;

/// Whether the server failed a call only for being busy or slow.
fn busy(status: &tonic::Status) -> bool {
    use tonic::Code;
    matches!(
        status.code(),
        Code::Cancelled | Code::DeadlineExceeded | Code::Unavailable | Code::ResourceExhausted
    )
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
