//! A station's record is committed within the batch's age limit of its end, even while
//! every other station runs long and nothing else is recorded: a kill during a long
//! station then loses nothing that had finished before it.

use crate::support::{serial, temp_store};
use choochoo::{Graph, Runner, station};
use std::time::{Duration, Instant};

#[station]
fn quick(n: &u64) -> u64 {
    n + 1
}

/// Waits (up to five seconds) until the store's record log names `quick`, and says how long
/// that took.
#[station]
fn slow(dir: &String) -> u64 {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let heads = choochoo::test_util::heads(std::path::Path::new(dir)).unwrap_or_default();
        if heads.iter().any(|head| head.node == "quick") {
            return started.elapsed().as_millis() as u64;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    u64::MAX
}

#[test]
fn a_finished_station_is_committed_while_a_long_one_runs() {
    let _serial = serial();
    let tmp = temp_store();
    let mut graph = Graph::new();
    let n = graph.input_named("n", 1u64);
    let dir = graph.input_named("dir", tmp.store.dir().display().to_string());
    let quick = graph.add_named("quick", Quick, (&n,));
    let slow = graph.add_named("slow", Slow, (&dir,));
    let run = Runner::new(&tmp.store)
        .jobs(2)
        .run_graph(&graph, slow)
        .unwrap();
    let waited = *run.output();
    assert!(
        waited < 2_000,
        "quick's record was not committed while slow ran: {waited} ms"
    );
    let _ = quick;
}
