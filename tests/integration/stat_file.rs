//! The stat cache's file, `stats.log`: a store opened again reads it and re-hashes nothing;
//! a damaged one costs hashing, never a result; a store of an earlier version, whose cache
//! was its `stats` table, starts the file from it; the outputs a run hashed as soon as they
//! were written are read once more at its end, so the no-op after it reads nothing.

use crate::support::{executed, serial, take_executions};
use choochoo::{File, Graph, Node, Runner, Store, station};
use std::path::Path;

#[station]
fn size_of(file: &File) -> std::io::Result<u64> {
    executed("size_of");
    Ok(std::fs::metadata(file.path())?.len())
}

#[station]
fn total(sizes: &Vec<u64>) -> u64 {
    sizes.iter().sum()
}

/// Twenty files and a station per file.
fn twenty(dir: &Path) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let sizes: Vec<Node<u64>> = (0..20u64)
        .map(|n| {
            let path = dir.join(format!("in-{n}.txt"));
            std::fs::write(&path, "x".repeat(n as usize + 1)).unwrap();
            let file = g.input(File::new(path));
            g.add(SizeOf, (&file,))
        })
        .collect();
    let out = g.add(Total, (&sizes,));
    std::thread::sleep(std::time::Duration::from_millis(30));
    (g, out)
}

/// Runs the graph on a store opened anew: its total, how many `size_of` ran and how many
/// files the run hashed.
fn run_fresh(store_dir: &Path, graph: &Graph, out: Node<u64>) -> (u64, usize, u64) {
    let store = Store::open(store_dir).unwrap();
    let total = Runner::new(&store)
        .jobs(2)
        .run_graph(graph, out)
        .unwrap()
        .into_output();
    let ran = take_executions().get("size_of").copied().unwrap_or(0);
    (total, ran, choochoo::test_util::files_hashed(&store))
}

const TOTAL: u64 = 210;

#[test]
fn a_store_opened_again_reads_its_stat_cache_back_and_rehashes_nothing() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join(".choochoo");
    let (graph, out) = twenty(tmp.path());
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 20, 20));
    assert!(store_dir.join("stats.log").exists());
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 0, 0));
}

#[test]
fn a_damaged_stat_file_costs_hashing_and_never_a_result() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join(".choochoo");
    let (graph, out) = twenty(tmp.path());
    run_fresh(&store_dir, &graph, out);
    let path = store_dir.join("stats.log");
    let mut bytes = std::fs::read(&path).unwrap();
    for at in (40..bytes.len()).step_by(97) {
        bytes[at] ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let (total, ran, hashed) = run_fresh(&store_dir, &graph, out);
    assert_eq!((total, ran), (TOTAL, 0), "the results stand");
    assert!(
        hashed > 0 && hashed <= 20,
        "the damaged entries are hashed again: {hashed}"
    );
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 0, 0));

    std::fs::write(&path, b"garbage, not a stat file").unwrap();
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 0, 20));
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 0, 0));
}

#[test]
fn a_stat_cache_of_an_earlier_version_starts_the_file_and_is_kept() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join(".choochoo");
    let (graph, out) = twenty(tmp.path());
    run_fresh(&store_dir, &graph, out);
    assert_eq!(choochoo::test_util::stats_to_table(&store_dir).unwrap(), 20);
    assert!(!store_dir.join("stats.log").exists());
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 0, 0));
    assert!(
        store_dir.join("stats.log").exists(),
        "started from the table"
    );
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 0, 0));
}

/// Writes ten files into its directory and returns them: hashed at once by the run, so
/// their entries are racy.
#[station]
fn write_ten(ctx: &choochoo::Ctx) -> Result<Vec<File>, Box<dyn std::error::Error + Send + Sync>> {
    executed("write_ten");
    (0..10)
        .map(|n| {
            let path = ctx.output(format!("out-{n}.txt"))?;
            std::fs::write(&path, format!("output {n}"))?;
            Ok(File::new(path))
        })
        .collect()
}

/// Counts its files' bytes, slowly: the run ends well over a tick after they were written.
#[station]
fn count_slowly(files: &Vec<File>) -> std::io::Result<u64> {
    executed("count_slowly");
    std::thread::sleep(std::time::Duration::from_millis(60));
    files
        .iter()
        .map(|file| Ok(std::fs::metadata(file.path())?.len()))
        .sum()
}

#[test]
fn outputs_hashed_as_they_were_written_are_settled_so_the_no_op_reads_nothing() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join(".choochoo");
    let mut g = Graph::new();
    let files = g.add(WriteTen, ());
    let out = g.add(CountSlowly, (&files,));
    let run = |store: &Store| {
        let total = Runner::new(store)
            .jobs(2)
            .run_graph(&g, out)
            .unwrap()
            .into_output();
        let ran = take_executions().values().sum::<usize>();
        (total, ran, choochoo::test_util::files_hashed(store))
    };
    let store = Store::open(&store_dir).unwrap();
    // Each output hashed when it was made, and once more at the run's end.
    assert_eq!(run(&store), (80, 2, 20));
    drop(store);
    let store = Store::open(&store_dir).unwrap();
    assert_eq!(run(&store), (80, 0, 0), "the no-op reads no file");
}

#[test]
fn a_file_changed_after_the_store_opened_and_before_its_run_is_hashed_again() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join(".choochoo");
    let (graph, out) = twenty(tmp.path());
    assert_eq!(run_fresh(&store_dir, &graph, out), (TOTAL, 20, 20));
    // The store reads its stat cache as it opens; the file changes after that.
    let store = Store::open(&store_dir).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    std::fs::write(tmp.path().join("in-0.txt"), "longer").unwrap();
    let total = Runner::new(&store)
        .run_graph(&graph, out)
        .unwrap()
        .into_output();
    assert_eq!(total, TOTAL + 5);
    assert_eq!(take_executions().get("size_of").copied(), Some(1));
    assert_eq!(choochoo::test_util::files_hashed(&store), 1);
}
