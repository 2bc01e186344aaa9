//! The calls to the server: ActionCache lookups and updates, CAS reads and writes in batches
//! under the server's size limit, ByteStream for larger blobs. Every call has a time limit;
//! every blob read is checked against its digest before anyone sees it.

use super::wire::{self, Download, Source, Upload, VALUE, WORK};
use super::{Remote, WireDigest};
use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::bytestream as bs;
use bs::byte_stream_client::ByteStreamClient;
use re::action_cache_client::ActionCacheClient;
use re::capabilities_client::CapabilitiesClient;
use re::content_addressable_storage_client::ContentAddressableStorageClient;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

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

/// Why a call did not give a usable answer.
#[derive(Debug)]
pub(crate) enum Problem {
    /// No connection, or no answer in time: the remote is left alone for the rest of the run.
    Unreachable(String),
    /// The server answered with an error.
    Refused(String),
    /// The server does not have what was asked for.
    Missing,
    /// The server's answer does not verify.
    Rejected(String),
    /// What was to be uploaded changed on disk since it was hashed.
    Changed(String),
}

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Problem {
        use tonic::Code;
        let message = format!("{:?}: {}", status.code(), status.message());
        match status.code() {
            Code::NotFound => Problem::Missing,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
                Problem::Unreachable(message)
            }
            _ => Problem::Refused(message),
        }
    }
}

/// One channel to the server and what it said about itself.
pub(crate) struct Client {
    channel: Channel,
    instance: String,
    timeout: Duration,
    batch_limit: tokio::sync::OnceCell<usize>,
    slots: Arc<tokio::sync::Semaphore>,
    /// How many slots there are now.
    in_flight: AtomicUsize,
}

impl Client {
    /// A client for `remote`; connects at the first call.
    pub(crate) fn new(remote: &Remote) -> Result<Client, String> {
        let url = match remote.url.split_once("://") {
            Some(("grpc" | "http", rest)) => format!("http://{rest}"),
            Some(("grpcs" | "https", _)) => {
                return Err(format!(
                    "{}: TLS is not supported yet; use a plain grpc:// endpoint (or a local TLS-terminating proxy)",
                    remote.url
                ));
            }
            _ => {
                return Err(format!("{}: not a grpc://host:port address", remote.url));
            }
        };
        let endpoint = Endpoint::from_shared(url)
            .map_err(|error| format!("{}: {error}", remote.url))?
            .connect_timeout(remote.connect_timeout)
            .timeout(remote.timeout)
            .tcp_nodelay(true);
        Ok(Client {
            channel: endpoint.connect_lazy(),
            instance: remote.instance.clone(),
            timeout: remote.timeout,
            batch_limit: tokio::sync::OnceCell::new(),
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
                Ok(Err(status)) => return Err(status.into()),
                Err(_) => {
                    return Err(Problem::Unreachable(format!(
                        "no answer within {:?}",
                        self.timeout
                    )));
                }
            }
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

    /// The most bytes one batch call may carry: the server's advertised limit (or gRPC's
    /// usual one), less room for the rest of the message.
    async fn batch_limit(&self) -> usize {
        *self
            .batch_limit
            .get_or_init(|| async {
                let request = re::GetCapabilitiesRequest {
                    instance_name: self.instance.clone(),
                };
                let advertised = self
                    .call(|| {
                        let mut client = CapabilitiesClient::new(self.channel.clone());
                        let request = request.clone();
                        async move { client.get_capabilities(request).await }
                    })
                    .await
                    .ok()
                    .and_then(|caps| caps.cache_capabilities)
                    .and_then(|cache| usize::try_from(cache.max_batch_total_size_bytes).ok())
                    .filter(|limit| *limit > 0)
                    .unwrap_or(MESSAGE_LIMIT);
                advertised
                    .min(MESSAGE_LIMIT)
                    .saturating_sub(BATCH_MARGIN)
                    .max(1)
            })
            .await
    }

    /// Looks `action` up and downloads its result; `Ok(None)` when the server has none.
    pub(crate) async fn fetch(&self, action: &WireDigest) -> Result<Option<Download>, Problem> {
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
                let mut client = ActionCacheClient::new(self.channel.clone());
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
            .filter(|(_, digest)| !inline.contains_key(&digest.hash))
            .map(|(_, digest)| (*digest).clone())
            .collect();
        let mut blobs = self.read(to_read).await?;
        blobs.extend(inline);
        let mut download = Download {
            manifest: Vec::new(),
            files: HashMap::new(),
        };
        for (path, digest) in wanted {
            let bytes = blobs.get(&digest.hash).cloned().unwrap_or_default();
            match path.strip_prefix(WORK) {
                Some(relative) => {
                    download
                        .files
                        .insert(relative.to_owned(), (digest.clone(), bytes));
                }
                None => download.manifest = blobs.remove(&digest.hash).unwrap_or(bytes),
            }
        }
        Ok(Some(download))
    }

    /// Reads blobs, small ones in batches and large ones by ByteStream, each checked
    /// against its digest; returns them by hash.
    async fn read(&self, digests: Vec<WireDigest>) -> Result<HashMap<String, Vec<u8>>, Problem> {
        let limit = self.batch_limit().await;
        let mut blobs = HashMap::new();
        let mut batch: Vec<WireDigest> = Vec::new();
        let mut batch_bytes = 0;
        for digest in digests {
            let size = usize::try_from(digest.size_bytes).map_err(|_| {
                Problem::Rejected(format!("blob {} has a negative size", digest.hash))
            })?;
            if blobs.contains_key(&digest.hash) || batch.contains(&digest) {
                continue;
            }
            if size == 0 {
                wire::verify(&digest, b"").map_err(Problem::Rejected)?;
                blobs.insert(digest.hash, Vec::new());
            } else if size > limit {
                let bytes = self.read_stream(&digest).await?;
                blobs.insert(digest.hash, bytes);
            } else {
                if batch_bytes + size > limit {
                    self.read_batch(std::mem::take(&mut batch), &mut blobs)
                        .await?;
                    batch_bytes = 0;
                }
                batch_bytes += size;
                batch.push(digest);
            }
        }
        if !batch.is_empty() {
            self.read_batch(batch, &mut blobs).await?;
        }
        Ok(blobs)
    }

    async fn read_batch(
        &self,
        digests: Vec<WireDigest>,
        blobs: &mut HashMap<String, Vec<u8>>,
    ) -> Result<(), Problem> {
        let request = re::BatchReadBlobsRequest {
            instance_name: self.instance.clone(),
            digests: digests.clone(),
            ..Default::default()
        };
        let response = self
            .call(|| {
                let mut client = ContentAddressableStorageClient::new(self.channel.clone());
                let request = request.clone();
                async move { client.batch_read_blobs(request).await }
            })
            .await?;
        let mut read: HashMap<String, Vec<u8>> = HashMap::new();
        for answer in response.responses {
            if let Some(status) = answer.status.filter(|status| status.code != 0) {
                let hash = answer.digest.map(|d| d.hash).unwrap_or_default();
                return Err(Problem::Rejected(format!(
                    "blob {hash} could not be read (code {}: {})",
                    status.code, status.message
                )));
            }
            if let Some(digest) = answer.digest {
                read.insert(digest.hash, answer.data);
            }
        }
        for digest in digests {
            let bytes = read.remove(&digest.hash).ok_or_else(|| {
                Problem::Rejected(format!("the server did not return blob {}", digest.hash))
            })?;
            wire::verify(&digest, &bytes).map_err(Problem::Rejected)?;
            blobs.insert(digest.hash, bytes);
        }
        Ok(())
    }

    /// Reads one blob by ByteStream, each chunk within the time limit, no more than its size.
    async fn read_stream(&self, digest: &WireDigest) -> Result<Vec<u8>, Problem> {
        let request = bs::ReadRequest {
            resource_name: self.resource(&format!("blobs/{}/{}", digest.hash, digest.size_bytes)),
            read_offset: 0,
            read_limit: 0,
        };
        let mut stream = self
            .call(|| {
                let mut client = ByteStreamClient::new(self.channel.clone());
                let request = request.clone();
                async move { client.read(request).await }
            })
            .await?;
        let size = usize::try_from(digest.size_bytes).unwrap_or(0);
        let mut bytes = Vec::with_capacity(size.min(64 * 1024 * 1024));
        loop {
            let next = tokio::time::timeout(self.timeout, stream.message())
                .await
                .map_err(|_| Problem::Unreachable(format!("no data within {:?}", self.timeout)))?
                .map_err(Problem::from)?;
            let Some(chunk) = next else { break };
            if bytes.len() + chunk.data.len() > size {
                return Err(Problem::Rejected(format!(
                    "blob {} came with more than {size} bytes",
                    digest.hash
                )));
            }
            bytes.extend_from_slice(&chunk.data);
        }
        wire::verify(digest, &bytes).map_err(Problem::Rejected)?;
        Ok(bytes)
    }

    /// Uploads a result: the blobs the server lacks, then the ActionResult naming them.
    pub(crate) async fn upload(&self, upload: Upload) -> Result<(), Problem> {
        let _slot = self.slots.acquire().await;
        let blobs = upload.blobs;
        let mut missing = self
            .find_missing(blobs.iter().map(|blob| blob.digest.clone()).collect())
            .await?;
        let limit = self.batch_limit().await;
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        for blob in &blobs {
            // Each missing blob once, even when two paths have the same content.
            if !missing.remove(&blob.digest.hash) {
                continue;
            }
            let bytes = match &blob.source {
                Source::Bytes(bytes) => bytes.clone(),
                Source::File(path) => read_again(path, &blob.digest)?,
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
            let mut client = ActionCacheClient::new(self.channel.clone());
            let request = request.clone();
            async move { client.update_action_result(request).await }
        })
        .await
        .map(drop)
    }

    /// The hashes of the blobs the server does not have, asked in chunks.
    async fn find_missing(
        &self,
        digests: Vec<WireDigest>,
    ) -> Result<std::collections::HashSet<String>, Problem> {
        let mut missing = std::collections::HashSet::new();
        for chunk in digests.chunks(FIND_CHUNK) {
            let request = re::FindMissingBlobsRequest {
                instance_name: self.instance.clone(),
                blob_digests: chunk.to_vec(),
                ..Default::default()
            };
            let response = self
                .call(|| {
                    let mut client = ContentAddressableStorageClient::new(self.channel.clone());
                    let request = request.clone();
                    async move { client.find_missing_blobs(request).await }
                })
                .await?;
            missing.extend(response.missing_blob_digests.into_iter().map(|d| d.hash));
        }
        Ok(missing)
    }

    async fn write_batch(&self, blobs: Vec<(WireDigest, Vec<u8>)>) -> Result<(), Problem> {
        let request = re::BatchUpdateBlobsRequest {
            instance_name: self.instance.clone(),
            requests: blobs
                .into_iter()
                .map(|(digest, data)| re::batch_update_blobs_request::Request {
                    digest: Some(digest),
                    data,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let response = self
            .call(|| {
                let mut client = ContentAddressableStorageClient::new(self.channel.clone());
                let request = request.clone();
                async move { client.batch_update_blobs(request).await }
            })
            .await?;
        match response
            .responses
            .into_iter()
            .find_map(|answer| answer.status.filter(|status| status.code != 0))
        {
            Some(status) => Err(Problem::Refused(format!(
                "a blob was not stored (code {}: {})",
                status.code, status.message
            ))),
            None => Ok(()),
        }
    }

    /// Writes one blob by ByteStream, in chunks.
    async fn write_stream(&self, digest: &WireDigest, bytes: &[u8]) -> Result<(), Problem> {
        let name = self.resource(&format!(
            "uploads/{}/blobs/{}/{}",
            upload_id(),
            digest.hash,
            digest.size_bytes
        ));
        let chunks: Vec<bs::WriteRequest> = bytes
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, chunk)| bs::WriteRequest {
                resource_name: if i == 0 { name.clone() } else { String::new() },
                write_offset: (i * CHUNK) as i64,
                finish_write: (i + 1) * CHUNK >= bytes.len(),
                data: chunk.to_vec(),
            })
            .collect();
        let response = self
            .call(|| {
                let mut client = ByteStreamClient::new(self.channel.clone());
                let stream = tonic::codegen::tokio_stream::iter(chunks.clone());
                async move { client.write(stream).await }
            })
            .await?;
        if response.committed_size != digest.size_bytes {
            return Err(Problem::Refused(format!(
                "the server kept {} of the {} bytes of blob {}",
                response.committed_size, digest.size_bytes, digest.hash
            )));
        }
        Ok(())
    }

    /// A ByteStream resource name under this instance.
    fn resource(&self, name: &str) -> String {
        if self.instance.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.instance)
        }
    }
}

/// A file to upload, read again and checked against the digest it was named by.
fn read_again(path: &std::path::Path, digest: &WireDigest) -> Result<Vec<u8>, Problem> {
    let bytes = std::fs::read(path)
        .map_err(|error| Problem::Changed(format!("cannot read {}: {error}", path.display())))?;
    wire::verify(digest, &bytes)
        .map_err(|_| Problem::Changed(format!("{} changed since it was hashed", path.display())))?;
    Ok(bytes)
}

/// A fresh id for a ByteStream upload, in UUID form as the protocol asks.
fn upload_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = format!("{}-{}-{count}", std::process::id(), crate::stat::now_ns());
    let hex = crate::Digest::of(seed.as_bytes()).to_hex();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
