//! Durability: how a result becomes a record, and when it is safe to say so. A station runs
//! under its node's lease, so two processes never compute one node at once. Its output is
//! stored (blob files synced) and its record queued; records are committed in batches, one
//! transaction for many stations (while the pool runs, by a thread of their own:
//! `committer`), and a node's lease is let go only once its record is
//! durable, so a process waiting for the lease finds the record when it looks again. A kill
//! loses at most one batch, whose stations then run again; a result whose inputs changed
//! while it ran is never recorded; a batch that fails to commit makes its stations failures
//! of the run, which stops.

use super::Execution;
use super::call::{Call, Failure};
use crate::discovered::Discovered;
use crate::error::{Error, chain};
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::lease::Lease;
use crate::memo::{self, Content, Head};
use crate::store::Store;
use crate::store::records::Prepared;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Records are committed in batches of at most this many, or this old: one transaction for
/// many stations. A kill loses at most one batch, whose stations then run again (their keys
/// are content hashes, so nothing recorded is ever wrong); a run reports only after its last
/// batch is committed, and holds each node's lease until its record is durable.
const BATCH_RECORDS: usize = 256;
pub(super) const BATCH_TIME: Duration = Duration::from_millis(50);

/// What a run's reason says when a station's result was not recorded.
pub(super) const NOT_RECORDED: &str = "; not recorded: ";

/// What a station produced, ready to be recorded.
pub(super) struct Produced<'a> {
    pub(super) content: &'a Content,
    pub(super) encoded: &'a [u8],
    /// The inputs it discovered while it ran, with their content hashes.
    pub(super) discovered: &'a [Discovered],
}

/// Records waiting to be committed, and the leases waiting for them.
#[derive(Default)]
pub(super) struct Batch<'g> {
    records: Vec<Prepared>,
    leases: Vec<Lease<'g>>,
    started: Option<Instant>,
    /// The thread committing in the background while the pool runs, if one is.
    pub(super) committer: Option<std::sync::Arc<super::committer::Wake>>,
}

impl Batch<'_> {
    /// Whether the batch is full or old enough to be committed.
    pub(super) fn is_due(&self) -> bool {
        self.records.len() >= BATCH_RECORDS
            || self.started.is_some_and(|at| at.elapsed() >= BATCH_TIME)
    }
}

impl<'g> Execution<'g> {
    /// Takes a node's lease, waiting for another process holding it; while waiting, this
    /// run's own batch is committed, so two runs waiting for each other's nodes both go on.
    pub(super) fn lease(&self, id: NodeId) -> Result<Lease<'g>, Error> {
        let store: &'g Store = self.store;
        store.lease(&self.settings.profile, &self.paths[id.index()], &|| {
            self.flush()
        })
    }

    /// Lets go of a node's lease once its record is durable: with the batch its record is
    /// in, if that is still waiting; else once the commit in progress, which may hold it, is
    /// done (a record queued before its lease is let go is in the waiting batch or in one a
    /// flush has taken, and a flush takes a batch only while it holds `committing`).
    pub(super) fn release(&self, lease: Lease<'g>) {
        let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        if !batch.records.is_empty() {
            batch.leases.push(lease);
            return;
        }
        drop(batch);
        let committed = self.committing.lock().unwrap_or_else(|e| e.into_inner());
        drop(lease);
        drop(committed);
    }

    /// Commits the records waiting in the batch, in one transaction, then releases the leases
    /// that waited for them. One flush at a time: a lease let go meanwhile waits for it.
    /// Nothing is committed before the run is recorded (they wait in the batch), nor once
    /// it could not be.
    pub(crate) fn flush(&self) {
        let _committing = self.committing.lock().unwrap_or_else(|e| e.into_inner());
        if !self.settings.run_id.is_known() {
            return;
        }
        let batch = std::mem::take(&mut *self.batch.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.records.is_empty() || self.refused.load(Ordering::Acquire) {
            return;
        }
        if let Err(error) = self.store.commit_all(&batch.records) {
            // Their stations ran but nothing remembers it: they are failures of this run,
            // and it stops. Their outputs were never named by a record, so nothing is wrong.
            let message = format!("its result could not be recorded: {}", chain(&error));
            let mut unrecorded = self.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
            unrecorded.extend(
                batch
                    .records
                    .iter()
                    .map(|r| (r.node().to_owned(), message.clone())),
            );
            self.stop.store(true, Ordering::Release);
        }
        drop(batch.leases);
    }

    /// The run could not be recorded (its store's database was refused): no other station
    /// starts, and no record of it is committed; its stations run again in the next run.
    pub(crate) fn refuse(&self) {
        self.refused.store(true, Ordering::Release);
        self.stop.store(true, Ordering::Release);
    }

    /// Records a station's result, unless a file it read changed while it ran: then the
    /// reason says so and nothing is recorded (`Ok(false)`). A result that cannot be stored
    /// is an `Err`, observed as a failure of the station.
    pub(super) fn record_result(
        &self,
        call: &Call<'_>,
        head: &mut Head,
        produced: &Produced<'_>,
        duration: Duration,
        reason: &mut memo::Reason,
    ) -> Result<bool, String> {
        let read = call
            .read
            .iter()
            .filter_map(|source| self.contents[source.index()].get());
        if let Some(changed) = memo::changed_during_run(read.flat_map(|content| &content.files)) {
            reason.to_mut().push_str(&format!(
                "{NOT_RECORDED}{} changed while the station ran",
                changed.display()
            ));
            return Ok(false);
        }
        head.values = (call.input_values)();
        let station = call.station.id();
        if let Err(error) = self.record(station, call.path, head, produced, duration) {
            // A result that cannot be stored would have to be computed again by every
            // later run: the station fails, and the run stops (a full disk stays full).
            let message = format!("its result could not be stored: {}", chain(&error));
            let failure = Failure::fatal(message.clone());
            self.observe(call, head, &failure, duration, None);
            return Err(message);
        }
        Ok(true)
    }

    /// Stores a finished station's output and queues its record for the next commit
    /// ([`flush_if_due`](Execution::flush_if_due)).
    pub(super) fn record(
        &self,
        station: &str,
        path: &str,
        head: &Head,
        produced: &Produced<'_>,
        duration: Duration,
    ) -> Result<(), Error> {
        let files: Vec<(PathBuf, Digest)> = produced
            .content
            .files
            .iter()
            .map(|(p, seen)| (p.clone(), seen.digest))
            .collect();
        let commit = crate::store::records::Commit {
            profile: &self.settings.profile,
            station,
            node: path,
            head,
            output_hash: &produced.content.digest,
            encoded: produced.encoded,
            files: &files,
            discovered: produced.discovered,
            used_dir: self.left_dir(path),
            duration_ns: duration.as_nanos() as i64,
        };
        let prepared = self.store.prepare(&commit)?;
        let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        if batch.records.is_empty() {
            batch.started = Some(Instant::now());
        }
        batch.records.push(prepared);
        Ok(())
    }

    /// Commits the batch if it is full or old enough: wakes the committer when one runs,
    /// else commits here. Asked when a task is done, after the stations it made ready are
    /// started, so that the sync never delays them.
    pub(super) fn flush_if_due(&self) {
        let committer = {
            let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
            if !batch.is_due() {
                return;
            }
            batch.committer.clone()
        };
        match committer {
            Some(wake) => wake.ring(),
            None => self.flush(),
        }
    }
}
