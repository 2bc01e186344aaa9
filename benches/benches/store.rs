//! `cargo bench -p benches --bench store`: the memo store's cost per station, on a graph of
//! N independent trivial stations (each adds one to its own constant input; 2N nodes).
//!
//! - `lookup/N`: a cached run, i.e. the second and later runs of the same graph against the
//!   same store. Every station is looked up and found; nothing runs. (From 2,000 nodes on, a
//!   run reads its profile's records in one query, so both sizes here take that path.)
//! - `commit/N`: a clean run of the graph in a fresh store (created untimed before each
//!   iteration): every station misses, runs its trivial body and has its record committed.
//!
//! Criterion's throughput (elements/s) is stations per second; time / N is the per-station
//! cost.

use choochoo::{Graph, Node, Runner, Status, Store, station};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tempfile::TempDir;

#[station]
fn bump(x: &u64) -> u64 {
    x.wrapping_add(1)
}

/// `n` independent stations, one constant input each; the output is the last station.
fn layer(n: usize) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let mut last = None;
    for x in 0..n as u64 {
        let input = g.input(x);
        last = Some(g.add(Bump, (&input,)));
    }
    (g, last.expect("at least one station"))
}

fn fresh_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).expect("store");
    (dir, store)
}

fn store(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    for n in [1_000, 10_000] {
        let (graph, last) = layer(n);
        group.throughput(Throughput::Elements(n as u64));

        let (_dir, store) = fresh_store();
        let runner = Runner::new(&store).jobs(2);
        let first = runner.run_graph(&graph, last).expect("first run");
        assert_eq!(first.report().count(Status::Ran), n);
        let second = runner.run_graph(&graph, last).expect("second run");
        assert_eq!(second.report().count(Status::Cached), n);
        group.bench_function(BenchmarkId::new("lookup", n), |b| {
            b.iter(|| runner.run_graph(&graph, last).expect("cached run"))
        });

        group.bench_function(BenchmarkId::new("commit", n), |b| {
            b.iter_batched_ref(
                fresh_store,
                |(_, store)| {
                    let run = Runner::new(store)
                        .jobs(2)
                        .run_graph(&graph, last)
                        .expect("clean run");
                    debug_assert_eq!(run.report().count(Status::Ran), n);
                    run
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
