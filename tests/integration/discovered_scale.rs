//! Discovered inputs at scale: a no-op run over a thousand map items, or a thousand
//! stations, with ten discovered inputs each checks them through the stat cache and reads
//! no file again.

use crate::discovered::write_settled;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Graph, Node, Runner, Store, station, workflow};
use std::path::Path;
use std::time::{Duration, Instant};

/// Reads ten files: two of its own and eight of a shared pool.
#[station]
fn read_ten(ctx: &Ctx, item: &u64, dir: &String) -> Result<u64, std::io::Error> {
    executed("read_ten");
    let mut total = 0;
    for name in ten_inputs(*item) {
        total += ctx.read(Path::new(dir).join(name))?.len() as u64;
    }
    Ok(total)
}

fn ten_inputs(item: u64) -> Vec<String> {
    let own = (0..2).map(|k| format!("own-{item}-{k}"));
    let pool = (0..8).map(|k| format!("pool-{}", (item * 7 + k * 13) % 100));
    own.chain(pool).collect()
}

#[station]
fn sum(parts: &Vec<u64>) -> u64 {
    executed("sum");
    parts.iter().sum()
}

workflow! {
    fn read_many(items: Vec<u64>, dir: String) -> u64 {
        let parts = map(read_ten, items, dir);
        sum(parts)
    }
}

/// 1,000 items (or stations) whose inputs are 10 discovered files each.
fn inputs_of_a_thousand(dir: &Path) {
    for item in 0..1000 {
        for k in 0..2 {
            std::fs::write(dir.join(format!("own-{item}-{k}")), format!("{item}.{k}")).unwrap();
        }
    }
    for k in 0..100 {
        std::fs::write(dir.join(format!("pool-{k}")), format!("pool {k}")).unwrap();
    }
    std::thread::sleep(Duration::from_millis(30));
}

/// A no-op run after a full one, timed, with the files it re-hashed.
fn no_op(store: &Store, run: impl Fn() -> u64) -> (Duration, u64) {
    let hashed = choochoo::test_util::files_hashed(store);
    let started = Instant::now();
    run();
    let took = started.elapsed();
    (took, choochoo::test_util::files_hashed(store) - hashed)
}

#[test]
fn a_no_op_over_a_thousand_map_items_with_ten_discovered_inputs_rehashes_nothing() {
    let _serial = serial();
    let tmp = temp_store();
    let dir = tmp.dir.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    inputs_of_a_thousand(&dir);
    let runner = Runner::new(&tmp.store).jobs(2);
    let items: Vec<u64> = (0..1000).collect();
    let run = || {
        runner
            .run(read_many(items.clone(), dir.display().to_string()))
            .unwrap()
            .into_output()
    };
    let total = run();
    assert_eq!(take_executions(), counts(&[("read_ten", 1000), ("sum", 1)]));
    let (took, hashed) = no_op(&tmp.store, run);
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(hashed, 0, "a no-op re-hashed {hashed} files");
    println!("no-op over 1,000 map items × 10 discovered inputs: {took:?}, {hashed} files hashed");

    write_settled(&dir.join("pool-42"), "a longer text");
    assert_ne!(run(), total);
    let readers = (0..1000)
        .filter(|&item| ten_inputs(item).contains(&"pool-42".to_owned()))
        .count();
    assert_eq!(
        take_executions(),
        counts(&[("read_ten", readers), ("sum", 1)]),
        "exactly the items that read it"
    );
}

#[test]
fn a_no_op_over_a_thousand_stations_with_ten_discovered_inputs_rehashes_nothing() {
    let _serial = serial();
    let tmp = temp_store();
    let dir = tmp.dir.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    inputs_of_a_thousand(&dir);
    let mut graph = Graph::new();
    let shared = graph.input(dir.display().to_string());
    let parts: Vec<Node<u64>> = (0..1000)
        .map(|item| {
            let item = graph.input(item);
            graph.add(ReadTen, (&item, &shared))
        })
        .collect();
    let total = graph.add(Sum, (&parts,));
    let runner = Runner::new(&tmp.store).jobs(2);
    let run = || runner.run_graph(&graph, total).unwrap().into_output();
    run();
    assert_eq!(take_executions(), counts(&[("read_ten", 1000), ("sum", 1)]));
    let (took, hashed) = no_op(&tmp.store, run);
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(hashed, 0, "a no-op re-hashed {hashed} files");
    println!("no-op over 1,000 stations × 10 discovered inputs: {took:?}, {hashed} files hashed");
}
