//! An in-process REAPI server that keeps what it is given and, when told to, lies; it can
//! also speak TLS, require a header, and count the calls it receives.

use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::bytestream as bs;
use bazel_remote_apis::google::rpc;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic::{Request, Response, Status, Streaming};

/// How the server is set up beyond an honest plain-text cache.
#[derive(Default)]
pub struct Options {
    /// Speaks TLS only, with this certificate and key (PEM).
    pub tls: Option<(String, String)>,
    /// With `tls`, requires a client certificate signed by this authority (PEM).
    pub client_ca: Option<String>,
    /// Every call must carry this header with this value; any other is answered
    /// `UNAUTHENTICATED`, repeating what it carried, as a careless server might.
    pub require: Option<(&'static str, String)>,
    /// Refuses to store results (`PERMISSION_DENIED`), as for a read-only key.
    pub read_only: bool,
}

/// Counts every call and, when a header is required, turns away those without it.
#[derive(Clone)]
struct Gate {
    require: Option<(&'static str, String)>,
    calls: Arc<AtomicUsize>,
}

impl tonic::service::Interceptor for Gate {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let Some((name, expected)) = &self.require else {
            return Ok(request);
        };
        let given = request.metadata().get(*name).and_then(|v| v.to_str().ok());
        if given == Some(expected.as_str()) {
            return Ok(request);
        }
        Err(Status::unauthenticated(format!(
            "{name} {} is not a key of this cache",
            given.unwrap_or("(none)")
        )))
    }
}

/// How the server answers reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lie {
    Honest,
    /// One byte of every blob flipped.
    WrongByte,
    /// Every blob one byte short.
    Truncated,
    /// Every blob answered with another blob's bytes.
    OtherBlob,
    /// Every blob read fails with an error status.
    BlobError,
    /// Every lookup fails with an error.
    LookupError,
    /// Every lookup hangs.
    Stall,
}

#[derive(Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    results: HashMap<String, re::ActionResult>,
    lie: Option<Lie>,
    read_only: bool,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<State>>);

pub struct Server {
    pub url: String,
    state: Fake,
    calls: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = Fake::default();
        state.0.lock().unwrap().read_only = options.read_only;
        let incoming = {
            let _guard = runtime.enter();
            tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap()
        };
        let scheme = if options.tls.is_some() {
            "grpcs"
        } else {
            "grpc"
        };
        let url = format!("{scheme}://{}", incoming.local_addr().unwrap());
        let gate = Gate {
            require: options.require.clone(),
            calls: Arc::default(),
        };
        let calls = gate.calls.clone();
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = server_tls(&options) {
            builder = builder.tls_config(tls).unwrap();
        }
        let service = state.clone();
        use re::content_addressable_storage_server::ContentAddressableStorageServer as Cas;
        runtime.spawn(
            builder
                .add_service(
                    re::action_cache_server::ActionCacheServer::with_interceptor(
                        service.clone(),
                        gate.clone(),
                    ),
                )
                .add_service(Cas::with_interceptor(service.clone(), gate.clone()))
                .add_service(
                    re::capabilities_server::CapabilitiesServer::with_interceptor(
                        service.clone(),
                        gate.clone(),
                    ),
                )
                .add_service(bs::byte_stream_server::ByteStreamServer::with_interceptor(
                    service, gate,
                ))
                .serve_with_incoming(incoming),
        );
        Server {
            url,
            state,
            calls,
            runtime: Some(runtime),
        }
    }

    /// Refuses (or takes again) results to store.
    pub fn set_read_only(&self, read_only: bool) {
        self.state.0.lock().unwrap().read_only = read_only;
    }

    /// The calls the server received, turned away or not.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn lie(&self, lie: Lie) {
        self.state.0.lock().unwrap().lie = Some(lie);
    }

    pub fn forget_everything(&self) {
        let mut state = self.state.0.lock().unwrap();
        state.blobs.clear();
        state.results.clear();
    }

    pub fn results(&self) -> usize {
        self.state.0.lock().unwrap().results.len()
    }

    pub fn blobs(&self) -> usize {
        self.state.0.lock().unwrap().blobs.len()
    }
}

fn server_tls(options: &Options) -> Option<ServerTlsConfig> {
    let (cert, key) = options.tls.as_ref()?;
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    if let Some(ca) = &options.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(ca));
    }
    Some(tls)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Fake {
    fn lie(&self) -> Lie {
        self.0.lock().unwrap().lie.unwrap_or(Lie::Honest)
    }

    /// The bytes of a blob as the server, lying or not, answers them.
    fn read(&self, hash: &str) -> Result<Vec<u8>, Status> {
        let state = self.0.lock().unwrap();
        let mut bytes = state
            .blobs
            .get(hash)
            .cloned()
            .ok_or_else(|| Status::not_found(hash.to_owned()))?;
        match state.lie.unwrap_or(Lie::Honest) {
            Lie::WrongByte => bytes[0] ^= 1,
            Lie::Truncated => {
                bytes.pop();
            }
            Lie::OtherBlob => {
                bytes = state
                    .blobs
                    .iter()
                    .find(|(other, _)| *other != hash)
                    .map(|(_, other)| other.clone())
                    .unwrap_or_default();
            }
            Lie::BlobError => return Err(Status::internal("disk on fire")),
            _ => {}
        }
        Ok(bytes)
    }
}

#[tonic::async_trait]
impl re::action_cache_server::ActionCache for Fake {
    async fn get_action_result(
        &self,
        request: Request<re::GetActionResultRequest>,
    ) -> Result<Response<re::ActionResult>, Status> {
        match self.lie() {
            Lie::LookupError => return Err(Status::internal("the cache is broken")),
            Lie::Stall => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            }
            _ => {}
        }
        let digest = request.into_inner().action_digest.unwrap_or_default();
        let state = self.0.lock().unwrap();
        state
            .results
            .get(&digest.hash)
            .cloned()
            .map(Response::new)
            .ok_or_else(|| Status::not_found("no result"))
    }

    async fn update_action_result(
        &self,
        request: Request<re::UpdateActionResultRequest>,
    ) -> Result<Response<re::ActionResult>, Status> {
        if self.0.lock().unwrap().read_only {
            return Err(Status::permission_denied("this key may only read"));
        }
        let request = request.into_inner();
        let result = request.action_result.unwrap_or_default();
        let digest = request.action_digest.unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .results
            .insert(digest.hash, result.clone());
        Ok(Response::new(result))
    }
}

type Stream<T> =
    std::pin::Pin<Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl re::content_addressable_storage_server::ContentAddressableStorage for Fake {
    async fn find_missing_blobs(
        &self,
        request: Request<re::FindMissingBlobsRequest>,
    ) -> Result<Response<re::FindMissingBlobsResponse>, Status> {
        let state = self.0.lock().unwrap();
        let missing_blob_digests = request
            .into_inner()
            .blob_digests
            .into_iter()
            .filter(|digest| !state.blobs.contains_key(&digest.hash))
            .collect();
        Ok(Response::new(re::FindMissingBlobsResponse {
            missing_blob_digests,
        }))
    }

    async fn batch_update_blobs(
        &self,
        request: Request<re::BatchUpdateBlobsRequest>,
    ) -> Result<Response<re::BatchUpdateBlobsResponse>, Status> {
        let mut state = self.0.lock().unwrap();
        let mut responses = Vec::new();
        for blob in request.into_inner().requests {
            let digest = blob.digest.unwrap_or_default();
            state.blobs.insert(digest.hash.clone(), blob.data);
            responses.push(re::batch_update_blobs_response::Response {
                digest: Some(digest),
                status: Some(rpc::Status::default()),
            });
        }
        Ok(Response::new(re::BatchUpdateBlobsResponse { responses }))
    }

    async fn batch_read_blobs(
        &self,
        request: Request<re::BatchReadBlobsRequest>,
    ) -> Result<Response<re::BatchReadBlobsResponse>, Status> {
        let responses = request
            .into_inner()
            .digests
            .into_iter()
            .map(|digest| {
                let (data, status) = match self.read(&digest.hash) {
                    Ok(data) => (data, rpc::Status::default()),
                    Err(status) => (
                        Vec::new(),
                        rpc::Status {
                            code: status.code() as i32,
                            message: status.message().to_owned(),
                            details: Vec::new(),
                        },
                    ),
                };
                re::batch_read_blobs_response::Response {
                    digest: Some(digest),
                    data,
                    compressor: 0,
                    status: Some(status),
                }
            })
            .collect();
        Ok(Response::new(re::BatchReadBlobsResponse { responses }))
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
impl re::capabilities_server::Capabilities for Fake {
    async fn get_capabilities(
        &self,
        _: Request<re::GetCapabilitiesRequest>,
    ) -> Result<Response<re::ServerCapabilities>, Status> {
        // A small batch limit, so the large file goes by ByteStream.
        Ok(Response::new(re::ServerCapabilities {
            cache_capabilities: Some(re::CacheCapabilities {
                digest_functions: vec![re::digest_function::Value::Sha256 as i32],
                max_batch_total_size_bytes: 128 * 1024,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
}

#[tonic::async_trait]
impl bs::byte_stream_server::ByteStream for Fake {
    type ReadStream = Stream<bs::ReadResponse>;

    async fn read(
        &self,
        request: Request<bs::ReadRequest>,
    ) -> Result<Response<Self::ReadStream>, Status> {
        // `[instance/]blobs/{hash}/{size}`
        let name = request.into_inner().resource_name;
        let hash = name.rsplit('/').nth(1).unwrap_or_default().to_owned();
        let data = self.read(&hash)?;
        let chunks: Vec<Result<bs::ReadResponse, Status>> = data
            .chunks(64 * 1024)
            .map(|chunk| {
                Ok(bs::ReadResponse {
                    data: chunk.to_vec(),
                })
            })
            .collect();
        Ok(Response::new(Box::pin(tonic::codegen::tokio_stream::iter(
            chunks,
        ))))
    }

    async fn write(
        &self,
        request: Request<Streaming<bs::WriteRequest>>,
    ) -> Result<Response<bs::WriteResponse>, Status> {
        let mut stream = request.into_inner();
        let (mut name, mut data) = (String::new(), Vec::new());
        while let Some(chunk) = stream.message().await? {
            if name.is_empty() {
                name = chunk.resource_name;
            }
            data.extend_from_slice(&chunk.data);
        }
        // `[instance/]uploads/{uuid}/blobs/{hash}/{size}`
        let hash = name.rsplit('/').nth(1).unwrap_or_default().to_owned();
        let committed_size = data.len() as i64;
        self.0.lock().unwrap().blobs.insert(hash, data);
        Ok(Response::new(bs::WriteResponse { committed_size }))
    }

    async fn query_write_status(
        &self,
        _: Request<bs::QueryWriteStatusRequest>,
    ) -> Result<Response<bs::QueryWriteStatusResponse>, Status> {
        Err(Status::unimplemented("query_write_status"))
    }
}
