//! The calls to the server: ActionCache lookups and updates, CAS reads and writes in batches
//! under the server's size limit, ByteStream for larger blobs. Every call has a time limit
//! and carries the credentials; every blob read is checked against its digest before anyone
//! sees it. The server is asked for its capabilities first, alone: when it cannot be
//! reached, fails TLS or refuses the credentials, no other call is sent.

mod blobs;

use super::auth::Credentials;
use super::config::Remote;
use super::connector::Connector;
use super::problem::Problem;
use super::tls::Seen;
use super::wire::{self, Fetched, Source, Upload, VALUE, WORK, WireDigest};
use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use re::action_cache_client::ActionCacheClient;
use re::capabilities_client::CapabilitiesClient;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// The channel, every call through it carrying the credentials.
type Service = InterceptedService<Channel, Credentials>;

/// Batches stay this far under the server's limit: the rest of the message needs room.
const BATCH_MARGIN: usize = 64 * 1024;
/// gRPC's usual message limit, for servers that advertise none.
const MESSAGE_LIMIT: usize = 4 * 1024 * 1024;
/// ByteStream chunks.
const CHUNK: usize = 1024 * 1024;
/// Lookups and uploads in flight at once on the channel, at first; each time the server
/// says it is too busy, one fewer, down to [`MIN_IN_FLIGHT`].
const IN_FLIGHT: usize = 32;
const MIN_IN_FLIGHT: usize = 2;
/// Digests per FindMissingBlobs call.
const FIND_CHUNK: usize = 4096;
/// Tries of a call the server turned away as too busy (`RESOURCE_EXHAUSTED`), waiting twice
/// as long each time from 5 ms: servers cap concurrent calls (BuildGrid at 5 per core).
const BUSY_TRIES: u32 = 12;

/// One channel to the server and what it said about itself.
pub(crate) struct Client {
    channel: Channel,
    /// With TLS, the last TLS error a connection met: what a call that found its connection
    /// closed actually failed on.
    tls_seen: Option<Arc<Seen>>,
    credentials: Credentials,
    instance: String,
    timeout: Duration,
    /// The batch limit, once the server answered the first call; or why it cannot be used.
    ready: tokio::sync::OnceCell<Result<usize, Problem>>,
    /// Set when the server refused to store a result.
    write_refusal: std::sync::OnceLock<Problem>,
    slots: Arc<tokio::sync::Semaphore>,
    /// How many slots there are now.
    in_flight: AtomicUsize,
}

impl Client {
    /// A client for `remote`; connects at the first call.
    pub(crate) fn new(remote: &Remote) -> Result<Client, String> {
        if let Some(problem) = &remote.invalid {
            return Err(problem.clone());
        }
        let credentials = Credentials::new(remote)?;
        // A TLS endpoint is named `http://` to tonic: the connector does TLS itself.
        let (url, secure) = match remote.url.split_once("://") {
            Some(("grpc" | "http", rest)) => (format!("http://{rest}"), false),
            Some(("grpcs" | "https", rest)) => (format!("http://{rest}"), true),
            _ => {
                return Err(format!(
                    "{}: not a grpc://host:port (or grpcs://) address",
                    remote.url
                ));
            }
        };
        if !secure && (remote.ca.is_some() || remote.identity.is_some()) {
            return Err(format!(
                "{}: a CA or a client certificate is given for a plain-text URL; write grpcs://",
                remote.url
            ));
        }
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|error| format!("{}: {error}", remote.url))?
            .connect_timeout(remote.connect_timeout)
            .timeout(remote.timeout)
            .tcp_nodelay(true);
        let (channel, tls_seen) = if secure {
            let connector = connector(remote, &url)?;
            let seen = connector.seen();
            (endpoint.connect_with_connector_lazy(connector), Some(seen))
        } else {
            (endpoint.connect_lazy(), None)
        };
        Ok(Client {
            channel,
            tls_seen,
            credentials,
            instance: remote.instance.clone(),
            timeout: remote.timeout,
            ready: tokio::sync::OnceCell::new(),
            write_refusal: std::sync::OnceLock::new(),
            slots: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
            in_flight: AtomicUsize::new(IN_FLIGHT),
        })
    }

    /// Makes one call with the time limit, again after a pause while the server is busy.
    async fn call<T, F>(&self, mut make: impl FnMut() -> F) -> Result<T, Problem>
    where
        F: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut pause = Duration::from_millis(5);
        let mut tries = 1;
        loop {
            match tokio::time::timeout(self.timeout, make()).await {
                Ok(Ok(response)) => return Ok(response.into_inner()),
                Ok(Err(status))
                    if status.code() == tonic::Code::ResourceExhausted && tries < BUSY_TRIES =>
                {
                    self.fewer_in_flight();
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    tries += 1;
                }
                Ok(Err(status)) => return Err(self.problem(status)),
                Err(_) => {
                    return Err(Problem::Unreachable(format!(
                        "no answer within {:?}",
                        self.timeout
                    )));
                }
            }
        }
    }

    /// What a failed call's status means, with the TLS error behind a closed connection
    /// and no credential in it.
    fn problem(&self, status: tonic::Status) -> Problem {
        let problem = Problem::from(status);
        let seen = self.tls_seen.as_ref().and_then(|seen| seen.why());
        match (problem, seen) {
            (Problem::Unreachable(_), Some(why)) => Problem::Tls(why),
            (problem, _) => problem.scrubbed(&self.credentials),
        }
    }

    /// Takes one slot away for good (once one is free), unless few are left: the server
    /// turned a call away as too busy.
    fn fewer_in_flight(&self) {
        let shrunk = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n > MIN_IN_FLIGHT).then(|| n - 1)
            });
        if shrunk.is_ok() {
            let slots = self.slots.clone();
            tokio::spawn(async move {
                if let Ok(slot) = slots.acquire_owned().await {
                    slot.forget();
                }
            });
        }
    }

    /// Asks the server for its capabilities, once, before any other call: the most bytes
    /// one batch call may carry (the server's advertised limit, or gRPC's usual one, less
    /// room for the rest of the message), or why the remote cannot be used, which every
    /// later call gets without asking again.
    async fn ready(&self) -> Result<usize, Problem> {
        self.ready
            .get_or_init(|| async {
                let request = re::GetCapabilitiesRequest {
                    instance_name: self.instance.clone(),
                };
                let answer = self
                    .call(|| {
                        let mut client = CapabilitiesClient::new(self.service());
                        let request = request.clone();
                        async move { client.get_capabilities(request).await }
                    })
                    .await;
                let advertised = match answer {
                    Ok(caps) => caps
                        .cache_capabilities
                        .and_then(|cache| usize::try_from(cache.max_batch_total_size_bytes).ok())
                        .filter(|limit| *limit > 0)
                        .unwrap_or(MESSAGE_LIMIT),
                    Err(problem) if problem.is_fatal() => return Err(problem),
                    // A server that does not say (no Capabilities service) is still a cache.
                    Err(_) => MESSAGE_LIMIT,
                };
                Ok(advertised
                    .min(MESSAGE_LIMIT)
                    .saturating_sub(BATCH_MARGIN)
                    .max(1))
            })
            .await
            .clone()
    }

    /// The channel with the credentials, for one client.
    fn service(&self) -> Service {
        InterceptedService::new(self.channel.clone(), self.credentials.clone())
    }

    /// Looks `action` up and downloads its result, its files' bytes only when `bytes` says
    /// so; `Ok(None)` when the server has none.
    pub(crate) async fn fetch(
        &self,
        action: &WireDigest,
        bytes: bool,
    ) -> Result<Option<Fetched>, Problem> {
        self.ready().await?;
        let _slot = self.slots.acquire().await;
        let request = re::GetActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(action.clone()),
            // Servers that can (bazel-remote) send the manifest with the result: one round
            // trip fewer per station.
            inline_output_files: vec![VALUE.to_owned()],
            ..Default::default()
        };
        let lookup = self
            .call(|| {
                let mut client = ActionCacheClient::new(self.service());
                let request = request.clone();
                async move { client.get_action_result(request).await }
            })
            .await;
        let result = match lookup {
            Ok(result) => result,
            Err(Problem::Missing) => return Ok(None),
            Err(problem) => return Err(problem),
        };
        let mut inline = HashMap::new();
        let mut wanted: Vec<(&str, &WireDigest)> = Vec::new();
        for file in &result.output_files {
            let digest = file.digest.as_ref().ok_or_else(|| {
                Problem::Rejected(format!("output {:?} has no digest", file.path))
            })?;
            if file.path != VALUE && !file.path.starts_with(WORK) {
                return Err(Problem::Rejected(format!(
                    "it names an output {:?} that choochoo does not write",
                    file.path
                )));
            }
            if !file.contents.is_empty() {
                wire::verify(digest, &file.contents).map_err(Problem::Rejected)?;
                inline.insert(digest.hash.clone(), file.contents.clone());
            }
            wanted.push((&file.path, digest));
        }
        if !wanted.iter().any(|(path, _)| *path == VALUE) {
            return Err(Problem::Rejected(format!("it has no {VALUE}")));
        }
        let to_read = wanted
            .iter()
            .filter(|(path, _)| bytes || *path == VALUE)
            .filter(|(_, digest)| !inline.contains_key(&digest.hash))
            .map(|(_, digest)| (*digest).clone())
            .collect();
        let mut blobs = self.read(to_read).await?;
        blobs.extend(inline);
        let mut fetched = Fetched {
            manifest: Vec::new(),
            files: HashMap::new(),
        };
        for (path, digest) in wanted {
            let read = blobs.get(&digest.hash).cloned();
            match path.strip_prefix(WORK) {
                Some(relative) => {
                    let read = read.filter(|_| bytes);
                    fetched
                        .files
                        .insert(relative.to_owned(), (digest.clone(), read));
                }
                None => fetched.manifest = read.unwrap_or_default(),
            }
        }
        Ok(Some(fetched))
    }

    /// Reads blobs by digest, each checked against it; by hash.
    pub(crate) async fn blobs(
        &self,
        digests: Vec<WireDigest>,
    ) -> Result<HashMap<String, Vec<u8>>, Problem> {
        self.ready().await?;
        let _slot = self.slots.acquire().await;
        self.read(digests).await
    }

    /// Uploads a result, unless the server refused one already.
    pub(crate) async fn upload(&self, upload: Upload) -> Result<(), Problem> {
        let limit = self.ready().await?;
        let _slot = self.slots.acquire().await;
        if let Some(refusal) = self.write_refusal.get() {
            return Err(refusal.clone());
        }
        match self.send(upload, limit).await {
            Err(Problem::Denied(why)) => Err(self
                .write_refusal
                .get_or_init(|| Problem::WriteDenied(why))
                .clone()),
            result => result,
        }
    }

    /// Writes the blobs the server lacks, in batches under its limit (a larger one alone).
    async fn write_missing(&self, blobs: &[wire::Blob], limit: usize) -> Result<(), Problem> {
        let mut missing = self
            .find_missing(blobs.iter().map(|blob| blob.digest.clone()).collect())
            .await?;
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        for blob in blobs {
            // Each missing blob once, even when two paths have the same content.
            if !missing.remove(&blob.digest.hash) {
                continue;
            }
            let bytes = match &blob.source {
                Source::Bytes(bytes) => bytes.clone(),
                Source::File(path) => blobs::read_again(path, &blob.digest)?,
            };
            if bytes.len() > limit {
                self.write_stream(&blob.digest, &bytes).await?;
                continue;
            }
            if batch_bytes + bytes.len() > limit {
                self.write_batch(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += bytes.len();
            batch.push((blob.digest.clone(), bytes));
        }
        if !batch.is_empty() {
            self.write_batch(batch).await?;
        }
        Ok(())
    }

    /// Stores blobs in the CAS (those it lacks), without an ActionResult naming them.
    #[cfg(feature = "temporal")]
    pub(crate) async fn put(&self, blobs: &[wire::Blob]) -> Result<(), Problem> {
        let limit = self.ready().await?;
        let _slot = self.slots.acquire().await;
        self.write_missing(blobs, limit).await
    }

    /// Sends a result: the blobs the server lacks, then the ActionResult naming them.
    async fn send(&self, upload: Upload, limit: usize) -> Result<(), Problem> {
        let blobs = upload.blobs;
        self.write_missing(&blobs, limit).await?;
        let result = re::ActionResult {
            output_files: blobs
                .into_iter()
                .map(|blob| re::OutputFile {
                    path: blob.path,
                    digest: Some(blob.digest),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let request = re::UpdateActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(upload.action),
            action_result: Some(result),
            ..Default::default()
        };
        self.call(|| {
            let mut client = ActionCacheClient::new(self.service());
            let request = request.clone();
            async move { client.update_action_result(request).await }
        })
        .await
        .map(drop)
    }
}

/// The TLS connector to the server of `url` (`http://host[:port]`, 443 unless given).
fn connector(remote: &Remote, url: &str) -> Result<Connector, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|error| format!("{}: {error}", remote.url))?;
    let host = uri
        .host()
        .ok_or_else(|| format!("{}: no host", remote.url))?;
    Connector::new(remote, host, uri.port_u16().unwrap_or(443))
        .map_err(|why| format!("{}: {why}", remote.url))
}
