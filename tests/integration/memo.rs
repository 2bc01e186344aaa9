//! Memoization on disk: what a second run skips, what a change re-runs, and that nothing
//! stored is ever used when it is not exactly right.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, File, Runner, Station, Status, Store, station, workflow};
use std::path::Path;

#[station]
fn read(doc: &File) -> Result<String, std::io::Error> {
    executed("read");
    std::fs::read_to_string(doc.path())
}

#[station]
fn shout(text: &String) -> String {
    executed("shout");
    text.to_uppercase()
}

#[station]
fn length(text: &String) -> usize {
    executed("length");
    text.len()
}

/// Its output only says whether the text is long: editing a text often leaves it unchanged.
#[station]
fn is_long(n: &usize, limit: &usize) -> bool {
    executed("is_long");
    n > limit
}

#[station]
fn verdict(long: &bool) -> String {
    executed("verdict");
    if *long { "long".into() } else { "short".into() }
}

#[station]
fn report(
    ctx: &Ctx,
    a: &String,
    b: &String,
    verdict: &String,
    sep: &String,
) -> Result<File, std::io::Error> {
    executed("report");
    if std::env::var_os("CHOOCHOO_TEST_FAIL_REPORT").is_some()
        || FAIL_REPORT.load(std::sync::atomic::Ordering::SeqCst)
    {
        return Err(std::io::Error::other("report is broken"));
    }
    let path = ctx.out_dir().join("report.txt");
    std::fs::write(&path, format!("{a}{sep}{b}{sep}{verdict}"))?;
    Ok(File::new(path))
}

static FAIL_REPORT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

workflow! {
    /// a → read → shout ─┐
    /// b → read ─────────┼→ report
    ///   └→ length → is_long → verdict ─┘
    pub fn pipeline(a: File, b: File, sep: String) -> File {
        let text_a = read(a);
        let text_b = read(b);
        let loud = shout(text_a);
        let n = length(text_b);
        let long = is_long(n, 10);
        let word = verdict(long);
        report(loud, text_b, word, sep)
    }
}

struct Fixture {
    tmp: crate::support::TempStore,
    a: std::path::PathBuf,
    b: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let tmp = temp_store();
    let a = tmp.dir.path().join("a.txt");
    let b = tmp.dir.path().join("b.txt");
    std::fs::write(&a, "hello").unwrap();
    std::fs::write(&b, "a fairly long text").unwrap();
    Fixture { tmp, a, b }
}

impl Fixture {
    fn run(&self, store: &Store, sep: &str) -> choochoo::Run<File> {
        Runner::new(store)
            .jobs(2)
            .run(pipeline(
                File::new(&self.a),
                File::new(&self.b),
                sep.to_owned(),
            ))
            .expect("run")
    }
}

fn contents(file: &File) -> String {
    std::fs::read_to_string(file.path()).unwrap()
}

/// Makes sure the next write lands in a later timestamp tick than anything hashed before.
fn later() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

const ALL: &[(&str, usize)] = &[
    ("read", 2),
    ("shout", 1),
    ("length", 1),
    ("is_long", 1),
    ("verdict", 1),
    ("report", 1),
];

#[test]
fn a_second_run_executes_nothing_and_returns_the_same_output() {
    let _serial = serial();
    let f = fixture();
    let first = f.run(&f.tmp.store, " | ");
    assert_eq!(take_executions(), counts(ALL));
    assert_eq!(
        contents(first.output()),
        "HELLO | a fairly long text | long"
    );
    let second = f.run(&f.tmp.store, " | ");
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(second.output(), first.output());
    assert_eq!(second.report().count(Status::Cached), 7);
    assert_eq!(second.report().count(Status::Ran), 0);
}

#[test]
fn the_memory_survives_reopening_the_store() {
    let _serial = serial();
    let f = fixture();
    let dir = f.tmp.store.dir().to_path_buf();
    let first = f.run(&f.tmp.store, "/");
    take_executions();
    let reopened = Store::open(&dir).unwrap();
    let second = f.run(&reopened, "/");
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(second.output(), first.output());
}

#[test]
fn changing_a_parameter_reruns_exactly_its_dependents() {
    let _serial = serial();
    let f = fixture();
    f.run(&f.tmp.store, "/");
    take_executions();
    let run = f.run(&f.tmp.store, "+");
    assert_eq!(take_executions(), counts(&[("report", 1)]));
    assert_eq!(contents(run.output()), "HELLO+a fairly long text+long");
    assert_eq!(
        run.report().find("output").next().unwrap().reason(),
        Some("input `sep` changed: \"/\" → \"+\"")
    );
}

#[test]
fn editing_a_file_reruns_its_cone_and_touching_it_reruns_nothing() {
    let _serial = serial();
    let f = fixture();
    f.run(&f.tmp.store, "/");
    take_executions();

    later();
    std::fs::write(&f.a, "howdy").unwrap();
    let run = f.run(&f.tmp.store, "/");
    assert_eq!(
        take_executions(),
        counts(&[("read", 1), ("shout", 1), ("report", 1)])
    );
    assert_eq!(contents(run.output()), "HOWDY/a fairly long text/long");
    assert_eq!(
        run.report().find("text_a").next().unwrap().reason(),
        Some("input `doc` changed")
    );

    later();
    let bytes = std::fs::read(&f.a).unwrap();
    std::fs::write(&f.a, bytes).unwrap(); // same bytes, new mtime
    f.run(&f.tmp.store, "/");
    assert_eq!(take_executions(), counts(&[]));
}

#[test]
fn an_upstream_that_reproduces_its_output_stops_the_cascade() {
    let _serial = serial();
    let f = fixture();
    f.run(&f.tmp.store, "/");
    take_executions();
    later();
    // Still longer than 10: `length` changes, `is_long` re-runs and says `true` again, so
    // `verdict` is not run; `report` re-runs only because its text input changed.
    std::fs::write(&f.b, "another, longer text").unwrap();
    let run = f.run(&f.tmp.store, "/");
    assert_eq!(
        take_executions(),
        counts(&[("read", 1), ("length", 1), ("is_long", 1), ("report", 1)])
    );
    assert_eq!(
        run.report().find("word").next().unwrap().status(),
        Status::Cached
    );
    assert_eq!(contents(run.output()), "HELLO/another, longer text/long");
}

#[test]
fn after_a_failure_and_a_fix_only_the_unfinished_stations_run() {
    let _serial = serial();
    let f = fixture();
    FAIL_REPORT.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed =
        Runner::new(&f.tmp.store).run(pipeline(File::new(&f.a), File::new(&f.b), "/".into()));
    FAIL_REPORT.store(false, std::sync::atomic::Ordering::SeqCst);
    let error = failed.unwrap_err();
    assert_eq!(error.report().unwrap().count(Status::Failed), 1);
    assert_eq!(take_executions(), counts(ALL));
    let run = f.run(&f.tmp.store, "/");
    assert_eq!(take_executions(), counts(&[("report", 1)]));
    assert_eq!(contents(run.output()), "HELLO/a fairly long text/long");
}

#[test]
fn deleting_a_stations_directory_replays_that_station() {
    let _serial = serial();
    let f = fixture();
    let first = f.run(&f.tmp.store, "/");
    take_executions();
    let entry = first.report().find("output").next().unwrap();
    let dir = f.tmp.store.dir().join("work/default").join(entry.node());
    assert!(
        first.output().path().starts_with(&dir),
        "{:?} in {dir:?}",
        first.output().path()
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let run = f.run(&f.tmp.store, "/");
    assert_eq!(take_executions(), counts(&[("report", 1)]));
    let reason = run
        .report()
        .find("output")
        .next()
        .unwrap()
        .reason()
        .unwrap()
        .to_owned();
    assert!(reason.contains("is missing"), "{reason}");
    assert_eq!(contents(run.output()), "HELLO/a fairly long text/long");

    // An output edited by hand is not trusted either.
    later();
    std::fs::write(run.output().path(), "tampered").unwrap();
    let again = f.run(&f.tmp.store, "/");
    assert_eq!(take_executions(), counts(&[("report", 1)]));
    assert_eq!(contents(again.output()), "HELLO/a fairly long text/long");
}

mod versions {
    use choochoo::station;

    #[station]
    pub fn original(x: &u64) -> u64 {
        x + 1
    }

    #[station]
    pub fn reformatted(x: &u64) -> u64 {
        // a comment, and different spacing, do not count
        x + 1
    }

    #[station]
    pub fn edited(x: &u64) -> u64 {
        x + 2
    }

    #[station(version = 2)]
    pub fn bumped(x: &u64) -> u64 {
        x + 1
    }

    pub mod again {
        #[choochoo::station]
        pub fn original(x: &u64) -> u64 {
            x + 1
        }
    }
}

#[test]
fn the_code_fingerprint_sees_the_body_and_the_version_but_not_the_layout() {
    use versions::*;
    let fp = |s: &dyn Fn() -> choochoo::Digest| s();
    let base = fp(&|| Original.fingerprint());
    assert_eq!(fp(&|| again::Original.fingerprint()), base);
    assert_ne!(
        fp(&|| Reformatted.fingerprint()),
        base,
        "a different name is different tokens"
    );
    assert_ne!(fp(&|| Edited.fingerprint()), base);
    assert_ne!(fp(&|| Bumped.fingerprint()), base);
    assert_ne!(Original.id(), again::Original.id());
}

mod big {
    use super::*;

    #[station]
    pub fn blob(n: &u64) -> Vec<u64> {
        executed("blob");
        (0..*n).collect()
    }

    #[station]
    pub fn total(xs: &Vec<u64>) -> u64 {
        executed("total");
        xs.iter().sum()
    }

    workflow! {
        pub fn big(n: u64) -> u64 {
            let xs = blob(n);
            total(xs)
        }
    }
}

fn corrupt_sql(store: &Store, sql: &str) {
    let db = rusqlite::Connection::open(store.dir().join("store.db")).unwrap();
    db.execute_batch(sql).unwrap();
}

/// Changes the inline value of every record that has a non-empty one.
fn corrupt_inline(store: &Store, change: fn(&mut Vec<u8>)) {
    for record in choochoo::test_util::records(store.dir()).unwrap() {
        if record
            .inline
            .as_ref()
            .is_some_and(|value| !value.is_empty())
        {
            let edit = |record: &mut choochoo::test_util::LogRecord| {
                record.inline.as_mut().map(change);
            };
            assert!(choochoo::test_util::edit_record(store.dir(), &record.key, edit).unwrap());
        }
    }
}

#[test]
fn a_corrupt_inline_record_is_a_miss_with_a_warning() {
    let _serial = serial();
    let f = fixture();
    f.run(&f.tmp.store, "/");
    take_executions();
    // Flip a byte of every stored output, then truncate them all on a second round.
    let flip: fn(&mut Vec<u8>) = |value| value[0] = b'X';
    let truncate: fn(&mut Vec<u8>) = |value| {
        value.pop();
    };
    for change in [flip, truncate] {
        corrupt_inline(&f.tmp.store, change);
        let run = f.run(&f.tmp.store, "/");
        assert_eq!(take_executions(), counts(ALL));
        assert_eq!(contents(run.output()), "HELLO/a fairly long text/long");
        assert_eq!(
            run.report().warnings().len(),
            7,
            "{:?}",
            run.report().warnings()
        );
        assert!(
            run.report().warnings()[0].contains("is corrupt"),
            "{:?}",
            run.report().warnings()
        );
    }
    let run = f.run(&f.tmp.store, "/");
    assert_eq!(take_executions(), counts(&[]));
    assert!(run.report().warnings().is_empty());
}

#[test]
fn a_corrupt_or_missing_blob_is_a_miss_with_a_warning() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let expected: u64 = (0..100_000u64).sum();
    assert_eq!(*runner.run(big::big(100_000)).unwrap().output(), expected);
    take_executions();
    let blobs: Vec<_> = walk(&tmp.store.dir().join("blobs"));
    assert_eq!(blobs.len(), 1, "the 800 kB output is a blob file");
    let mut bytes = std::fs::read(&blobs[0]).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&blobs[0], &bytes).unwrap();
    let run = runner.run(big::big(100_000)).unwrap();
    assert_eq!(*run.output(), expected);
    assert_eq!(
        take_executions(),
        counts(&[("blob", 1)]),
        "total's input is unchanged, so it stays cached"
    );
    assert!(
        run.report()
            .warnings()
            .iter()
            .any(|w| w.contains("is corrupt"))
    );
    std::fs::remove_file(&blobs[0]).unwrap();
    assert_eq!(*runner.run(big::big(100_000)).unwrap().output(), expected);
    assert_eq!(take_executions(), counts(&[("blob", 1)]));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

#[test]
fn a_store_of_another_schema_version_is_refused() {
    let tmp = temp_store();
    corrupt_sql(
        &tmp.store,
        "UPDATE meta SET value = '999' WHERE name = 'schema_version'",
    );
    let error = Store::open(tmp.store.dir()).unwrap_err().to_string();
    assert!(error.contains("schema version 999"), "{error}");
}

/// Entry point of the child processes below; does nothing in a normal test run.
#[test]
fn child_process_entry() {
    let Some(store) = std::env::var_os("CHOOCHOO_TEST_CHILD_STORE") else {
        return;
    };
    let dir = Path::new(&store).parent().unwrap().to_path_buf();
    let store = Store::open(&store).unwrap();
    let run = Runner::new(&store)
        .jobs(2)
        .run(pipeline(
            File::new(dir.join("a.txt")),
            File::new(dir.join("b.txt")),
            "/".into(),
        ))
        .unwrap();
    let total: usize = take_executions().values().sum();
    println!("\nCHILD executed={total} output={}", contents(run.output()));
}

fn spawn_child(store: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memo::child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CHOOCHOO_TEST_CHILD_STORE", store)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn child_result(child: std::process::Child) -> (usize, String) {
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = stdout
        .lines()
        .find(|line| line.starts_with("CHILD "))
        .expect("child printed its result");
    let (executed, output) = line["CHILD executed=".len()..]
        .split_once(" output=")
        .unwrap();
    (executed.parse().unwrap(), output.to_owned())
}

#[test]
fn a_second_process_finds_what_the_first_one_stored() {
    let f = fixture();
    let store = f.tmp.store.dir().to_path_buf();
    let (first, output) = child_result(spawn_child(&store));
    assert_eq!(first, 7);
    assert_eq!(output, "HELLO/a fairly long text/long");
    assert_eq!(child_result(spawn_child(&store)), (0, output));
}

#[test]
fn two_processes_running_at_once_both_succeed_with_the_same_output() {
    let f = fixture();
    let store = f.tmp.store.dir().to_path_buf();
    let (one, two) = (spawn_child(&store), spawn_child(&store));
    let (one, two) = (child_result(one), child_result(two));
    assert_eq!(one.1, "HELLO/a fairly long text/long");
    assert_eq!(one.1, two.1);
    // Each node is computed once: the other process waits on its lock and finds the record.
    assert_eq!(one.0 + two.0, 7);
}
