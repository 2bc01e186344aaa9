//! The one activity type, `choochoo.station`: a worker runs the task it is given on a
//! blocking thread and answers, or fails with the failure's kind as its type (never retried
//! by Temporal: the coordinator retries transient failures under the station's policy).

use super::task::{Answer, Failed, Task};
use std::sync::Arc;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// What a worker does with a task.
pub(crate) type Work = Arc<dyn Fn(Task) -> Result<Answer, Failed> + Send + Sync>;

/// The activities a worker registers: one, which runs stations by name.
pub(crate) struct Stations {
    pub(crate) work: Option<Work>,
    /// The worker's name, in the details of each failure.
    pub(crate) instance: String,
}

#[activities]
impl Stations {
    /// Runs one station of the worker's graph.
    #[activity(name = "choochoo.station")]
    pub(crate) async fn station(
        self: Arc<Self>,
        ctx: ActivityContext,
        task: Task,
    ) -> Result<Answer, ActivityError> {
        let Some(work) = self.work.clone() else {
            return Err(self.failure(Failed::new(
                super::task::Kind::Refused,
                "this process is not a worker",
            )));
        };
        let node = task.node.clone();
        // A worker that stops beating is lost: Temporal gives its station to another.
        let beating = tokio::spawn(async move {
            let mut beat = tokio::time::interval(super::task::HEARTBEAT);
            loop {
                beat.tick().await;
                let _ = ctx.record_heartbeat(0u8).await;
            }
        });
        let joined = tokio::task::spawn_blocking(move || work(task)).await;
        beating.abort();
        match joined {
            Ok(answer) => answer.map_err(|failed| self.failure(failed)),
            Err(error) => Err(self.failure(Failed::new(
                super::task::Kind::Failed,
                format!("`{node}` did not finish on the worker: {error}"),
            ))),
        }
    }
}

impl Stations {
    /// A failure Temporal does not retry: its kind as its type, the worker's name as its
    /// details.
    fn failure(&self, failed: Failed) -> ActivityError {
        ApplicationFailure::builder(failed.message)
            .type_name(failed.kind.name().to_owned())
            .non_retryable(true)
            .details(self.instance.clone())
            .build()
            .into()
    }
}
