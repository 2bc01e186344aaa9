//! The remote cache (feature `remote`): two stores sharing results through a real BuildGrid
//! on loopback, and a fake server that lies, fails and stalls, whose answers are never used.

use crate::support::{counts, executed, serial, skip, take_executions, temp_store};
use choochoo::{Ctx, File, Remote, Runner, Status, Store, station, workflow};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Writes `text` into a file in its own directory, twice over (a small and a large file, so
/// both batch and ByteStream transfers are used).
#[station]
fn produce(ctx: &Ctx, text: &String) -> Result<(File, File), std::io::Error> {
    executed("produce");
    let small = ctx.output("out/small.txt").map_err(std::io::Error::other)?;
    std::fs::write(&small, text)?;
    let large = ctx.output("large.bin").map_err(std::io::Error::other)?;
    std::fs::write(&large, text.repeat(200_000 / text.len().max(1) + 1))?;
    Ok((File::new(small), File::new(large)))
}

#[station]
fn measure(files: &(File, File)) -> Result<u64, std::io::Error> {
    executed("measure");
    Ok(std::fs::metadata(files.1.path())?.len())
}

#[station]
fn combine(files: &(File, File), n: &u64) -> Result<String, std::io::Error> {
    executed("combine");
    Ok(format!("{n}:{}", std::fs::read_to_string(files.0.path())?))
}

workflow! {
    /// A file-producing station and two stations downstream of its files.
    pub fn shared(text: String) -> ((File, File), String) {
        let files = produce(text);
        let n = measure(files);
        let c = combine(files, n);
        (files, c)
    }
}

/// What a run of `shared` left: the output's file contents and the final string.
fn outcome(
    run: &choochoo::Run<((File, File), String)>,
    store: &Store,
) -> (String, Vec<u8>, String) {
    let ((small, large), combined) = run.output();
    for file in [small, large] {
        assert!(
            file.path().starts_with(store.dir()),
            "{} is not in the store {}",
            file.path().display(),
            store.dir().display()
        );
    }
    (
        std::fs::read_to_string(small.path()).unwrap(),
        std::fs::read(large.path()).unwrap(),
        combined.clone(),
    )
}

fn statuses(report: &choochoo::Report) -> Vec<Status> {
    report
        .entries()
        .iter()
        .map(|entry| entry.status())
        .collect()
}

#[test]
fn two_stores_share_results_through_buildgrid() {
    let Some(server) = BuildGrid::start() else {
        return;
    };
    let _serial = serial();
    let remote = || Remote::new(&server.url).timeout(Duration::from_secs(20));
    let text = "shared through the remote cache".to_owned();

    let first = temp_store();
    let run = Runner::new(&first.store)
        .remote(remote().write(true))
        .run(shared(text.clone()))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("produce", 1), ("measure", 1), ("combine", 1)])
    );
    let expected = outcome(&run, &first.store);
    assert!(
        run.report().warnings().is_empty(),
        "{:?}",
        run.report().warnings()
    );

    // An empty store elsewhere gets everything from the server: 0 executions.
    let second = temp_store();
    let run = Runner::new(&second.store)
        .remote(remote())
        .run(shared(text.clone()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(statuses(run.report()), [Status::Cached; 3]);
    assert_eq!(outcome(&run, &second.store), expected);
    assert!(
        run.report().warnings().is_empty(),
        "{:?}",
        run.report().warnings()
    );

    // ... and remembers it: the next run is local, with no server at all.
    let run = Runner::new(&second.store)
        .local_only()
        .run(shared(text.clone()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(outcome(&run, &second.store), expected);

    // A read-only runner computes other keys and leaves the server as it was: a fourth
    // store asking for them finds nothing and runs them.
    let other = "never written".to_owned();
    for _ in 0..2 {
        let reader = temp_store();
        Runner::new(&reader.store)
            .remote(remote())
            .run(shared(other.clone()))
            .unwrap();
        assert_eq!(
            take_executions(),
            counts(&[("produce", 1), ("measure", 1), ("combine", 1)])
        );
    }
}

#[test]
fn an_unreachable_remote_costs_a_warning_not_the_run() {
    let _serial = serial();
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = temp_store();
    let started = Instant::now();
    let run = Runner::new(&store.store)
        .remote(
            Remote::new(format!("grpc://127.0.0.1:{port}"))
                .write(true)
                .timeout(Duration::from_secs(2)),
        )
        .run(shared("offline".to_owned()))
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(
        take_executions(),
        counts(&[("produce", 1), ("measure", 1), ("combine", 1)])
    );
    let warnings = &run.report().warnings();
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("unreachable or too slow"))
            .count(),
        1,
        "{warnings:?}"
    );
}

/// Every way the fake server lies: each run must compute the reference results itself,
/// record only them, and warn.
#[test]
fn a_lying_or_stalling_server_is_never_believed() {
    let _serial = serial();
    let fake = fake::Server::start();
    let text = "the truth".to_owned();
    let remote = || Remote::new(&fake.url).timeout(Duration::from_secs(1));

    let writer = temp_store();
    let reference = Runner::new(&writer.store)
        .remote(remote().write(true))
        .run(shared(text.clone()))
        .unwrap();
    let expected = outcome(&reference, &writer.store);
    take_executions();
    assert!(fake.blobs() >= 3, "the writer uploaded nothing");

    // Honest, it serves the results (so the lies below are lies about real results).
    let honest = temp_store();
    let run = Runner::new(&honest.store)
        .remote(remote())
        .run(shared(text.clone()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(outcome(&run, &honest.store), expected);

    for (lie, warning) in [
        (fake::Lie::WrongByte, "rejected"),
        (fake::Lie::Truncated, "rejected"),
        (fake::Lie::OtherBlob, "rejected"),
        (fake::Lie::BlobError, "rejected"),
        (fake::Lie::LookupError, "answered with an error"),
        (fake::Lie::Stall, "unreachable or too slow"),
    ] {
        fake.lie(lie);
        let store = temp_store();
        let started = Instant::now();
        let run = Runner::new(&store.store)
            .remote(remote())
            .run(shared(text.clone()))
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{lie:?}: took {:?}",
            started.elapsed()
        );
        assert_eq!(
            take_executions(),
            counts(&[("produce", 1), ("measure", 1), ("combine", 1)]),
            "{lie:?}"
        );
        assert_eq!(outcome(&run, &store.store), expected, "{lie:?}");
        let warnings = &run.report().warnings();
        assert!(
            warnings.iter().any(|w| w.contains(warning)),
            "{lie:?}: {warnings:?}"
        );
        // What the store recorded is what it computed: a local run takes it as it is.
        let again = Runner::new(&store.store)
            .local_only()
            .run(shared(text.clone()))
            .unwrap();
        assert_eq!(take_executions(), counts(&[]), "{lie:?}");
        assert_eq!(outcome(&again, &store.store), expected, "{lie:?}");
    }
}

/// The files of a remote result are published as blobs are (temp file, write, sync, rename,
/// sync the directory), through the steps fault injection fails. Each step of restoring
/// them fails in turn: the result is rejected with a warning naming the error, the station
/// runs here instead, no temp file is left, and the next run takes what was recorded.
#[test]
fn a_failed_write_of_a_restored_file_is_a_rejected_result_that_leaves_nothing() {
    use choochoo::__private::{Faults, open_with_faults};
    use std::sync::Arc;
    let _serial = serial();
    let fake = fake::Server::start();
    let text = "restored under faults".to_owned();
    let remote = || Remote::new(&fake.url).timeout(Duration::from_secs(5));
    let writer = temp_store();
    let first = Runner::new(&writer.store)
        .remote(remote().write(true))
        .run(shared(text.clone()))
        .unwrap();
    let expected = outcome(&first, &writer.store);
    take_executions();
    let steps = {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::new(0, 0, false));
        let store = open_with_faults(dir.path(), faults.clone()).unwrap();
        Runner::new(&store)
            .remote(remote())
            .run(shared(text.clone()))
            .unwrap();
        assert_eq!(take_executions(), counts(&[]));
        faults.steps()
    };
    let kind = std::io::Error::from_raw_os_error(28).to_string();
    let mut failed_ops = std::collections::BTreeSet::new();
    for at in 1..=steps {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::new(at, 28, false));
        let store = open_with_faults(dir.path(), faults.clone()).unwrap();
        let result = Runner::new(&store)
            .remote(remote())
            .run(shared(text.clone()));
        let failed = faults.failed();
        let (op, _) = failed[0].split_once(' ').unwrap();
        if op == "Commit" {
            // A record that cannot be committed is the fault test's case (faults.rs).
            take_executions();
            continue;
        }
        let context = format!("step {at} of {steps}: {failed:?}");
        failed_ops.insert(op.to_owned());
        let run = result.unwrap_or_else(|error| panic!("{context}: {error}"));
        assert_eq!(take_executions(), counts(&[("produce", 1)]), "{context}");
        assert_eq!(outcome(&run, &store), expected, "{context}");
        let warnings = run.report().warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("rejected") && w.contains(&kind)),
            "{context}: {warnings:?}"
        );
        let left: Vec<PathBuf> = std::fs::read_dir(dir.path().join("tmp"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(left, Vec::<PathBuf>::new(), "{context}");
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(store.fsck(false).unwrap().is_clean(), "{context}");
        let again = Runner::new(&store)
            .local_only()
            .run(shared(text.clone()))
            .unwrap();
        assert_eq!(take_executions(), counts(&[]), "{context}");
        assert_eq!(outcome(&again, &store), expected, "{context}");
    }
    let every = ["Create", "CreateDir", "Rename", "Sync", "SyncDir", "Write"];
    assert_eq!(
        failed_ops,
        every.map(String::from).into(),
        "every step of a restore failed"
    );
}

/// A writer that already knows its files' SHA-256 digests (from its first upload) reads
/// them again only for a server that lost them, and checks them as it does.
#[test]
fn a_server_that_lost_blobs_gets_them_again() {
    let _serial = serial();
    let fake = fake::Server::start();
    let text = "uploaded twice".to_owned();
    let remote = || Remote::new(&fake.url).timeout(Duration::from_secs(5));
    let writer = temp_store();
    let first = Runner::new(&writer.store)
        .remote(remote().write(true))
        .run(shared(text.clone()))
        .unwrap();
    let expected = outcome(&first, &writer.store);
    // The store keeps the SHA-256 of each file it uploaded, by BLAKE3 identity.
    let db = rusqlite::Connection::open(writer.store.dir().join("store.db")).unwrap();
    let known: i64 = db
        .query_row("SELECT count(*) FROM remote_digests", [], |row| row.get(0))
        .unwrap();
    assert_eq!(known, 2);
    fake.forget_everything();
    take_executions();
    // Forced, `produce` writes the same files again; their SHA-256 digests are known, so
    // they are read again only because the server lacks them.
    Runner::new(&writer.store)
        .remote(remote().write(true))
        .force(["produce"])
        .run(shared(text.clone()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[("produce", 1)]));
    assert_eq!(fake.results(), 1);
    let reader = temp_store();
    let run = Runner::new(&reader.store)
        .remote(remote())
        .run(shared(text))
        .unwrap();
    // The server lost the results of the two others, not the producer's.
    assert_eq!(take_executions(), counts(&[("measure", 1), ("combine", 1)]));
    assert_eq!(outcome(&run, &reader.store), expected);
}

/// A store made before every table was created at open (the digest table came with the
/// first run that used a remote cache) gains the table when it is opened, and a writer
/// fills it.
#[test]
fn a_store_without_the_digest_table_gains_it_when_opened() {
    let _serial = serial();
    let fake = fake::Server::start();
    let older = temp_store();
    let dir = older.store.dir().to_path_buf();
    let db = rusqlite::Connection::open(dir.join("store.db")).unwrap();
    db.execute_batch("DROP TABLE remote_digests").unwrap();
    let known = || -> i64 {
        db.query_row("SELECT count(*) FROM remote_digests", [], |row| row.get(0))
            .unwrap()
    };
    let store = Store::open(&dir).unwrap();
    assert_eq!(known(), 0, "opening the store made the table");
    Runner::new(&store)
        .remote(
            Remote::new(&fake.url)
                .timeout(Duration::from_secs(5))
                .write(true),
        )
        .run(shared("kept by an older store".to_owned()))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("produce", 1), ("measure", 1), ("combine", 1)])
    );
    assert_eq!(known(), 2);
}

/// `run --remote URL [--remote-write]` on the command line: only the writer uploads.
#[test]
fn the_command_line_reads_and_writes_the_remote_cache() {
    let _serial = serial();
    let fake = fake::Server::start();
    let cli = |store: &Path, text: &str, extra: &[&str]| {
        let mut args = vec![
            "workflow",
            "--quiet",
            "--store",
            store.to_str().unwrap(),
            "run",
        ];
        args.extend_from_slice(&["--remote", &fake.url]);
        args.extend_from_slice(extra);
        let text = text.to_owned();
        let code = choochoo::cli::main_with_args(args, || shared(text.clone()));
        assert_eq!(code, std::process::ExitCode::SUCCESS);
    };
    let all = counts(&[("produce", 1), ("measure", 1), ("combine", 1)]);
    let (writer, reader, other) = (temp_store(), temp_store(), temp_store());
    cli(
        writer.store.dir(),
        "from the command line",
        &["--remote-write"],
    );
    assert_eq!(take_executions(), all);
    assert_eq!(fake.results(), 3);
    cli(reader.store.dir(), "from the command line", &[]);
    assert_eq!(take_executions(), counts(&[]));
    cli(other.store.dir(), "not uploaded", &[]);
    assert_eq!(take_executions(), all);
    assert_eq!(fake.results(), 3);
}

/// A program that is itself async may run a workflow with a remote cache from inside its
/// runtime: the cache's own runtime neither nests nor blocks in it.
#[test]
fn a_run_inside_a_tokio_runtime_can_use_the_remote() {
    let _serial = serial();
    let fake = fake::Server::start();
    let store = temp_store();
    let outer = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    outer.block_on(async {
        let runner = Runner::new(&store.store).remote(Remote::new(&fake.url).write(true));
        runner.run(shared("inside tokio".to_owned())).unwrap();
    });
    assert_eq!(fake.results(), 3);
    take_executions();
}

/// A BuildGrid server on a free loopback port, stopped when dropped.
struct BuildGrid {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl BuildGrid {
    /// Starts BuildGrid (`bgd` from `CHOOCHOO_BUILDGRID`, or the venv `.ci/buildgrid.sh`
    /// makes); `None` when it is not installed, after `support::skip` said so.
    fn start() -> Option<BuildGrid> {
        let bgd = std::env::var_os("CHOOCHOO_BUILDGRID")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
                checkout.join("target/buildgrid-venv/bin/bgd")
            });
        if !bgd.exists() {
            skip(
                "BuildGrid",
                &format!("there is no `bgd` at {}", bgd.display()),
                "run `bash .ci/buildgrid.sh` (BuildGrid 0.4.4 from PyPI into \
                 target/buildgrid-venv), or set CHOOCHOO_BUILDGRID to a `bgd`",
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("buildgrid.yml");
        std::fs::write(
            &config,
            format!(
                "server:
  - !channel
    address: \"127.0.0.1:{port}\"
    insecure-mode: true
authorization:
  method: none
storages:
  - !disk-storage &cas
    path: {cas}
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
instances:
  - name: \"\"
    services:
      - !action-cache
        cache: *ac
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
",
                cas = dir.path().join("cas").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("bgd.log")).unwrap();
        let child = Command::new(&bgd)
            .args(["server", "start"])
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", bgd.display()));
        let mut server = BuildGrid {
            child,
            url: format!("grpc://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(server._dir.path().join("bgd.log"));
                panic!("BuildGrid exited ({status}): {log:?}");
            }
            assert!(
                Instant::now() < deadline,
                "BuildGrid did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }
}

impl Drop for BuildGrid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An in-process REAPI server that keeps what it is given and, when told to, lies.
mod fake {
    use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
    use bazel_remote_apis::google::bytestream as bs;
    use bazel_remote_apis::google::rpc;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tonic::{Request, Response, Status, Streaming};

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
    }

    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<State>>);

    pub struct Server {
        pub url: String,
        state: Fake,
        runtime: Option<tokio::runtime::Runtime>,
    }

    impl Server {
        pub fn start() -> Server {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let state = Fake::default();
            let incoming = {
                let _guard = runtime.enter();
                tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap()
            };
            let url = format!("grpc://{}", incoming.local_addr().unwrap());
            let service = state.clone();
            runtime.spawn(
                tonic::transport::Server::builder()
                    .add_service(re::action_cache_server::ActionCacheServer::new(service.clone()))
                    .add_service(
                        re::content_addressable_storage_server::ContentAddressableStorageServer::new(
                            service.clone(),
                        ),
                    )
                    .add_service(re::capabilities_server::CapabilitiesServer::new(service.clone()))
                    .add_service(bs::byte_stream_server::ByteStreamServer::new(service))
                    .serve_with_incoming(incoming),
            );
            Server {
                url,
                state,
                runtime: Some(runtime),
            }
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

    type Stream<T> = std::pin::Pin<
        Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<T, Status>> + Send>,
    >;

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
}

#[station]
fn square(x: &u64) -> u64 {
    executed("square");
    x * x
}

#[station]
fn total(xs: &Vec<u64>) -> u64 {
    xs.iter().sum()
}

/// The warm-remote no-op figure of benches/RESULTS.md: 10,000 stations (and their sum)
/// computed by one store and uploaded, then run by an empty store that gets all of them from
/// the server. Run it in release:
/// `cargo test --release -p tests --test integration warm_remote -- --ignored --nocapture`
#[test]
#[ignore = "a benchmark: run it by name, in release"]
fn warm_remote_noop_10k_buildgrid() {
    let Some(server) = BuildGrid::start() else {
        return;
    };
    warm_remote_noop_10k("BuildGrid", &server.url);
}

/// The same against the in-process fake server: what the client itself costs.
#[test]
#[ignore = "a benchmark: run it by name, in release"]
fn warm_remote_noop_10k_fake() {
    let server = fake::Server::start();
    warm_remote_noop_10k("in-process fake server", &server.url);
}

/// Holds `serial()`: the two benchmarks count the same station, and one's cold run must not
/// count into the other's (nor share the machine with it while timed).
fn warm_remote_noop_10k(label: &str, url: &str) {
    let _serial = serial();
    let n = 10_000u64;
    let mut graph = choochoo::Graph::new();
    let squares: Vec<choochoo::Node<u64>> = (0..n)
        .map(|i| {
            let x = graph.input(i);
            graph.add(Square, (&x,))
        })
        .collect();
    let sum = graph.add(Total, (&squares,));
    let remote = || Remote::new(url).timeout(Duration::from_secs(60));
    let timed = |store: &Store, runner: Runner<'_>| {
        let started = Instant::now();
        let run = runner.run_graph(&graph, sum).unwrap();
        assert_eq!(*run.output(), (0..n).map(|i| i * i).sum::<u64>());
        let _ = store;
        (started.elapsed(), run)
    };
    let writer = temp_store();
    let (cold, _) = timed(
        &writer.store,
        Runner::new(&writer.store).remote(remote().write(true)),
    );
    assert_eq!(take_executions(), counts(&[("square", n as usize)]));
    let reader = temp_store();
    let (warm, run) = timed(&reader.store, Runner::new(&reader.store).remote(remote()));
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(run.report().count(Status::Cached), n as usize + 1);
    let (local, _) = timed(&reader.store, Runner::new(&reader.store).local_only());
    let (local_with_remote, _) = timed(&reader.store, Runner::new(&reader.store).remote(remote()));
    println!(
        "{label}, {n} stations + 1: cold run with uploads {cold:.2?}; warm remote, empty local store {warm:.2?}; \
         local no-op afterwards {local:.2?} (with the remote configured: {local_with_remote:.2?})"
    );
}
