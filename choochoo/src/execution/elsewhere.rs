//! Run here or send there: with Temporal workers, a station that must run is sent to one
//! (its inputs' encodings stored in the remote cache's CAS first, unless this run knows the
//! CAS has them), and its output's encoding comes back with the answer (or from the CAS),
//! verified, and decoded; the attempt then goes on as any other (the ledger, the record;
//! Temporal made its transient retries). A station with a check or a clean changes the
//! world where the coordinator is, a station reading files has them here, and a map's items
//! are known only here: those run here.

use super::Execution;
use super::call::{Call, Failure};
use crate::discovered::Sighting;
use crate::error::chain;
use crate::memo::Head;
use crate::remote::wire::{self, Blob, Source};
use crate::temporal::task::{Answer, BlobRef, Kind, Task};
use crate::value::Shared;

impl Execution<'_> {
    /// The attempt of `call` made on a worker, or `None` when it runs here.
    pub(super) fn elsewhere(
        &self,
        call: &Call<'_>,
        head: &Head,
    ) -> Option<Result<(Shared, Vec<Sighting>), Failure>> {
        let dispatch = self.settings.temporal.as_ref()?;
        // A map's items run here: a worker knows the stations of its graph, not the items
        // of a list it never read.
        let item = crate::report::split_item(call.path).is_some();
        if item || call.station.has_check() || call.station.has_clean() {
            return None;
        }
        let blobs = self.input_blobs(call)?;
        Some(
            self.send(dispatch, call, head, blobs)
                .map(|value| (value, Vec::new())),
        )
    }

    /// The encodings of the values `call` reads, or `None` when one holds files.
    fn input_blobs(&self, call: &Call<'_>) -> Option<Vec<Blob>> {
        let mut blobs = Vec::new();
        for &source in call.read {
            let value = self.value(source).ok()?;
            let (encoded, files) = (self.graph.node(source).codec.encode)(value).ok()?;
            if !files.is_empty() {
                return None;
            }
            blobs.push(Blob {
                path: String::new(),
                digest: wire::sha256(&encoded),
                source: Source::Bytes(encoded),
            });
        }
        Some(blobs)
    }

    fn send(
        &self,
        dispatch: &crate::temporal::client::Dispatch,
        call: &Call<'_>,
        head: &Head,
        blobs: Vec<Blob>,
    ) -> Result<Shared, Failure> {
        let cache = self.settings.remote.as_ref().ok_or_else(|| {
            Failure::fatal("stations run on workers need a remote cache (`--remote`)".to_owned())
        })?;
        let task = Task {
            node: call.path.to_owned(),
            fingerprint: call.station.fingerprint().to_hex(),
            inputs: blobs.iter().map(|blob| BlobRef::of(&blob.digest)).collect(),
            retries: call.policy.retries,
        };
        let unsent: Vec<Blob> = (blobs.into_iter())
            .filter(|blob| !dispatch.in_cas(&blob.digest.hash))
            .collect();
        let hashes: Vec<String> = unsent.iter().map(|blob| blob.digest.hash.clone()).collect();
        if !unsent.is_empty() {
            cache.put(unsent).map_err(|why| {
                Failure::fatal(format!("its inputs cannot be sent to workers: {why}"))
            })?;
            dispatch.stored(hashes.iter().map(String::as_str));
        }
        let id = format!("{}/{}/{}", self.settings.profile, call.path, head.key);
        // Temporal tried a worker's transient failures again as the policy says; one that
        // did not reach a worker is tried again here.
        let answer = dispatch
            .send(id, task, &call.policy, self.runs_again(head))
            .inspect_err(|failed| self.note_ran_on(call.path, failed.worker.as_deref(), 0))
            .map_err(|failed| Failure {
                transient: failed.kind == Kind::Transient && failed.worker.is_none(),
                worker: failed.worker.map(Box::from),
                ..Failure::fatal(failed.message)
            })?;
        dispatch.stored([answer.output.hash.as_str()]);
        self.note_ran_on(call.path, Some(&answer.worker), answer.attempt);
        let bytes = output_of(cache, answer)?;
        (call.codec.decode)(&bytes).map_err(|error| Failure::fatal(chain(&error)))
    }

    /// Whether the store holds a result for this key, and the station runs all the same
    /// (forced): a new activity, not the one that made that result.
    fn runs_again(&self, head: &Head) -> bool {
        let known = self.store.known_record(&self.settings.profile, &head.key);
        matches!(known, Ok(Some(_)))
    }

    /// Notes that station `path` ran on `worker` (when one answered), `attempt` the
    /// attempt that succeeded.
    fn note_ran_on(&self, path: &str, worker: Option<&str>, attempt: u32) {
        let Some(worker) = worker else { return };
        let mut ran_on = self.ran_on.lock().unwrap_or_else(|e| e.into_inner());
        ran_on.insert(path.into(), (worker.to_owned(), attempt));
    }

    /// The worker station `path` ran on, when it was sent to one.
    pub(super) fn ran_on_of(&self, path: &str) -> Option<String> {
        let ran_on = self.ran_on.lock().unwrap_or_else(|e| e.into_inner());
        ran_on.get(path).map(|(worker, _)| worker.clone())
    }

    /// Where station `path` ran, for its reason: `on worker NAME`, when it was sent to one,
    /// and the attempt that succeeded when Temporal tried it again.
    pub(super) fn where_it_ran(&self, path: &str) -> Option<String> {
        let ran_on = self.ran_on.lock().unwrap_or_else(|e| e.into_inner());
        let (worker, attempt) = ran_on.get(path)?;
        let again = match *attempt > 1 {
            true => format!(" (succeeded on attempt {attempt})"),
            false => String::new(),
        };
        Some(format!(" (on worker {worker}){again}"))
    }
}

/// The encoding of the output a worker answered with: the one it carries, or the one in the
/// CAS, checked against its digest either way.
fn output_of(cache: &crate::remote::Cache, answer: Answer) -> Result<Vec<u8>, Failure> {
    let output = answer.output.digest();
    if let Some(bytes) = answer.inline {
        return wire::verify(&output, &bytes)
            .map(|()| bytes)
            .map_err(|why| Failure::fatal(format!("the output a worker answered with: {why}")));
    }
    cache
        .blobs(vec![output.clone()])
        .map_err(|why| {
            Failure::fatal(format!(
                "its output cannot be had from the remote cache: {why}"
            ))
        })?
        .remove(&output.hash)
        .ok_or_else(|| Failure::fatal("its output is missing from the remote cache".to_owned()))
}
