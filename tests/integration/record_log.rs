//! The record log: a store of the previous layout migrated into it, a log of the previous
//! format rewritten, a torn tail and a corrupt entry, appends and a compaction made through
//! another open store.

use crate::faults::{fixture, lock, run, take_ran};
use crate::support::records_to_tables;
use choochoo::{Digest, File, GcPolicy, Graph, Node, Runner, Store, station};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many times `grow` ran; the tests that count it take `lock()` first.
static GROWN: AtomicUsize = AtomicUsize::new(0);

#[station]
fn grow(text: &File, times: &u64) -> std::io::Result<Vec<u8>> {
    GROWN.fetch_add(1, Ordering::SeqCst);
    Ok(std::fs::read(text.path())?.repeat(*times as usize))
}

#[station]
fn sizes(parts: &Vec<Vec<u8>>) -> Vec<String> {
    parts
        .iter()
        .map(|part| format!("{} {}", part.len(), Digest::of(part)))
        .collect()
}

/// Five stations reading one file into outputs of blob size, and a sixth listing them: when
/// the file changes, the same nodes get new records and the old ones are no node's current.
pub fn growing(path: &Path) -> (Graph, Node<Vec<String>>) {
    let mut g = Graph::new();
    let text = g.input(File::new(path));
    let parts: Vec<Node<Vec<u8>>> = (1..=5u64)
        .map(|n| {
            let times = g.input(n * 20_000);
            g.add(Grow, (&text, &times))
        })
        .collect();
    let out = g.add(Sizes, (&parts,));
    (g, out)
}

/// Writes `text` to `path` and waits until its modification time is in the past.
pub fn write_settled(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
}

/// Runs `growing` on `store`: its output, and how many times `grow` ran.
pub fn run_growing(store: &Store, graph: &Graph, out: Node<Vec<String>>) -> (Vec<String>, usize) {
    let before = GROWN.load(Ordering::SeqCst);
    let output = Runner::new(store)
        .jobs(2)
        .run_graph(graph, out)
        .unwrap()
        .into_output();
    (output, GROWN.load(Ordering::SeqCst) - before)
}

fn log_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("records.log")).unwrap().len()
}

fn tables(dir: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("store.db")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('records', 'heads')",
        )
        .unwrap();
    let names = stmt.query_map([], |row| row.get(0)).unwrap();
    names.collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn a_store_of_version_3_is_migrated_and_keeps_its_results() {
    let _lock = lock();
    let (graph, out) = fixture(1);
    let dir = tempfile::tempdir().unwrap();
    let reference = run(&Store::open(dir.path()).unwrap(), &graph, out).unwrap();
    assert_eq!(take_ran().len(), 20);
    let heads = choochoo::test_util::heads(dir.path()).unwrap();
    records_to_tables(dir.path(), 3);
    assert!(!dir.path().join("records.log").exists());

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        tables(dir.path()),
        Vec::<String>::new(),
        "the tables are gone"
    );
    assert_eq!(choochoo::test_util::records(dir.path()).unwrap().len(), 20);
    assert_eq!(choochoo::test_util::heads(dir.path()).unwrap(), heads);
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(take_ran(), BTreeSet::new(), "every result stays cached");
    assert!(store.fsck(false).unwrap().is_clean());
    let db = rusqlite::Connection::open(dir.path().join("store.db")).unwrap();
    let version: String = db
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(version, "4");
}

#[test]
fn a_log_of_format_1_is_rewritten_in_format_2_and_keeps_its_results() {
    let _lock = lock();
    let (graph, out) = fixture(1);
    let dir = tempfile::tempdir().unwrap();
    let reference = run(&Store::open(dir.path()).unwrap(), &graph, out).unwrap();
    assert_eq!(take_ran().len(), 20);
    let (records, heads) = (
        choochoo::test_util::records(dir.path()).unwrap(),
        choochoo::test_util::heads(dir.path()).unwrap(),
    );
    assert!(choochoo::test_util::rewrite_in_format_1(dir.path()).unwrap());
    assert_eq!(log_format(dir.path()), 1);
    assert_eq!(choochoo::test_util::records(dir.path()).unwrap(), records);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(log_format(dir.path()), 2, "rewritten when the store opened");
    assert_eq!(choochoo::test_util::records(dir.path()).unwrap(), records);
    assert_eq!(choochoo::test_util::heads(dir.path()).unwrap(), heads);
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(take_ran(), BTreeSet::new(), "every result stays cached");
    assert!(store.fsck(false).unwrap().is_clean());
}

/// The format number a store's record log starts with.
fn log_format(dir: &Path) -> u8 {
    let bytes = std::fs::read(dir.join("records.log")).unwrap();
    assert_eq!(&bytes[..15], b"choochoo-log\0\0\0");
    bytes[15]
}

#[test]
fn a_torn_tail_is_cut_and_only_its_station_runs_again() {
    let _lock = lock();
    let (graph, out) = fixture(1);
    let dir = tempfile::tempdir().unwrap();
    let reference = run(&Store::open(dir.path()).unwrap(), &graph, out).unwrap();
    take_ran();
    let whole = log_len(dir.path());
    // What a write cut short leaves: zeros past the end, then the last entry half written.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("records.log"))
        .unwrap();
    file.set_len(whole + 100).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.fsck(false).unwrap().is_clean());
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(take_ran(), BTreeSet::new(), "nothing was lost");
    assert_eq!(log_len(dir.path()), whole, "the zeros were cut");
    drop(store);

    file.set_len(whole - 10).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.fsck(false).unwrap().is_clean());
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(
        take_ran().len(),
        1,
        "the station of the torn entry runs again"
    );
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(take_ran(), BTreeSet::new());
}

#[test]
fn a_corrupt_entry_is_skipped_named_by_fsck_and_dropped_by_repair() {
    let _lock = lock();
    let (graph, out) = fixture(1);
    let dir = tempfile::tempdir().unwrap();
    let reference = run(&Store::open(dir.path()).unwrap(), &graph, out).unwrap();
    take_ran();
    let records = choochoo::test_util::records(dir.path()).unwrap();
    let target = &records[records.len() / 2];
    assert!(choochoo::test_util::corrupt_record(dir.path(), &target.key).unwrap());

    let store = Store::open(dir.path()).unwrap();
    let found = store.fsck(false).unwrap();
    assert_eq!(found.problems().len(), 1, "{found}");
    assert!(found.problems()[0].contains("is corrupt"), "{found}");
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(
        take_ran().len(),
        1,
        "only the corrupt record's station runs again"
    );
    let before = log_len(dir.path());
    let repaired = store.fsck(true).unwrap();
    assert!(repaired.repaired() && !repaired.is_clean(), "{repaired}");
    assert!(store.fsck(false).unwrap().is_clean());
    assert!(
        log_len(dir.path()) < before,
        "the repair rewrote the log without it"
    );
    assert_eq!(run(&store, &graph, out).unwrap(), reference);
    assert_eq!(take_ran(), BTreeSet::new());
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.fsck(false).unwrap().is_clean(), "and it stays so");
}

#[test]
fn another_open_store_sees_what_one_records_and_what_its_gc_compacts() {
    let _lock = lock();
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text");
    let store_dir = dir.path().join("store");
    let (graph, out) = growing(&text);
    let one = Store::open(&store_dir).unwrap();
    let other = Store::open(&store_dir).unwrap();
    write_settled(&text, "a");
    let first = run_growing(&one, &graph, out).0;
    write_settled(&text, "bb");
    let (reference, ran) = run_growing(&one, &graph, out);
    assert_eq!(ran, 5);
    assert_eq!(
        run_growing(&other, &graph, out),
        (reference.clone(), 0),
        "the other store read what the first appended"
    );

    let before = log_len(&store_dir);
    let gc = other
        .gc(&GcPolicy {
            keep_runs: 0,
            ..GcPolicy::default()
        })
        .unwrap();
    assert!(gc.to_string().contains("6 records and 5 blobs"), "{gc}");
    assert!(log_len(&store_dir) < before, "the log was compacted");
    assert_eq!(
        run_growing(&one, &graph, out),
        (reference, 0),
        "the first store read the new log"
    );
    assert!(one.fsck(false).unwrap().is_clean());
    write_settled(&text, "a");
    assert_eq!(
        run_growing(&one, &graph, out),
        (first, 5),
        "what gc removed is gone for both"
    );
}
