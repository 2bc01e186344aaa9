//! Builds without the bytes (`Download::Outputs`, `Download::Minimal`) against a real
//! BuildGrid, through a proxy that counts every blob the reader downloads: a warm run
//! downloads exactly the files its mode wants, the rest stay in the remote cache and are
//! fetched when a station that runs needs them, `fsck` and `fetch` know them, and a remote
//! that is gone when they are needed makes their stations run here, with a warning.

use crate::buildgrid::BuildGrid;
use crate::proxy::Proxy;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Action, Ctx, Download, File, Remote, Runner, Status, station, workflow};
use sha2::Digest as _;

/// The bytes `make` writes for `seed`: a few kilobytes, different for every seed.
fn part(seed: u64) -> Vec<u8> {
    (0..3000u64).map(|i| (i * 7 + seed * 13) as u8).collect()
}

/// Writes a part into its own directory (an intermediate file).
#[station]
fn make(ctx: &Ctx, seed: &u64) -> Result<File, std::io::Error> {
    executed("bytes_make");
    let path = ctx.output("part.bin").map_err(std::io::Error::other)?;
    std::fs::write(&path, part(*seed))?;
    Ok(File::new(path))
}

/// Joins two parts under a tag (the workflow's output file, read downstream too).
#[station]
fn join(ctx: &Ctx, x: &File, y: &File, tag: &String) -> Result<File, std::io::Error> {
    executed("bytes_join");
    let mut bytes = tag.as_bytes().to_vec();
    bytes.extend(std::fs::read(x.path())?);
    bytes.extend(std::fs::read(y.path())?);
    let path = ctx.output("joined.bin").map_err(std::io::Error::other)?;
    std::fs::write(&path, bytes)?;
    Ok(File::new(path))
}

#[station]
fn measure(z: &File) -> Result<u64, std::io::Error> {
    executed("bytes_measure");
    Ok(std::fs::metadata(z.path())?.len())
}

workflow! {
    /// Two intermediate files, a joined file (an output that a station also reads) and its size.
    pub fn layers(a: u64, b: u64, tag: String) -> (File, u64) {
        let x = make(a);
        let y = make(b);
        let z = join(x, y, tag);
        let n = measure(z);
        (z, n)
    }
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The joined file's bytes for `tag`.
fn joined(tag: &str) -> Vec<u8> {
    [tag.as_bytes().to_vec(), part(1), part(2)].concat()
}

/// The SHA-256 of the files of the graph: the two parts and the joined file.
fn file_digests(tag: &str) -> (String, String, String) {
    (sha256(&part(1)), sha256(&part(2)), sha256(&joined(tag)))
}

/// Stations in the graph: each one's manifest is one blob read on a remote hit.
const STATIONS: usize = 4;

/// A BuildGrid holding the results of `layers(1, 2, "v1")`, computed by a writer, and a
/// proxy in front of it for readers.
fn warm_server() -> Option<(BuildGrid, Proxy)> {
    let server = BuildGrid::start()?;
    let writer = temp_store();
    Runner::new(&writer.store)
        .remote(Remote::new(&server.url).write(true))
        .run(layers(1, 2, "v1".to_owned()))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("bytes_make", 2), ("bytes_join", 1), ("bytes_measure", 1)])
    );
    let proxy = Proxy::start(&server.url);
    Some((server, proxy))
}

fn reader(proxy: &Proxy, mode: Download) -> Remote {
    Remote::new(&proxy.url).download(mode)
}

/// The file blobs among the reads, and checks every other read is one manifest per station.
fn file_reads(reads: &[String], files: &[&String], manifests: usize) -> Vec<String> {
    let of_files: Vec<String> = reads
        .iter()
        .filter(|hash| files.contains(hash))
        .cloned()
        .collect();
    assert_eq!(reads.len() - of_files.len(), manifests, "{reads:?}");
    of_files
}

#[test]
fn a_warm_run_downloads_exactly_the_files_its_mode_wants() {
    let _serial = serial();
    let Some((_server, proxy)) = warm_server() else {
        return;
    };
    let (x, y, z) = file_digests("v1");
    let files = [&x, &y, &z];
    let cases = [
        (Download::All, {
            let mut all = vec![x.clone(), y.clone(), z.clone()];
            all.sort();
            all
        }),
        (Download::Outputs, vec![z.clone()]),
        (Download::Minimal, vec![]),
    ];
    for (mode, expected) in cases {
        let store = temp_store();
        let run = Runner::new(&store.store)
            .remote(reader(&proxy, mode))
            .run(layers(1, 2, "v1".to_owned()))
            .unwrap();
        assert_eq!(take_executions(), counts(&[]), "{mode}: nothing runs here");
        assert_eq!(run.report().count(Status::Cached), STATIONS);
        let reads = proxy.take_reads();
        assert_eq!(file_reads(&reads, &files, STATIONS), expected, "{mode}");
        let (file, n) = run.output();
        assert_eq!(*n, joined("v1").len() as u64);
        match mode {
            Download::Minimal => assert!(!file.path().exists(), "{mode}"),
            _ => assert_eq!(std::fs::read(file.path()).unwrap(), joined("v1")),
        }
        // A plan sees files in the remote cache only as the content they were recorded with.
        let plan = Runner::new(&store.store)
            .local_only()
            .plan(layers(1, 2, "v1".to_owned()))
            .unwrap();
        assert_eq!(plan.with_action(Action::Cached).count(), STATIONS, "{mode}");
        // The next run is a local hit: the server is not asked again.
        let lookups = proxy.lookups();
        let again = Runner::new(&store.store)
            .remote(reader(&proxy, mode))
            .run(layers(1, 2, "v1".to_owned()))
            .unwrap();
        assert_eq!(again.report().count(Status::Cached), STATIONS, "{mode}");
        assert_eq!(proxy.lookups(), lookups, "{mode}: looked up again");
        assert_eq!(proxy.take_reads(), Vec::<String>::new(), "{mode}");
        assert_eq!(take_executions(), counts(&[]));
    }
}

/// A store that computed `layers(1, 2, tag)` alone: what a reader must agree with.
fn reference(tag: &str) -> Vec<u8> {
    let store = temp_store();
    let run = Runner::new(&store.store)
        .local_only()
        .run(layers(1, 2, tag.to_owned()))
        .unwrap();
    take_executions();
    std::fs::read(run.output().0.path()).unwrap()
}

#[test]
fn a_later_change_fetches_exactly_the_intermediates_a_station_that_runs_reads() {
    let _serial = serial();
    let Some((_server, proxy)) = warm_server() else {
        return;
    };
    let (x, y, _) = file_digests("v1");
    let store = temp_store();
    Runner::new(&store.store)
        .remote(reader(&proxy, Download::Minimal))
        .run(layers(1, 2, "v1".to_owned()))
        .unwrap();
    proxy.take_reads();
    let run = Runner::new(&store.store)
        .remote(reader(&proxy, Download::Minimal))
        .run(layers(1, 2, "v2".to_owned()))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("bytes_join", 1), ("bytes_measure", 1)])
    );
    let mut expected = vec![x, y];
    expected.sort();
    assert_eq!(proxy.take_reads(), expected, "the two parts, nothing else");
    let made = std::fs::read(run.output().0.path()).unwrap();
    assert_eq!(made, reference("v2"));
    assert_eq!(made, joined("v2"));
}

#[test]
fn fsck_and_fetch_know_the_files_in_the_remote_cache_only() {
    let _serial = serial();
    let Some((_server, proxy)) = warm_server() else {
        return;
    };
    let (x, y, _) = file_digests("v1");
    let store = temp_store();
    let run = Runner::new(&store.store)
        .remote(reader(&proxy, Download::Minimal))
        .run(layers(1, 2, "v1".to_owned()))
        .unwrap();
    let output = run.output().0.path().to_owned();
    proxy.take_reads();
    let fsck = store.store.fsck(false).unwrap();
    assert!(fsck.is_clean(), "{fsck}");
    assert_eq!(fsck.remote_only(), 3, "{fsck}");
    assert!(
        fsck.to_string()
            .contains("3 files are in the remote cache only"),
        "{fsck}"
    );
    // `fetch make` brings the two parts, and nothing else.
    let dir = store.store.dir().to_str().unwrap().to_owned();
    let code = choochoo::cli::main_with_args(
        [
            "layers", "--store", &dir, "fetch", "make", "--remote", &proxy.url,
        ],
        || layers(1, 2, "v1".to_owned()),
    );
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let mut expected = vec![x, y];
    expected.sort();
    assert_eq!(proxy.take_reads(), expected);
    assert_eq!(store.store.fsck(false).unwrap().remote_only(), 1);
    assert!(!output.exists());
    // `fetch` alone brings the rest: the output.
    let code = choochoo::cli::main_with_args(
        ["layers", "--store", &dir, "fetch", "--remote", &proxy.url],
        || layers(1, 2, "v1".to_owned()),
    );
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    assert_eq!(std::fs::read(&output).unwrap(), joined("v1"));
    assert_eq!(store.store.fsck(false).unwrap().remote_only(), 0);
    take_executions();
}

#[test]
fn a_remote_gone_when_its_files_are_needed_makes_them_here_with_a_warning() {
    let _serial = serial();
    let Some((_server, proxy)) = warm_server() else {
        return;
    };
    let store = temp_store();
    Runner::new(&store.store)
        .remote(reader(&proxy, Download::Minimal))
        .run(layers(1, 2, "v1".to_owned()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[]));
    proxy.set_off(true);
    let run = Runner::new(&store.store)
        .remote(reader(&proxy, Download::Minimal))
        .run(layers(1, 2, "v2".to_owned()))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("bytes_make", 2), ("bytes_join", 1), ("bytes_measure", 1)])
    );
    let warnings = run.report().warnings().join("\n");
    assert!(
        warnings.contains("are in the remote cache only and cannot be fetched"),
        "{warnings}"
    );
    assert!(warnings.contains("running it here"), "{warnings}");
    let made = std::fs::read(run.output().0.path()).unwrap();
    assert_eq!(made, reference("v2"));
    // The parts made here are local now: a later run without the remote needs nothing.
    let fsck = store.store.fsck(false).unwrap();
    assert!(fsck.is_clean(), "{fsck}");
    assert_eq!(fsck.remote_only(), 0, "{fsck}");
}
