//! `cargo bench -p benches --bench scheduler`: the runner's cost per station, on width × depth
//! grids of trivial stations (each station adds its two upstream neighbours).

use choochoo::{Graph, Node, Runner, Store, station};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[station]
fn seed(x: &u64) -> u64 {
    *x
}

#[station]
fn mix(a: &u64, b: &u64) -> u64 {
    a.wrapping_mul(31).wrapping_add(*b)
}

fn grid(width: usize, depth: usize) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let inputs: Vec<Node<u64>> = (0..width as u64).map(|x| g.input(x)).collect();
    let mut layer: Vec<Node<u64>> = inputs.iter().map(|x| g.add(Seed, (x,))).collect();
    for _ in 1..depth {
        layer = (0..width)
            .map(|i| g.add(Mix, (&layer[i], &layer[(i + 1) % width])))
            .collect();
    }
    let last = layer[0];
    (g, last)
}

fn scheduler(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).expect("store");
    let mut group = c.benchmark_group("scheduler");
    group.sample_size(10);
    for (width, depth) in [(100, 10), (1_000, 10), (10, 1_000)] {
        let (graph, last) = grid(width, depth);
        group.throughput(Throughput::Elements((width * depth) as u64));
        for jobs in [1, 2] {
            let runner = Runner::new(&store).jobs(jobs);
            group.bench_with_input(
                BenchmarkId::new(format!("{width}x{depth}"), jobs),
                &jobs,
                |b, _| b.iter(|| runner.run_graph(&graph, last).expect("run")),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
