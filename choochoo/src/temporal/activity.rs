//! The one activity type, `choochoo.station`: a worker runs the task it is given on a
//! blocking thread and answers, or fails with the failure's kind as its type. Temporal tries
//! a transient failure again, under the station's retries and backoff (the activity's retry
//! policy); any other failure, and a transient one on the last of its attempts, is final.

use super::task::{Answer, Failed, Kind, Task};
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
        let attempt = ctx.info().attempt;
        let Some(work) = self.work.clone() else {
            return Err(self.failure(
                Failed::new(Kind::Refused, "this process is not a worker"),
                false,
            ));
        };
        let (node, retries) = (task.node.clone(), task.retries);
        // A worker that stops beating is lost: Temporal gives its station to another.
        let beating = tokio::spawn(async move {
            // The first beat after one interval: a short station sends none.
            let first = tokio::time::Instant::now() + super::task::HEARTBEAT;
            let mut beat = tokio::time::interval_at(first, super::task::HEARTBEAT);
            loop {
                beat.tick().await;
                let _ = ctx.record_heartbeat(0u8).await;
            }
        });
        let joined = tokio::task::spawn_blocking(move || work(task)).await;
        beating.abort();
        let answer = joined.unwrap_or_else(|error| {
            Err(Failed::new(
                Kind::Failed,
                format!("`{node}` did not finish on the worker: {error}"),
            ))
        });
        match answer {
            Ok(answer) => Ok(Answer { attempt, ..answer }),
            Err(failed) => {
                let again = failed.kind == Kind::Transient && attempt <= retries;
                Err(self.failure(failed, again))
            }
        }
    }
}

impl Stations {
    /// A failure, its kind as its type, the worker's name as its details; Temporal tries
    /// the station again only when `again`.
    fn failure(&self, failed: Failed, again: bool) -> ActivityError {
        ApplicationFailure::builder(failed.message)
            .type_name(failed.kind.name().to_owned())
            .non_retryable(!again)
            .details(self.instance.clone())
            .build()
            .into()
    }
}
