//! Failures of the machine under a run: an I/O error at every step of publishing an output
//! (injected), a real full disk (tmpfs), a lease holder that dies, `gc` while another process
//! runs, and names that are not UTF-8. Figures of the last run go in `tests/RELIABILITY.md`.

use choochoo::test_util::{Faults, open_with_faults};
use choochoo::{Ctx, Digest, File, GcPolicy, Graph, Node, Runner, Status, Store, station};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Which stations of the fixture ran, by index; the tests of this module take `LOCK` first.
static RAN: Mutex<Vec<u64>> = Mutex::new(Vec::new());
static LOCK: Mutex<()> = Mutex::new(());

pub fn lock() -> MutexGuard<'static, ()> {
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    RAN.lock().unwrap().clear();
    guard
}

pub fn take_ran() -> BTreeSet<u64> {
    std::mem::take(&mut *RAN.lock().unwrap())
        .into_iter()
        .collect()
}

/// `size` bytes that depend on `idx` and on everything upstream.
fn payload(idx: u64, size: u64, upstream: &[Vec<u8>]) -> Vec<u8> {
    let mut seed = idx.to_le_bytes().to_vec();
    for bytes in upstream {
        seed.extend_from_slice(Digest::of(bytes).as_bytes());
    }
    let mut state = u64::from_le_bytes(Digest::of(&seed).as_bytes()[..8].try_into().unwrap());
    (0..size)
        .map(|_| {
            // splitmix64
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

#[station]
fn chunk(idx: &u64, size: &u64, upstream: &Vec<Vec<u8>>) -> Vec<u8> {
    RAN.lock().unwrap().push(*idx);
    payload(*idx, *size, upstream)
}

#[station]
fn spill(ctx: &Ctx, idx: &u64, size: &u64, upstream: &Vec<Vec<u8>>) -> std::io::Result<File> {
    RAN.lock().unwrap().push(*idx);
    let path = ctx.output("part.bin").map_err(std::io::Error::other)?;
    std::fs::write(&path, payload(*idx, *size, upstream))?;
    Ok(File::new(path))
}

#[station]
fn summary(chunks: &Vec<Vec<u8>>, files: &Vec<File>) -> std::io::Result<Vec<String>> {
    RAN.lock().unwrap().push(SUMMARY);
    let mut lines: Vec<String> = chunks
        .iter()
        .map(|c| format!("{} {}", c.len(), Digest::of(c)))
        .collect();
    for file in files {
        let bytes = std::fs::read(file.path())?;
        lines.push(format!("{} {}", bytes.len(), Digest::of(&bytes)));
    }
    Ok(lines)
}

const SUMMARY: u64 = 19;

/// Twenty stations: sixteen values (inline and blob sizes, each reading the one before and
/// the one three before), three files, and a summary of them all.
pub fn fixture(scale: u64) -> (Graph, Node<Vec<String>>) {
    const SIZES: [u64; 8] = [100, 40_000, 0, 70_000, 3_000, 20_000, 17_000, 90_000];
    let mut g = Graph::new();
    let mut chunks: Vec<Node<Vec<u8>>> = Vec::new();
    for idx in 0..16u64 {
        let upstream: Vec<Node<Vec<u8>>> = [idx.checked_sub(1), idx.checked_sub(3)]
            .into_iter()
            .flatten()
            .map(|i| chunks[i as usize])
            .collect();
        let (i, size) = (g.input(idx), g.input(SIZES[idx as usize % 8] * scale));
        chunks.push(g.add(Chunk, (&i, &size, &upstream)));
    }
    let files: Vec<Node<File>> = (16..19u64)
        .map(|idx| {
            let (i, size) = (g.input(idx), g.input(30_000 * scale));
            let upstream = vec![chunks[(idx as usize - 16) * 5]];
            g.add(Spill, (&i, &size, &upstream))
        })
        .collect();
    let summary = g.add(Summary, (&chunks, &files));
    (g, summary)
}

pub fn run(
    store: &Store,
    graph: &Graph,
    out: Node<Vec<String>>,
) -> Result<Vec<String>, choochoo::Error> {
    Runner::new(store)
        .jobs(2)
        .run_graph(graph, out)
        .map(choochoo::Run::into_output)
}

/// The stations a failed run reports as ran: their records are durable.
pub fn ran_in(error: &choochoo::Error) -> BTreeSet<u64> {
    let report = error.report().expect("a failed run has a report");
    report
        .entries()
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.status() == Status::Ran)
        .map(|(i, _)| i as u64)
        .collect()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// The store holds nothing wrong: fsck finds no problem and no temp file is left.
fn assert_consistent(dir: &Path, context: &str) {
    let store = Store::open(dir).unwrap();
    let fsck = store.fsck(false).unwrap();
    assert!(fsck.is_clean(), "{context}: {fsck}");
    assert_eq!(
        entries(&dir.join("tmp")),
        Vec::<PathBuf>::new(),
        "{context}"
    );
}

/// Every step of every publish of a run fails in turn — once, and from then on — with
/// ENOSPC, EACCES or EIO (in turn; all three for every step with `CHOOCHOO_FAULTS_FULL=1`:
/// the error's kind takes no path of its own through the store). Each time: the run fails with an error naming the operation, the
/// path and the error; the store stays consistent; the next run succeeds with the reference
/// output and runs exactly the stations whose results the failed run had not recorded.
#[test]
fn an_io_error_at_any_publish_step_leaves_the_store_consistent_and_resumable() {
    let _lock = lock();
    let (graph, out) = fixture(1);
    let reference = {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::new(0, 0, false));
        let store = open_with_faults(dir.path(), faults.clone()).unwrap();
        let output = run(&store, &graph, out).unwrap();
        assert_eq!(take_ran().len(), 20);
        (output, faults.steps())
    };
    let (reference, steps) = reference;
    assert!(steps >= 30, "the fixture publishes blobs: {steps} steps");
    let all: BTreeSet<u64> = (0..20).collect();
    let mut scenarios = 0;
    let mut operations = BTreeSet::new();
    let full = std::env::var_os("CHOOCHOO_FAULTS_FULL").is_some();
    for (n, errno) in [28, 13, 5].into_iter().enumerate() {
        let kind = std::io::Error::from_raw_os_error(errno).to_string();
        for forever in [false, true] {
            for at in (1..=steps).filter(|at| full || at % 3 == n as u64) {
                let context = format!("step {at} of {steps}, {kind}, forever: {forever}");
                let dir = tempfile::tempdir().unwrap();
                let faults = Arc::new(Faults::new(at, errno, forever));
                let store = open_with_faults(dir.path(), faults.clone()).unwrap();
                let result = run(&store, &graph, out);
                let ledger: Vec<String> = store
                    .defects()
                    .unwrap()
                    .iter()
                    .flat_map(|defect| store.observations(defect.id()).unwrap())
                    .map(|observation| observation.message().to_owned())
                    .collect();
                drop(store);
                let failed = faults.failed();
                operations.extend(
                    failed
                        .iter()
                        .map(|f| f.split_once(' ').unwrap().0.to_owned()),
                );
                let recorded = match result {
                    // The batches of a run may differ by one commit: a step past its end.
                    Ok(output) if failed.is_empty() => {
                        assert_eq!(output, reference, "{context}");
                        take_ran();
                        continue;
                    }
                    Ok(_) => panic!("{context}: the run succeeded despite {failed:?}"),
                    Err(error) => {
                        let message = error.to_string();
                        assert!(message.contains(&kind), "{context}: {message}");
                        let named =
                            |step: &String| message.contains(step.split_once(' ').unwrap().1);
                        assert!(failed.iter().any(named), "{context}: {message} {failed:?}");
                        assert!(message.contains("cannot "), "{context}: {message}");
                        // A result that could not be stored is a failure in the ledger too
                        // (one that could not be committed has no station call to blame).
                        let stored = error.report().unwrap().entries().iter().filter(|e| {
                            e.error().is_some_and(|e| e.contains("could not be stored"))
                        });
                        for entry in stored {
                            let error = entry.error().unwrap();
                            assert!(
                                ledger.iter().any(|m| error.contains(m.as_str())),
                                "{context}: {error} not in {ledger:?}"
                            );
                        }
                        ran_in(&error)
                    }
                };
                take_ran();
                assert_consistent(dir.path(), &context);
                let store = Store::open(dir.path()).unwrap();
                let output = run(&store, &graph, out).unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(output, reference, "{context}");
                let again = take_ran();
                let expected: BTreeSet<u64> = all.difference(&recorded).copied().collect();
                assert_eq!(again, expected, "{context}");
                scenarios += 1;
            }
        }
    }
    let every = [
        "Append",
        "Create",
        "CreateDir",
        "Rename",
        "Sync",
        "SyncDir",
        "Write",
    ];
    assert_eq!(
        operations,
        every.map(String::from).into(),
        "every kind of step failed"
    );
    let walked = if full { 3 * steps } else { steps };
    assert!(
        scenarios as u64 >= 2 * walked - 6,
        "{scenarios} of {walked} steps"
    );
    println!(
        "fault injection: {walked} (step, error) pairs x 2 modes, {scenarios} failed runs resumed"
    );
}

// ---------------------------------------------------------------------------------------
// A real full disk, and processes that hold what another wants.

const CHILD: &str = "CHOOCHOO_FAULTS_CHILD";
const CHILD_DIR: &str = "CHOOCHOO_FAULTS_DIR";

/// This test binary run as a child, in `mode`, with `dir`; output to files beside `dir`.
fn child(mode: &str, dir: &Path, wrap: Option<&[&str]>) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let args = [
        "--exact",
        "faults::child_entry",
        "--nocapture",
        "--test-threads=1",
    ];
    let mut command = match wrap {
        Some(wrapper) => {
            let mut command = Command::new(wrapper[0]);
            command.args(&wrapper[1..]).arg(&exe).args(args);
            command
        }
        None => {
            let mut command = Command::new(&exe);
            command.args(args);
            command
        }
    };
    let out = dir.with_extension("out");
    command
        .env(CHILD, mode)
        .env(CHILD_DIR, dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(dir.with_extension("err")).unwrap())
        .spawn()
        .unwrap()
}

fn child_output(dir: &Path) -> String {
    let read = |ext| std::fs::read_to_string(dir.with_extension(ext)).unwrap_or_default();
    format!("{}\n{}", read("out"), read("err"))
}

/// Waits for `station` to be released: the file `go` beside the store appears.
#[station]
fn hold(dir: &String) -> std::io::Result<u64> {
    let dir = Path::new(dir);
    std::fs::write(dir.join("started"), std::process::id().to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("go").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    RAN.lock().unwrap().push(100);
    Ok(42)
}

fn hold_graph(dir: &Path) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let dir = g.input(dir.to_string_lossy().into_owned());
    let held = g.add(Hold, (&dir,));
    (g, held)
}

/// The children of this module; does nothing in a normal test run.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let dir = PathBuf::from(std::env::var_os(CHILD_DIR).unwrap());
    match mode.as_str() {
        "disk-full" => disk_full(&dir),
        "hold" => {
            let store = Store::open(dir.join("store")).unwrap();
            let (graph, held) = hold_graph(&dir);
            let run = Runner::new(&store).run_graph(&graph, held).unwrap();
            println!("CHILD held={}", run.output());
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// On a 3 MiB tmpfs mounted for this process alone: fill it, run, expect a clear error and a
/// consistent store; free the space, run again, expect the reference and no redone station.
fn disk_full(dir: &Path) {
    let (graph, out) = fixture(4);
    let reference = {
        let elsewhere = tempfile::tempdir().unwrap();
        let store = Store::open(elsewhere.path()).unwrap();
        run(&store, &graph, out).unwrap()
    };
    take_ran();
    let store_dir = dir.join("store");
    let store = Store::open(&store_dir).unwrap();
    // Leave 400 KiB: the first blobs fit, the rest do not.
    let filler = dir.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        let len = file.metadata().unwrap().len();
        file.set_len(len.saturating_sub(400 * 1024)).unwrap();
    }
    let error = run(&store, &graph, out).expect_err("the disk is full");
    // Stations writing their own files fail too; the store's error names its path.
    let report = error.report().unwrap();
    let message = report
        .entries()
        .iter()
        .filter_map(|entry| entry.error())
        .find(|message| message.contains("could not be"))
        .unwrap_or_else(|| panic!("no storage error: {error}"))
        .to_owned();
    assert!(
        message.contains("No space left on device") || message.contains("disk is full"),
        "{message}"
    );
    assert!(
        message.contains(&*dir.to_string_lossy()),
        "the path is named: {message}"
    );
    let recorded = ran_in(&error);
    take_ran();
    drop(store);
    assert_consistent(&store_dir, "after the disk filled up");
    std::fs::remove_file(&filler).unwrap();
    let store = Store::open(&store_dir).unwrap();
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    let all: BTreeSet<u64> = (0..20).collect();
    assert_eq!(take_ran(), all.difference(&recorded).copied().collect());
    println!(
        "CHILD disk-full ok: {message}; {} recorded before",
        recorded.len()
    );
}

#[test]
fn a_full_disk_is_a_clear_error_and_freeing_space_resumes() {
    let _lock = lock();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("tmpfs");
    std::fs::create_dir(&dir).unwrap();
    let runs_as_root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    let unshare = Command::new("unshare").arg("--version").output().is_ok();
    if !(runs_as_root && unshare) {
        let why = if runs_as_root {
            "`unshare` does not run"
        } else {
            "this process is not root"
        };
        return crate::support::skip(
            "root and unshare(1) to mount a tmpfs",
            why,
            "run the tests as root, as CI does, with util-linux installed",
        );
    }
    let mount = format!(
        "mount -t tmpfs -o size=3m tmpfs '{}' && exec \"$0\" \"$@\"",
        dir.display()
    );
    let wrapper = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &mount,
    ];
    let status = child("disk-full", &dir, Some(&wrapper)).wait().unwrap();
    let output = child_output(&dir);
    assert!(status.success(), "{output}");
    let at = output.find("CHILD disk-full ok");
    let line = at.and_then(|at| output[at..].lines().next());
    println!("{}", line.unwrap_or_else(|| panic!("{output}")));
}

/// A child process in the `hold` station of a store in `<root>/shared`, once it has started.
fn holding_child() -> (tempfile::TempDir, std::process::Child) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    let child = child("hold", &dir, None);
    assert!(
        crate::support::wait_until(Duration::from_secs(30), || dir.join("started").exists()),
        "the child never started its station: {}",
        child_output(&dir)
    );
    (root, child)
}

/// A process holding a station's lease dies mid-station: the process waiting for that lease
/// takes it over and computes the station itself, once.
#[test]
fn a_dead_holders_lease_is_taken_over() {
    let _lock = lock();
    let (root, mut holder) = holding_child();
    let dir = root.path().join("shared");
    std::fs::remove_file(dir.join("started")).unwrap();
    let store = Store::open(dir.join("store")).unwrap();
    let (graph, held) = hold_graph(&dir);
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| Runner::new(&store).run_graph(&graph, held));
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !waiter.is_finished(),
            "the waiter did not wait for the lease"
        );
        assert!(
            !dir.join("started").exists(),
            "the waiter ran while the lease was held"
        );
        holder.kill().unwrap();
        holder.wait().unwrap();
        std::fs::write(dir.join("go"), "").unwrap();
        let run = waiter.join().unwrap().unwrap();
        assert_eq!(*run.output(), 42);
        assert_eq!(run.report().count(Status::Ran), 1);
    });
    assert_eq!(take_ran(), BTreeSet::from([100]));
}

/// `gc` waits while another process runs, so it never removes what that run is writing; the
/// run's record survives it.
#[test]
fn gc_waits_for_a_run_in_another_process() {
    let _lock = lock();
    let (root, mut runner) = holding_child();
    let dir = root.path().join("shared");
    let store = Store::open(dir.join("store")).unwrap();
    let policy = GcPolicy {
        keep_runs: 0,
        max_bytes: Some(0),
        dry_run: false,
    };
    std::thread::scope(|scope| {
        let gc = scope.spawn(|| store.gc(&policy));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!gc.is_finished(), "gc did not wait for the running process");
        std::fs::write(dir.join("go"), "").unwrap();
        gc.join().unwrap().unwrap();
    });
    assert!(runner.wait().unwrap().success(), "{}", child_output(&dir));
    assert!(child_output(&dir).contains("CHILD held=42"));
    // The record the other process wrote is still there: this run takes it.
    let (graph, held) = hold_graph(&dir);
    let run = Runner::new(&store).run_graph(&graph, held).unwrap();
    assert_eq!(run.report().count(Status::Cached), 1);
    assert_eq!(take_ran(), BTreeSet::new());
}

#[station]
fn length(file: &File) -> std::io::Result<u64> {
    RAN.lock().unwrap().push(200);
    Ok(std::fs::metadata(file.path())?.len())
}

/// Two files whose names differ only in bytes that are not UTF-8 are two different inputs.
#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_hash_distinctly() {
    use std::os::unix::ffi::OsStrExt;
    let _lock = lock();
    let store = crate::support::temp_store();
    let dir = tempfile::tempdir().unwrap();
    let names = [b"data-\xff".as_slice(), b"data-\xfe".as_slice()];
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|name| dir.path().join(std::ffi::OsStr::from_bytes(name)))
        .collect();
    for path in &paths {
        std::fs::write(path, "same bytes").unwrap();
    }
    let run = |path: &Path| {
        let mut g = Graph::new();
        let file = g.input(File::new(path));
        let len = g.add(Length, (&file,));
        *Runner::new(&store.store)
            .run_graph(&g, len)
            .unwrap()
            .output()
    };
    let executions = || std::mem::take(&mut *RAN.lock().unwrap()).len();
    assert_eq!(run(&paths[0]), 10);
    assert_eq!(run(&paths[1]), 10);
    assert_eq!(executions(), 2, "the second name is another input");
    run(&paths[0]);
    run(&paths[1]);
    assert_eq!(executions(), 0, "each name has its own record");
}

#[station]
fn named_output(ctx: &Ctx, name: &String) -> Result<File, choochoo::Error> {
    RAN.lock().unwrap().push(300);
    let path = ctx.output(name)?;
    std::fs::write(&path, "x").map_err(|_| unreachable!("the name was checked"))?;
    Ok(File::new(path))
}

/// A station asking for an output outside its directory gets a clear error and writes
/// nothing; a nested name is created under its directory.
#[test]
fn output_names_that_leave_the_stations_directory_are_refused() {
    let _lock = lock();
    let store = crate::support::temp_store();
    let outside = store.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let run = |name: &str| {
        let mut g = Graph::new();
        let name = g.input(name.to_owned());
        let out = g.add(NamedOutput, (&name,));
        Runner::new(&store.store).run_graph(&g, out)
    };
    let file = run("nested/dir/out.txt").unwrap().into_output();
    assert!(file.path().starts_with(store.store.dir().join("work")));
    assert!(file.path().ends_with("nested/dir/out.txt"));
    let escape = format!("../../../../{}", outside.join("x").display());
    for (name, why) in [
        (escape.as_str(), "`..`"),
        ("/etc/passwd-choochoo", "absolute path"),
        ("nul\0byte", "NUL"),
    ] {
        let error = run(name).unwrap_err().to_string();
        assert!(error.contains(why), "{name:?}: {error}");
        assert!(error.contains("output name"), "{error}");
    }
    assert_eq!(entries(&outside), Vec::<PathBuf>::new());
    assert!(!Path::new("/etc/passwd-choochoo").exists());
    assert_eq!(RAN.lock().unwrap().len(), 4);
}

/// Several processes creating one store at the same moment all open it: switching a new
/// database to WAL can report "database is locked" without waiting, and opening waits that
/// out.
#[test]
fn many_opens_of_a_new_store_at_once_all_succeed() {
    let _lock = lock();
    for round in 0..20 {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("store");
        let go = std::sync::Barrier::new(8);
        std::thread::scope(|scope| {
            let opens: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        go.wait();
                        Store::open(&dir).map(drop)
                    })
                })
                .collect();
            for open in opens {
                if let Err(error) = open.join().unwrap() {
                    panic!("round {round}: {error}");
                }
            }
        });
    }
}
