//! Async stations (`#[station] async fn`, with the `tokio` feature): the future a station's
//! function returns is driven to its end on the station's own worker thread, with
//! [`Handle::block_on`], on a Tokio runtime chosen once per run.
//!
//! The runtime is the caller's when [`Runner::run`](crate::Runner::run) is called inside a
//! multi-thread Tokio runtime (`#[tokio::main]`), so the stations share its I/O driver, its
//! timers and what it spawns. Otherwise — no runtime, or a current-thread one, whose drivers
//! only turn while its own thread polls it, and that thread is waiting for the run — the run
//! starts a multi-thread runtime of its own, with one worker thread for the I/O, timers and
//! tasks, the first time an async station runs; it is shut down when the run ends.
//!
//! Blocking on a future is safe here because a station never runs on a thread of a Tokio
//! runtime: it runs on the runner's pool (or, with a time limit, on a thread of its own), and
//! those threads are in no runtime's context.
//!
//! A time limit (`timeout = "30s"`) **cancels** an async station: past the limit its future
//! is dropped, at whatever `.await` it was waiting, so its destructors run and nothing of it
//! keeps going. A synchronous station past its limit is only abandoned, since a thread
//! cannot be stopped from outside.

use crate::station::{BoxError, Ctx, Transient};
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

/// The Tokio runtime of one run's async stations: the caller's, or one of its own started
/// at the first need.
#[derive(Debug, Default)]
pub(crate) struct Tokio {
    caller: Option<Handle>,
    own: OnceLock<Result<Owned, String>>,
}

impl Tokio {
    /// The runtime for a run started on this thread: this thread's multi-thread runtime, if
    /// it is in one.
    pub(crate) fn here() -> Tokio {
        let caller = Handle::try_current()
            .ok()
            .filter(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
        Tokio {
            caller,
            own: OnceLock::new(),
        }
    }

    fn handle(&self) -> Result<Handle, BoxError> {
        if let Some(handle) = &self.caller {
            return Ok(handle.clone());
        }
        match self.own.get_or_init(Owned::start) {
            Ok(owned) => Ok(owned.handle()),
            Err(error) => Err(error.clone().into()),
        }
    }
}

/// A runtime the run started: shut down without waiting when the run ends, which is allowed
/// even where blocking is not (a run made inside a current-thread runtime).
#[derive(Debug)]
struct Owned {
    handle: Handle,
    /// Taken when dropped.
    runtime: Option<Runtime>,
}

impl Owned {
    fn start() -> Result<Owned, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("choochoo-tokio")
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start a Tokio runtime for async stations: {error}"))?;
        Ok(Owned {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An async station's attempt that went past its time limit, and was dropped.
#[derive(Debug)]
struct TimedOut(Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "timed out after {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Drives an async station's future to its end on the run's runtime; past the attempt's time
/// limit, drops it and fails with a transient error, as a synchronous station's time limit
/// does.
pub fn block_on<T>(
    ctx: &Ctx,
    future: impl Future<Output = Result<T, BoxError>>,
) -> Result<T, BoxError> {
    let handle = ctx.tokio.handle()?;
    let Some(limit) = ctx.limit else {
        return handle.block_on(future);
    };
    match handle.block_on(async { tokio::time::timeout(limit, future).await }) {
        Ok(result) => result,
        Err(_) => {
            ctx.cancelled.store(true, Ordering::Release);
            ctx.children.terminate();
            Err(Transient::new(TimedOut(limit)).into())
        }
    }
}
