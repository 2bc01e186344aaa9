//! `cargo bench -p benches --bench scheduler`: the runner's cost per station, on width × depth
//! grids of trivial stations (each station adds its two upstream neighbours).

use benches::grid::grid;
use choochoo::{Runner, Store};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

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
