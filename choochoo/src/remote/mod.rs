//! The remote cache: a second-level cache shared by many stores, over the Bazel Remote
//! Execution API v2 (REAPI), so a team's CI runners and laptops share station results with
//! any REAPI cache server (bazel-remote, BuildBuddy, Buildbarn, NativeLink, BuildGrid...).
//!
//! The local store stays the first level. On a local miss, the station's key is looked up
//! in the server's ActionCache; on a hit, the result's blobs are downloaded from its CAS,
//! every byte is hashed again (the SHA-256 the wire names, then the BLAKE3 identity the
//! store uses), its files are written into the station's directory, and the result is
//! recorded locally, so the next run is a local hit. A result that does not verify is a miss
//! and a warning, never a value. With [`Download::Outputs`](download::Download) or
//! `Minimal`, only the metadata of a hit is downloaded at once (the ActionResult and its
//! manifest) and its files stay in the CAS, remembered by digest and fetched when needed
//! (`download.rs`, `fetch.rs`). With writes enabled ([`Remote::write`]), each station that
//! runs is uploaded: blobs first (only those the server lacks), then the ActionResult.
//!
//! **Keys.** Each station key maps to an `Action` whose `Command` names the station id, its
//! code fingerprint, its output type and the profile, and whose input root lists one file
//! per input, named by the input's content digest: the same key space could serve remote
//! execution later. The ActionResult lists a manifest blob (`choochoo/value`: the output's
//! encoding and the BLAKE3 digest of each file inside it) and one output file per file.
//!
//! **Machine independence.** A store keeps absolute paths, and a station's files live under
//! its store's `work/` directory, which differs from machine to machine. So the remote sees
//! values in a *portable* form: paths under `work/` are encoded relative to it (and joined
//! under the local `work/` on the way in, through the same checks as any output name), and
//! remote keys are made of portable content digests. Two stores at different places share
//! results, including those of stations downstream of a file-producing station. A result
//! naming a file outside `work/`, or a directory, is not shared (it stays local; the reason
//! is logged at debug level). Inputs outside the store (a workflow's own files) count by the
//! path the workflow gives and their content, so run workflows from the same relative place
//! (or with the same absolute paths) to share their stations.
//!
//! Stations with a check or a clean function change the world outside the store, so they
//! never take a remote result; map items are remembered locally only. `plan` and `status`
//! read the local store only: a station the remote has still shows as one that will run.
//!
//! **Failures.** An unreachable, slow or failing server costs a warning (once) and bounded
//! time: connecting and every call have a time limit, and after a connection failure or a
//! time-out the remote is left alone for the rest of the run. A run never fails because of
//! the cache.
//!
//! **TLS and credentials.** A `grpcs://` URL connects over TLS (rustls), trusting the
//! system's roots or the CA file given, with a client certificate for a server that asks for
//! one; a TLS failure is a warning in plain words and a local-only run, never a plain-text
//! connection. Headers and a bearer token go with every call and are never shown. The first
//! call asks the server for its capabilities, alone, so a server that refuses the
//! credentials (`UNAUTHENTICATED`, `PERMISSION_DENIED`) costs one call and one warning.

mod auth;
mod client;
pub(crate) mod config;
mod connector;
pub(crate) mod download;
pub(crate) mod fetch;
mod problem;
mod tls;
pub(crate) mod wire;

use crate::error::Error;
use client::Client;
use config::Remote;
use problem::Problem;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use wire::{Fetched, WireDigest};

/// A connection to a remote cache, shared by a runner's runs: a small runtime of its own
/// drives many calls at once on one channel, submitted from the scheduler's threads.
pub(crate) struct Cache {
    remote: Remote,
    /// Taken when the cache is dropped.
    runtime: Option<tokio::runtime::Runtime>,
    client: Result<Arc<Client>, String>,
    reporter: Arc<Reporter>,
    uploads: Mutex<Vec<Receiver<()>>>,
}

/// A lookup in flight. Its answer comes through a plain channel, not the runtime, so a run
/// can wait for it from any thread, even one of another tokio runtime.
pub(crate) type Pending = Receiver<Option<Fetched>>;

impl Cache {
    /// Prepares the connection; nothing is sent until the first lookup. A bad URL leaves
    /// the cache off, with a warning at the first lookup.
    pub(crate) fn new(remote: Remote) -> Result<Cache, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("choochoo-remote")
            .enable_all()
            .build()
            .map_err(|error| {
                Error::usage(format!("cannot start the remote cache's runtime: {error}"))
            })?;
        let client = {
            let _guard = runtime.enter();
            Client::new(&remote).map(Arc::new)
        };
        let reporter = Arc::new(Reporter {
            url: remote.url.clone(),
            off: AtomicBool::new(false),
            warned: Mutex::default(),
            warnings: Mutex::default(),
        });
        Ok(Cache {
            remote,
            runtime: Some(runtime),
            client,
            reporter,
            uploads: Mutex::default(),
        })
    }

    pub(crate) fn writes(&self) -> bool {
        self.remote.write
    }

    fn client(&self) -> Option<Arc<Client>> {
        match &self.client {
            Ok(client) if !self.reporter.off.load(Ordering::Acquire) => Some(client.clone()),
            Ok(_) => None,
            Err(problem) => {
                self.reporter.warn_once(
                    "config",
                    format!(
                        "the remote cache is off: {problem}; this run goes on with the local \
                         store only"
                    ),
                );
                None
            }
        }
    }

    /// Which files of remote hits are downloaded.
    pub(crate) fn download(&self) -> download::Download {
        self.remote.download
    }

    /// Starts looking `action` up and downloading its result, its files' bytes only when
    /// `bytes` says so; [`wait`](Cache::wait) for it.
    pub(crate) fn lookup(&self, node: &str, action: WireDigest, bytes: bool) -> Option<Pending> {
        let client = self.client()?;
        let reporter = self.reporter.clone();
        let node = node.to_owned();
        let (send, receive) = sync_channel(1);
        self.runtime.as_ref()?.spawn(async move {
            let found = match client.fetch(&action, bytes).await {
                Ok(found) => found,
                Err(problem) => {
                    reporter.problem(&node, problem);
                    None
                }
            };
            let _ = send.send(found);
        });
        Some(receive)
    }

    /// The result of a lookup: `None` for a miss, an error or a rejected result.
    pub(crate) fn wait(&self, pending: Pending) -> Option<Fetched> {
        pending.recv().ok().flatten()
    }

    /// Reads blobs from the server's CAS, each checked against its digest; by hash. An
    /// `Err` says why they cannot be had (the server is off, unreachable, or lacks one).
    pub(crate) fn blobs(
        &self,
        digests: Vec<WireDigest>,
    ) -> Result<std::collections::HashMap<String, Vec<u8>>, String> {
        self.block_on(|client| async move { client.blobs(digests).await })
    }

    /// Stores blobs in the server's CAS (those it lacks) and waits for it. An `Err` says
    /// why they cannot be stored.
    #[cfg(feature = "temporal")]
    pub(crate) fn put(&self, blobs: Vec<wire::Blob>) -> Result<(), String> {
        self.block_on(|client| async move { client.put(&blobs).await })
    }

    /// Runs one request on the cache's runtime and waits for its answer, explained.
    fn block_on<R, F>(&self, request: impl FnOnce(Arc<Client>) -> F) -> Result<R, String>
    where
        R: Send + 'static,
        F: std::future::Future<Output = Result<R, Problem>> + Send + 'static,
    {
        let client = self
            .client()
            .ok_or_else(|| format!("the remote cache {} is off for this run", self.remote.url))?;
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| "the remote cache is shut down".to_owned())?;
        let (send, receive) = sync_channel(1);
        let answer = request(client);
        runtime.spawn(async move {
            let _ = send.send(answer.await);
        });
        let answer = receive
            .recv()
            .map_err(|_| "the remote cache stopped".to_owned())?;
        answer.map_err(|problem| self.reporter.explain(problem))
    }

    /// Uploads a station's result in the background; [`finish`](Cache::finish) waits for it.
    pub(crate) fn upload(&self, node: &str, upload: wire::Upload) {
        let Some(client) = self.client() else { return };
        let reporter = self.reporter.clone();
        let node = node.to_owned();
        let (done, finished) = sync_channel(1);
        let Some(runtime) = &self.runtime else { return };
        runtime.spawn(async move {
            if let Err(problem) = client.upload(upload).await {
                reporter.problem(&node, problem);
            }
            let _ = done.send(());
        });
        self.uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(finished);
    }

    /// Waits for the uploads in flight (each call bounded by the time limit), and returns
    /// the warnings the cache gave since the last call.
    pub(crate) fn finish(&self) -> Vec<String> {
        let uploads = std::mem::take(&mut *self.uploads.lock().unwrap_or_else(|e| e.into_inner()));
        for upload in uploads {
            let _ = upload.recv();
        }
        std::mem::take(
            &mut *self
                .reporter
                .warnings
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Warns that the remote result of `node` was not used, and why.
    pub(crate) fn rejected(&self, node: &str, why: &str) {
        self.reporter
            .problem(node, Problem::Rejected(why.to_owned()));
    }
}

/// Turns the cache's problems into warnings: once for a server that cannot be reached or
/// refuses calls, each time for a result that does not verify.
struct Reporter {
    url: String,
    /// Set after a connection failure or a time-out: the rest of the run stays local.
    off: AtomicBool,
    warned: Mutex<HashSet<&'static str>>,
    warnings: Mutex<Vec<String>>,
}

impl Reporter {
    /// What a failed read of blobs says, in a few words; a server that cannot be reached is
    /// left alone for the rest of the run, as after a failed lookup.
    fn explain(&self, problem: Problem) -> String {
        let url = &self.url;
        match problem {
            Problem::Unreachable(why) | Problem::Tls(why) | Problem::Denied(why) => {
                self.off.store(true, Ordering::Release);
                format!("the remote cache {url} cannot be used: {why}")
            }
            Problem::Missing => format!("the remote cache {url} no longer has them"),
            Problem::WriteDenied(why)
            | Problem::Changed(why)
            | Problem::Refused(why)
            | Problem::Rejected(why) => format!("the remote cache {url}: {why}"),
        }
    }

    fn problem(&self, node: &str, problem: Problem) {
        let url = &self.url;
        match problem {
            Problem::Unreachable(why) => self.off(
                format!("the remote cache {url} is unreachable or too slow ({why})"),
            ),
            Problem::Tls(why) => self.off(
                format!("the remote cache {url} failed the TLS handshake: {why}"),
            ),
            Problem::Denied(why) => self.off(
                format!("the remote cache {url} refused the credentials ({why})"),
            ),
            Problem::WriteDenied(why) => self.warn_once(
                "write-denied",
                format!(
                    "the remote cache {url} refused to store a result ({why}); nothing more \
                     is uploaded this run, lookups go on"
                ),
            ),
            Problem::Changed(why) => {
                tracing::debug!("the result of `{node}` was not uploaded: {why}");
            }
            Problem::Missing => self.warn(format!(
                "the remote result of `{node}` from {url} names a blob the server does not have; running it here"
            )),
            Problem::Refused(why) => self.warn_once(
                "refused",
                format!("the remote cache {url} answered with an error ({why}); `{node}` and others may run here"),
            ),
            Problem::Rejected(why) => self.warn(format!(
                "the remote result of `{node}` from {url} was rejected ({why}); running it here"
            )),
        }
    }

    /// Turns the remote off for the rest of the run, with one warning, whatever the reason.
    fn off(&self, warning: String) {
        self.off.store(true, Ordering::Release);
        self.warn_once(
            "off",
            format!("{warning}; this run goes on with the local store only"),
        );
    }

    fn warn_once(&self, kind: &'static str, warning: String) {
        if self
            .warned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind)
        {
            self.warn(warning);
        }
    }

    fn warn(&self, warning: String) {
        eprintln!("choochoo: warning: {warning}");
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning);
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        // Whatever is still in flight is abandoned, without blocking (which would panic
        // inside another runtime).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}
