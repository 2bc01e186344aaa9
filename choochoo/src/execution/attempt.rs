//! Attempts: a station that runs is called, within its time limit, and asked its check
//! after the call (the visit must leave the world as the check wants it); a transient
//! failure is tried again after a backoff, as often as the station's policy says. Each
//! failed attempt is observed in the ledger and its directory kept aside for investigation.
//! A result is then encoded, hashed and handed to `commit`.

use super::call::{self, Call, Failure};
use super::commit::{NOT_RECORDED, Produced};
use super::{Execution, Outcome};
use crate::discovered::{self, Discovered, Sighting};
use crate::error::chain;
use crate::graph::edge::Edge;
use crate::graph::erased::{ErasedStation, Policy};
use crate::graph::node::NodeId;
use crate::memo::{self, Content, Head, Reason};
use crate::report::Status;
use crate::station::Ctx;
use crate::value::Shared;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// A station that ran: its value and content, the inputs it discovered, and whether its
/// result was recorded (not when an input changed while it ran).
pub(super) struct Done {
    pub(super) value: Shared,
    pub(super) content: Content,
    pub(super) discovered: Vec<Discovered>,
    pub(super) recorded: bool,
}

/// The attempts of one call (of a station, or of its check): the last one's result, how
/// many failed before it, and the directory of the last failed one, kept.
pub(super) struct Attempts<T> {
    pub(super) last: Result<T, Failure>,
    pub(super) failed: u32,
    pub(super) kept_dir: Option<PathBuf>,
}

impl Execution<'_> {
    /// Runs a graph station and keeps its value and content for the stations after it.
    pub(super) fn execute(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        head: Head,
        reason: Reason,
    ) -> Outcome {
        let (done, outcome) = self.node_call(id, station, inputs, |call| {
            self.call_and_record(call, head, reason)
        });
        if let Some(done) = done {
            let _ = self.values[id.index()].set(done.value);
            // A result with discovered inputs depends on files of this machine: it stays
            // local (see `Ctx::read`).
            #[cfg(feature = "remote")]
            if done.recorded && done.discovered.is_empty() {
                self.share_remote(id, station.as_ref(), inputs, &done.content);
            }
            let _ = self.contents[id.index()].set(done.content);
        }
        outcome
    }

    /// What a call of graph station `id` is made of, given to `f`: for its visit, or for
    /// its check of a remembered result.
    pub(super) fn node_call<R>(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        f: impl FnOnce(Call<'_>) -> R,
    ) -> R {
        let node = self.graph.node(id);
        let sources: Vec<NodeId> = inputs.iter().flat_map(Edge::sources).copied().collect();
        f(Call {
            station,
            path: &self.paths[id.index()],
            label: node.label.as_deref(),
            codec: node.codec,
            args: &|| self.args(inputs),
            input_values: &|| self.input_values(inputs),
            read: &sources,
            policy: self.policy(id, station.as_ref()),
        })
    }

    /// Runs a station (retrying transient failures), checks the result, records it. Returns
    /// what it produced when it ran, and the outcome either way. The run's journal says it
    /// started and ended, so a kill in between names it (a station with a check at once: it
    /// may act on the world from its first line).
    pub(super) fn call_and_record(
        &self,
        call: Call<'_>,
        head: Head,
        reason: Reason,
    ) -> (Option<Done>, Outcome) {
        let (journal, path) = (self.settings.journal.as_deref(), call.path);
        let now = call.station.has_check();
        journal.inspect(|journal| journal.start(path, now));
        let done = self.call_and_record_now(call, head, reason);
        journal.inspect(|journal| journal.end(path));
        done
    }

    fn call_and_record_now(
        &self,
        call: Call<'_>,
        mut head: Head,
        mut reason: Reason,
    ) -> (Option<Done>, Outcome) {
        if let Some(listener) = &self.settings.listener {
            listener(&crate::progress::Event::Running {
                node: call.path,
                name: call.station.name(),
            });
        }
        let started_at = (
            std::time::SystemTime::now(),
            rayon::current_thread_index().unwrap_or(0),
        );
        let started = Instant::now();
        // What it writes, others may read: discovered inputs are looked at again after it.
        self.checked.new_epoch();
        let attempts = self.call_with_retries(&call, &head);
        self.checked.new_epoch();
        let (value, sightings) = match attempts.last {
            Ok(ran) => ran,
            Err(failure) => {
                let mut outcome = Outcome::failed(started.elapsed(), Some(reason), failure.message);
                outcome.kept_dir = attempts.kept_dir;
                outcome.started = Some(started_at);
                return (None, outcome);
            }
        };
        let duration = started.elapsed();
        if attempts.failed > 0 {
            reason
                .to_mut()
                .push_str(&format!(" (succeeded on attempt {})", attempts.failed + 1));
        }
        #[cfg(feature = "temporal")]
        if let Some(place) = self.where_it_ran(call.path) {
            reason.to_mut().push_str(&place);
        }
        let failed = |message: String| (None, Outcome::failed(duration, None, message));
        let (encoded, paths) = match (call.codec.encode)(&*value) {
            Ok(encoded) => encoded,
            Err(error) => return failed(format!("its output cannot be stored: {}", chain(&error))),
        };
        let content = match self.hash_files(paths) {
            Ok(files) => memo::content(&encoded, files),
            Err(error) => return failed(chain(&error)),
        };
        let discovered: Vec<Discovered> = sightings.iter().map(|s| s.input.clone()).collect();
        let produced = Produced {
            content: &content,
            encoded: &encoded,
            discovered: &discovered,
        };
        let recorded = match discovered::changed_while_running(&sightings) {
            Some(path) => {
                reason.to_mut().push_str(&format!(
                    "{NOT_RECORDED}{path} changed while the station ran"
                ));
                Ok(false)
            }
            None => self.record_result(&call, &mut head, &produced, duration, &mut reason),
        };
        let recorded = match recorded {
            Ok(recorded) => recorded,
            Err(message) => return (None, Outcome::failed(duration, Some(reason), message)),
        };
        let outcome = Outcome {
            status: Status::Ran,
            started: Some(started_at),
            duration,
            reason: Some(reason),
            error: None,
            kept_dir: attempts.kept_dir,
        };
        let done = Done {
            value,
            content,
            discovered,
            recorded,
        };
        (Some(done), outcome)
    }

    /// Attempts a call until one succeeds or a failure is not worth another, each failed
    /// attempt's directory kept aside.
    fn call_with_retries(&self, call: &Call<'_>, head: &Head) -> Attempts<(Shared, Vec<Sighting>)> {
        let policy = call.policy;
        self.with_retries(call, head, |attempt| {
            #[cfg(feature = "temporal")]
            let result = self
                .elsewhere(call, head)
                .unwrap_or_else(|| self.attempt(call, &policy, attempt));
            #[cfg(not(feature = "temporal"))]
            let result = self.attempt(call, &policy, attempt);
            let kept = match result {
                Ok(_) => None,
                Err(_) => self.keep_failed_dir(call.path, attempt),
            };
            (result, kept)
        })
    }

    /// Makes attempts with `once` (given the attempt's number, from 0; it returns its result
    /// and the directory it kept of a failure) until one succeeds or a failure is not worth
    /// another: a transient failure is tried again after a backoff that doubles, up to the
    /// retries of the policy the station has in this run. Each failed attempt, of a visit or
    /// of a check, is observed in the ledger the same way.
    pub(super) fn with_retries<T>(
        &self,
        call: &Call<'_>,
        head: &Head,
        mut once: impl FnMut(u32) -> (Result<T, Failure>, Option<PathBuf>),
    ) -> Attempts<T> {
        let policy = call.policy;
        let mut kept_dir = None;
        let mut attempt = 0;
        loop {
            let attempt_started = Instant::now();
            let (result, kept) = once(attempt);
            let failure = match result {
                Ok(value) => {
                    return Attempts {
                        last: Ok(value),
                        failed: attempt,
                        kept_dir,
                    };
                }
                Err(failure) => failure,
            };
            kept_dir = kept;
            let elapsed = attempt_started.elapsed();
            self.observe(call, head, &failure, elapsed, kept_dir.as_deref());
            if !failure.transient || attempt >= policy.retries {
                return Attempts {
                    last: Err(failure),
                    failed: attempt,
                    kept_dir,
                };
            }
            std::thread::sleep(policy.backoff.saturating_mul(1 << attempt.min(16)));
            attempt += 1;
        }
    }

    /// One call of the station's function (attempt `number`, from 0), then its check: the
    /// visit must leave the world in the state its check asks for. Returns its value and the
    /// inputs it discovered.
    pub(super) fn attempt(
        &self,
        call: &Call<'_>,
        policy: &Policy,
        number: u32,
    ) -> Result<(Shared, Vec<Sighting>), Failure> {
        let args = (call.args)().map_err(|error| Failure::fatal(chain(&error)))?;
        let ctx = Arc::new(self.ctx(call, number));
        let (value, args) = match policy.timeout {
            // An async station's limit cancels its future, on this thread (`Ctx::limit`).
            Some(limit) if !call.station.is_async() => {
                call::run_with_timeout(call.station.clone(), ctx.clone(), args, limit)?
            }
            _ => (call::run(call.station.as_ref(), &ctx, &args)?, args),
        };
        if call.station.has_check() {
            // A check that errors here fails the attempt: a transient error visits again.
            let checked = call::ask_check_within(call.station, args, value.clone(), policy.timeout)
                .map_err(|failure| failure.with_log(&ctx))?;
            if let Some(drift) = checked.drift() {
                return Err(Failure::fatal(format!(
                    "work required after visit: `{}` ran, but its check still says the work is \
                     not done ({drift}); the station or its check is wrong",
                    call.path
                ))
                .with_log(&ctx));
            }
        }
        Ok((value, ctx.discovery.take()))
    }

    fn ctx(&self, call: &Call<'_>, number: u32) -> Ctx {
        Ctx {
            id: call.station.id(),
            out_dir: self.store.work_dir(&self.settings.profile, call.path),
            dirs_made: self.dirs_made.clone(),
            label: call.label.map(Box::from),
            stopping: self.stop.clone(),
            cancelled: Arc::default(),
            log: Arc::default(),
            capture: self.capture.clone(),
            node: call.path.into(),
            listener: self.settings.listener.clone(),
            discovery: crate::discovered::Discovery::new(self.stats.clone()),
            children: Default::default(),
            journal: self.settings.journal.clone(),
            warnings: self.warnings_of(call.path, number),
            #[cfg(feature = "tokio")]
            tokio: self.settings.tokio.clone(),
            #[cfg(feature = "tokio")]
            limit: call.policy.timeout,
        }
    }

    /// Moves a failed attempt's directory aside, as it was at the failure, so the next
    /// attempt starts from a fresh one and the failing environment can be investigated.
    fn keep_failed_dir(&self, path: &str, attempt: u32) -> Option<PathBuf> {
        let dir = self.store.work_dir(&self.settings.profile, path);
        if !dir.exists() {
            return None;
        }
        let kept = self.store.failed_dir(
            &self.settings.profile,
            path,
            self.settings.run_id.get(),
            attempt,
        );
        let moved = kept
            .parent()
            .map_or(Ok(()), crate::privacy::create_dir_all)
            .and_then(|()| std::fs::rename(&dir, &kept));
        match moved {
            Ok(()) => Some(kept),
            Err(error) => {
                self.warn(format!(
                    "the failing directory {} could not be kept: {error}",
                    dir.display()
                ));
                Some(dir)
            }
        }
    }
}
