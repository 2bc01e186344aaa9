//! The remote cache (feature `remote`): two stores sharing results through a real BuildGrid
//! on loopback, and a fake server that lies, fails and stalls, whose answers are never used.
//! TLS and credentials are in `remote_tls` and `remote_auth`.

use crate::buildgrid::BuildGrid;
use crate::fake;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, File, Remote, Runner, Status, Store, station, workflow};
use std::path::Path;
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
pub fn outcome(
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

pub fn statuses(report: &choochoo::Report) -> Vec<Status> {
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
    use choochoo::test_util::{Faults, open_with_faults};
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
        let Some(first) = failed.first() else {
            // This run took fewer steps than the one that counted them: its records were
            // committed in fewer batches (a batch also ends on time, which a loaded machine
            // reaches sooner). The steps it had were all tried at lower numbers.
            take_executions();
            continue;
        };
        let (op, _) = first.split_once(' ').unwrap();
        if first.ends_with("records.log") {
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
        let left: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path().join("tmp"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(left, Vec::<std::path::PathBuf>::new(), "{context}");
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
