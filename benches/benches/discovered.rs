//! `cargo bench -p benches --bench discovered`: what discovered inputs cost a no-op run.
//! 1,000 stations (or 1,000 map items) each read ten files (two of their own, eight of a
//! pool of 100); the cached run is timed:
//!
//! - `plain/stations`: the stations read their files with `std::fs::read`, so they have
//!   no discovered inputs (the baseline: a lookup per station);
//! - `read/stations`: they read them with `ctx.read`, so each record carries ten
//!   discovered inputs, checked through the stat cache;
//! - `read/items`: the same as map items: the map's record carries its items' inputs.
//!
//! Criterion's throughput is stations (or items) per second.

use choochoo::{Ctx, Graph, Node, Runner, Status, Store, station};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::path::{Path, PathBuf};

const N: u64 = 1_000;

fn inputs(item: u64) -> impl Iterator<Item = String> {
    let own = (0..2).map(move |k| format!("own-{item}-{k}"));
    own.chain((0..8).map(move |k| format!("pool-{}", (item * 7 + k * 13) % 100)))
}

#[station]
fn read_plain(item: &u64, dir: &PathBuf) -> Result<u64, std::io::Error> {
    let mut total = 0;
    for name in inputs(*item) {
        total += std::fs::read(dir.join(name))?.len() as u64;
    }
    Ok(total)
}

#[station]
fn read_through_ctx(ctx: &Ctx, item: &u64, dir: &PathBuf) -> Result<u64, std::io::Error> {
    let mut total = 0;
    for name in inputs(*item) {
        total += ctx.read(dir.join(name))?.len() as u64;
    }
    Ok(total)
}

#[station]
fn sum(parts: &Vec<u64>) -> u64 {
    parts.iter().sum()
}

/// The files: two per item, and the pool.
fn files(dir: &Path) {
    for item in 0..N {
        for k in 0..2 {
            std::fs::write(dir.join(format!("own-{item}-{k}")), format!("{item}.{k}")).unwrap();
        }
    }
    for k in 0..100 {
        std::fs::write(dir.join(format!("pool-{k}")), format!("pool {k}")).unwrap();
    }
    // Older than the stat cache's racy window, so the first run's hashes are trusted.
    std::thread::sleep(std::time::Duration::from_millis(50));
}

/// `N` stations of `S` reading from `dir`, and their sum.
fn stations<S>(station: fn() -> S, dir: &Path) -> (Graph, Node<u64>)
where
    S: choochoo::Station<Input = (u64, PathBuf), Output = u64>,
{
    let mut g = Graph::new();
    let dir = g.input(dir.to_path_buf());
    let parts: Vec<Node<u64>> = (0..N)
        .map(|item| {
            let item = g.input(item);
            g.add(station(), (&item, &dir))
        })
        .collect();
    let total = g.add(Sum, (&parts,));
    (g, total)
}

/// `N` map items reading from `dir`, and their sum.
fn items(dir: &Path) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let dir = g.input(dir.to_path_buf());
    let list = g.input((0..N).collect::<Vec<u64>>());
    let parts = g.map(ReadThroughCtx, &list, (&dir,));
    let total = g.add(Sum, (&parts,));
    (g, total)
}

fn discovered(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    files(&dir);
    let store = Store::open(tmp.path().join(".choochoo")).unwrap();
    let runner = Runner::new(&store).jobs(2);
    let mut group = c.benchmark_group("discovered");
    group.sample_size(20);
    group.throughput(Throughput::Elements(N));
    let graphs = [
        ("plain", "stations", stations(|| ReadPlain, &dir)),
        ("read", "stations", stations(|| ReadThroughCtx, &dir)),
        ("read", "items", items(&dir)),
    ];
    for (how, what, (graph, total)) in &graphs {
        runner.run_graph(graph, *total).unwrap();
        let hashed = choochoo::test_util::files_hashed(&store);
        let cached = runner.run_graph(graph, *total).unwrap();
        assert_eq!(cached.report().count(Status::Ran), 0);
        assert_eq!(
            choochoo::test_util::files_hashed(&store),
            hashed,
            "{how}/{what}"
        );
        group.bench_function(BenchmarkId::new(*how, *what), |b| {
            b.iter(|| runner.run_graph(graph, *total).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, discovered);
criterion_main!(benches);
