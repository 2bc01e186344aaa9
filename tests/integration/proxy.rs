//! A counting proxy on loopback between a reading client and a real REAPI server: it
//! forwards lookups and blob reads, and counts every blob read (by digest) and the bytes of
//! every answer, so a test can say exactly what a run downloaded. It can also be turned off,
//! answering `UNAVAILABLE` as a server that is gone.

use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::bytestream as bs;
use prost::Message;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

#[derive(Default)]
struct Counts {
    /// The hash of every blob read, once per read.
    reads: Mutex<Vec<String>>,
    lookups: AtomicU64,
    /// The encoded size of every answer forwarded.
    bytes: AtomicU64,
    off: AtomicBool,
}

#[derive(Clone)]
struct Forward {
    upstream: Channel,
    counts: Arc<Counts>,
}

/// A running proxy, stopped when dropped.
pub struct Proxy {
    /// `grpc://127.0.0.1:PORT`, for the client.
    pub url: String,
    counts: Arc<Counts>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Starts a proxy to the plain-text server at `upstream` (`grpc://host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let counts = Arc::new(Counts::default());
        let (incoming, channel) = {
            let _guard = runtime.enter();
            let address = upstream.replace("grpc://", "http://");
            let channel = Channel::from_shared(address).unwrap().connect_lazy();
            let incoming =
                tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap())
                    .unwrap();
            (incoming, channel)
        };
        let url = format!("grpc://{}", incoming.local_addr().unwrap());
        let forward = Forward {
            upstream: channel,
            counts: counts.clone(),
        };
        use re::content_addressable_storage_server::ContentAddressableStorageServer as Cas;
        runtime.spawn(
            tonic::transport::Server::builder()
                .add_service(re::action_cache_server::ActionCacheServer::new(
                    forward.clone(),
                ))
                .add_service(Cas::new(forward.clone()))
                .add_service(re::capabilities_server::CapabilitiesServer::new(
                    forward.clone(),
                ))
                .add_service(bs::byte_stream_server::ByteStreamServer::new(forward))
                .serve_with_incoming(incoming),
        );
        Proxy {
            url,
            counts,
            runtime: Some(runtime),
        }
    }

    /// The hashes of the blobs read so far, sorted, and forgets them.
    pub fn take_reads(&self) -> Vec<String> {
        let mut reads = std::mem::take(&mut *self.counts.reads.lock().unwrap());
        reads.sort();
        reads
    }

    /// The ActionCache lookups so far.
    pub fn lookups(&self) -> u64 {
        self.counts.lookups.load(Ordering::SeqCst)
    }

    /// The bytes of every answer forwarded so far (protobuf-encoded messages).
    pub fn bytes(&self) -> u64 {
        self.counts.bytes.load(Ordering::SeqCst)
    }

    /// Answers every call `UNAVAILABLE`, as a server that is gone (or answers again).
    pub fn set_off(&self, off: bool) {
        self.counts.off.store(off, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Forward {
    fn gate(&self) -> Result<(), Status> {
        match self.counts.off.load(Ordering::SeqCst) {
            true => Err(Status::unavailable("the proxy is off")),
            false => Ok(()),
        }
    }

    fn answered<T: Message>(&self, answer: Response<T>) -> Response<T> {
        let size = answer.get_ref().encoded_len() as u64;
        self.counts.bytes.fetch_add(size, Ordering::SeqCst);
        answer
    }

    fn read(&self, hash: String) {
        self.counts.reads.lock().unwrap().push(hash);
    }
}

type Stream<T> =
    std::pin::Pin<Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl re::action_cache_server::ActionCache for Forward {
    async fn get_action_result(
        &self,
        request: Request<re::GetActionResultRequest>,
    ) -> Result<Response<re::ActionResult>, Status> {
        self.gate()?;
        self.counts.lookups.fetch_add(1, Ordering::SeqCst);
        let mut client = re::action_cache_client::ActionCacheClient::new(self.upstream.clone());
        let answer = client.get_action_result(request.into_inner()).await?;
        Ok(self.answered(answer))
    }

    async fn update_action_result(
        &self,
        _: Request<re::UpdateActionResultRequest>,
    ) -> Result<Response<re::ActionResult>, Status> {
        Err(Status::unimplemented("the proxy only reads"))
    }
}

#[tonic::async_trait]
impl re::content_addressable_storage_server::ContentAddressableStorage for Forward {
    async fn find_missing_blobs(
        &self,
        _: Request<re::FindMissingBlobsRequest>,
    ) -> Result<Response<re::FindMissingBlobsResponse>, Status> {
        Err(Status::unimplemented("the proxy only reads"))
    }

    async fn batch_update_blobs(
        &self,
        _: Request<re::BatchUpdateBlobsRequest>,
    ) -> Result<Response<re::BatchUpdateBlobsResponse>, Status> {
        Err(Status::unimplemented("the proxy only reads"))
    }

    async fn batch_read_blobs(
        &self,
        request: Request<re::BatchReadBlobsRequest>,
    ) -> Result<Response<re::BatchReadBlobsResponse>, Status> {
        self.gate()?;
        let request = request.into_inner();
        for digest in &request.digests {
            self.read(digest.hash.clone());
        }
        let mut client =
            re::content_addressable_storage_client::ContentAddressableStorageClient::new(
                self.upstream.clone(),
            );
        let answer = client.batch_read_blobs(request).await?;
        Ok(self.answered(answer))
    }

    type GetTreeStream = Stream<re::GetTreeResponse>;

    async fn get_tree(
        &self,
        _: Request<re::GetTreeRequest>,
    ) -> Result<Response<Self::GetTreeStream>, Status> {
        Err(Status::unimplemented("get_tree"))
    }

    async fn split_blob(
        &self,
        _: Request<re::SplitBlobRequest>,
    ) -> Result<Response<re::SplitBlobResponse>, Status> {
        Err(Status::unimplemented("split_blob"))
    }

    type GetChunkMappingStream = Stream<re::GetChunkMappingResponse>;

    async fn get_chunk_mapping(
        &self,
        _: Request<re::GetChunkMappingRequest>,
    ) -> Result<Response<Self::GetChunkMappingStream>, Status> {
        Err(Status::unimplemented("get_chunk_mapping"))
    }

    async fn splice_blob(
        &self,
        _: Request<re::SpliceBlobRequest>,
    ) -> Result<Response<re::SpliceBlobResponse>, Status> {
        Err(Status::unimplemented("splice_blob"))
    }

    async fn register_chunk_mapping(
        &self,
        _: Request<Streaming<re::RegisterChunkMappingRequest>>,
    ) -> Result<Response<re::RegisterChunkMappingResponse>, Status> {
        Err(Status::unimplemented("register_chunk_mapping"))
    }
}

#[tonic::async_trait]
impl re::capabilities_server::Capabilities for Forward {
    async fn get_capabilities(
        &self,
        request: Request<re::GetCapabilitiesRequest>,
    ) -> Result<Response<re::ServerCapabilities>, Status> {
        self.gate()?;
        let mut client = re::capabilities_client::CapabilitiesClient::new(self.upstream.clone());
        let answer = client.get_capabilities(request.into_inner()).await?;
        Ok(self.answered(answer))
    }
}

#[tonic::async_trait]
impl bs::byte_stream_server::ByteStream for Forward {
    type ReadStream = Stream<bs::ReadResponse>;

    async fn read(
        &self,
        request: Request<bs::ReadRequest>,
    ) -> Result<Response<Self::ReadStream>, Status> {
        self.gate()?;
        let request = request.into_inner();
        // `[instance/]blobs/{hash}/{size}`
        let hash = request.resource_name.rsplit('/').nth(1).unwrap_or_default();
        self.read(hash.to_owned());
        let mut client = bs::byte_stream_client::ByteStreamClient::new(self.upstream.clone());
        let mut stream = client.read(request).await?.into_inner();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.message().await? {
            self.counts
                .bytes
                .fetch_add(chunk.encoded_len() as u64, Ordering::SeqCst);
            chunks.push(Ok(chunk));
        }
        Ok(Response::new(Box::pin(tonic::codegen::tokio_stream::iter(
            chunks,
        ))))
    }

    async fn write(
        &self,
        _: Request<Streaming<bs::WriteRequest>>,
    ) -> Result<Response<bs::WriteResponse>, Status> {
        Err(Status::unimplemented("the proxy only reads"))
    }

    async fn query_write_status(
        &self,
        _: Request<bs::QueryWriteStatusRequest>,
    ) -> Result<Response<bs::QueryWriteStatusResponse>, Status> {
        Err(Status::unimplemented("query_write_status"))
    }
}
