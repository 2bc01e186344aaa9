//! Calls into a station's own code — its function, its check, its clean function — with
//! its inputs, each call's panic caught and turned into a [`Failure`] that says so. A
//! [`Call`] is what one station call is made of, for a graph node or a map item alike.

use super::Execution;
use crate::checked::Checked;
use crate::error::{Error, chain};
use crate::graph::Kind;
use crate::graph::erased::{ErasedStation, Policy};
use crate::graph::node::NodeId;
use crate::station::{BoxError, Ctx, Transient};
use crate::value::Shared;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Why an attempt failed.
pub(super) struct Failure {
    /// The error and its causes, joined by ": ".
    pub(super) message: String,
    /// The error and its causes, outermost first.
    pub(super) chain: Vec<String>,
    pub(super) panic: Option<String>,
    /// The last lines the station logged.
    pub(super) log: Vec<String>,
    /// Worth another attempt under the station's retry policy.
    pub(super) transient: bool,
    /// The worker it failed on, when it was sent to one.
    pub(super) worker: Option<Box<str>>,
}

impl Failure {
    pub(super) fn of(error: &BoxError) -> Failure {
        Failure {
            message: chain(&**error),
            chain: crate::error::chain_parts(&**error),
            panic: None,
            log: Vec::new(),
            transient: Transient::marks(&**error),
            worker: None,
        }
    }

    pub(super) fn fatal(message: String) -> Failure {
        Failure {
            chain: vec![message.clone()],
            message,
            panic: None,
            log: Vec::new(),
            transient: false,
            worker: None,
        }
    }

    pub(super) fn panicked(message: String) -> Failure {
        Failure {
            panic: Some(message.clone()),
            ..Failure::fatal(format!("panicked: {message}"))
        }
    }

    pub(super) fn with_log(mut self, ctx: &Ctx) -> Failure {
        self.log = ctx.log_tail();
        self
    }
}

/// One station call: what to call, where, and how to get its inputs.
pub(super) struct Call<'a> {
    pub(super) station: &'a Arc<dyn ErasedStation>,
    /// The node's name in the store.
    pub(super) path: &'a str,
    pub(super) label: Option<&'a str>,
    pub(super) codec: &'a crate::graph::codec::Codec,
    pub(super) args: &'a dyn Fn() -> Result<Vec<Arg>, Error>,
    pub(super) input_values: &'a dyn Fn() -> Vec<Option<String>>,
    /// The nodes whose content it reads, to notice files changed while it ran.
    pub(super) read: &'a [NodeId],
    /// How its attempts are made in this run.
    pub(super) policy: Policy,
}

/// One input of a call, owned or shared, so an attempt can run on a thread of its own.
pub(super) enum Arg {
    Shared(Shared),
    Owned(Box<dyn Any + Send + Sync>),
}

impl Arg {
    fn get(&self) -> &(dyn Any + Send + Sync) {
        match self {
            Arg::Shared(value) => &**value,
            Arg::Owned(value) => &**value,
        }
    }
}

fn refs(args: &[Arg]) -> Vec<&(dyn Any + Send + Sync)> {
    args.iter().map(Arg::get).collect()
}

/// Calls a station's function on this thread, catching a panic.
pub(super) fn run(station: &dyn ErasedStation, ctx: &Ctx, args: &[Arg]) -> Result<Shared, Failure> {
    let refs = refs(args);
    let call = || {
        crate::capture::with_capture(&ctx.capture, &ctx.log, crate::capture::LOG_TAIL, || {
            station.run(ctx, &refs)
        })
    };
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Failure::of(&error).with_log(ctx)),
        Err(panic) => Err(Failure::panicked(panic_message(&*panic)).with_log(ctx)),
    }
}

/// Calls a station's function on a thread of its own and waits at most `limit`. A call that
/// takes longer is a failure, and a transient one; it is told to stop (`Ctx::is_stopping`)
/// and its result, if it ever comes, is dropped: a thread cannot be killed, but the run does
/// not wait for it.
pub(super) fn run_with_timeout(
    station: Arc<dyn ErasedStation>,
    ctx: Arc<Ctx>,
    args: Vec<Arg>,
    limit: Duration,
) -> Result<(Shared, Vec<Arg>), Failure> {
    let worker_ctx = ctx.clone();
    let called = within(limit, format!("choochoo-{}", ctx.id), move || {
        let result = run(station.as_ref(), &worker_ctx, &args);
        (result, args)
    })?;
    match called {
        Some((result, args)) => result.map(|value| (value, args)),
        None => {
            ctx.cancelled.store(true, Ordering::Release);
            ctx.children.terminate();
            Err(timed_out(limit).with_log(&ctx))
        }
    }
}

/// Runs `work` on a thread of its own and waits at most `limit` for it: `None` when it took
/// longer (its result, if it ever comes, is dropped).
fn within<T: Send + 'static>(
    limit: Duration,
    thread: String,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<Option<T>, Failure> {
    let (send, receive) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name(thread).spawn(move || {
        let _ = send.send(work());
    });
    if let Err(error) = spawned {
        return Err(Failure::fatal(format!(
            "cannot start a thread for it: {error}"
        )));
    }
    Ok(receive.recv_timeout(limit).ok())
}

/// An attempt over its time limit: a failure worth another attempt.
fn timed_out(limit: Duration) -> Failure {
    Failure {
        transient: true,
        ..Failure::fatal(format!("timed out after {limit:?}"))
    }
}

/// Asks a station's check whether the world is in the state `output` says. An error (or a
/// panic) is a failed attempt: the check cannot tell, and a [`Transient`] error is worth
/// asking again.
pub(super) fn ask_check(
    station: &dyn ErasedStation,
    args: &[Arg],
    output: &(dyn Any + Send + Sync),
) -> Result<Checked, Failure> {
    let refs = refs(args);
    match catch_unwind(AssertUnwindSafe(|| station.check(&refs, output))) {
        Ok(Ok(checked)) => Ok(checked),
        Ok(Err(error)) => {
            let mut failure = Failure::of(&error);
            failure.message = format!("its check failed: {}", failure.message);
            failure.chain.insert(0, "its check failed".to_owned());
            Err(failure)
        }
        Err(panic) => Err(Failure::panicked(format!(
            "in its check: {}",
            panic_message(&*panic)
        ))),
    }
}

/// [`ask_check`], on a thread of its own when the station's policy has a time limit: a
/// check that takes longer fails the attempt, as a visit would.
pub(super) fn ask_check_within(
    station: &Arc<dyn ErasedStation>,
    args: Vec<Arg>,
    output: Shared,
    limit: Option<Duration>,
) -> Result<Checked, Failure> {
    let Some(limit) = limit else {
        return ask_check(station.as_ref(), &args, &*output);
    };
    let station = station.clone();
    let thread = format!("choochoo-check-{}", station.id());
    within(limit, thread, move || {
        ask_check(station.as_ref(), &args, &*output)
    })?
    .unwrap_or_else(|| Err(timed_out(limit)))
}

impl Execution<'_> {
    /// Calls a station's clean function with the inputs and output of its last run.
    pub(crate) fn clean_station(&self, id: NodeId) -> Result<(), String> {
        let Kind::Station { station, inputs } = &self.graph.node(id).kind else {
            return Ok(());
        };
        let args = self.args(inputs).map_err(|error| chain(&error))?;
        let output = self.value(id).map_err(|error| chain(&error))?;
        ask_clean(station.as_ref(), &args, output)
    }
}

/// Calls a station's clean function with the inputs and output of a run, catching a panic.
pub(super) fn ask_clean(
    station: &dyn ErasedStation,
    args: &[Arg],
    output: &(dyn Any + Send + Sync),
) -> Result<(), String> {
    let refs = refs(args);
    match catch_unwind(AssertUnwindSafe(|| station.clean(&refs, output))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(chain(&*error)),
        Err(panic) => Err(format!("panicked: {}", panic_message(&*panic))),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
