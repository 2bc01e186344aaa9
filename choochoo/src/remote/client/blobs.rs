//! Blob transfers: CAS reads and writes in batches under the server's size limit,
//! ByteStream for larger blobs, every blob read checked against its digest.

use super::super::problem::Problem;
use super::super::wire::{self, WireDigest};
use super::{CHUNK, Client, FIND_CHUNK};
use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::bytestream as bs;
use bs::byte_stream_client::ByteStreamClient;
use re::content_addressable_storage_client::ContentAddressableStorageClient;
use std::collections::{HashMap, HashSet};

impl Client {
    /// Reads blobs, small ones in batches and large ones by ByteStream, each checked
    /// against its digest; returns them by hash.
    pub(super) async fn read(
        &self,
        digests: Vec<WireDigest>,
    ) -> Result<HashMap<String, Vec<u8>>, Problem> {
        let limit = self.ready().await?;
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
                let mut client = ContentAddressableStorageClient::new(self.service());
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
                let mut client = ByteStreamClient::new(self.service());
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
                .map_err(|status| self.problem(status))?;
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

    /// The hashes of the blobs the server does not have, asked in chunks.
    pub(super) async fn find_missing(
        &self,
        digests: Vec<WireDigest>,
    ) -> Result<HashSet<String>, Problem> {
        let mut missing = HashSet::new();
        for chunk in digests.chunks(FIND_CHUNK) {
            let request = re::FindMissingBlobsRequest {
                instance_name: self.instance.clone(),
                blob_digests: chunk.to_vec(),
                ..Default::default()
            };
            let response = self
                .call(|| {
                    let mut client = ContentAddressableStorageClient::new(self.service());
                    let request = request.clone();
                    async move { client.find_missing_blobs(request).await }
                })
                .await?;
            missing.extend(response.missing_blob_digests.into_iter().map(|d| d.hash));
        }
        Ok(missing)
    }

    pub(super) async fn write_batch(
        &self,
        blobs: Vec<(WireDigest, Vec<u8>)>,
    ) -> Result<(), Problem> {
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
                let mut client = ContentAddressableStorageClient::new(self.service());
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
    pub(super) async fn write_stream(
        &self,
        digest: &WireDigest,
        bytes: &[u8],
    ) -> Result<(), Problem> {
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
                let mut client = ByteStreamClient::new(self.service());
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
pub(super) fn read_again(path: &std::path::Path, digest: &WireDigest) -> Result<Vec<u8>, Problem> {
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
    let hex = crate::hash::Digest::of(seed.as_bytes()).to_hex();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
