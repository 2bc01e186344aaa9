//! `cargo bench -p benches --bench workflow`: `workflow!` against the same graph written as
//! hand-written builder calls, to show that the macro adds no cost at run time.
//!
//! The graph has five stations (a diamond with a literal constant input). Both sides are
//! measured twice:
//! - `build`: building the graph only. The builder side calls its function; the macro side
//!   calls the generated function and builds its workflow into an empty [`Graph`] (what
//!   `Runner::run` does first).
//! - `cached_run`: `Runner::run` of the workflow against a store that already holds every
//!   record, i.e. build + a run where all five stations are cached. The builder side hands
//!   `Runner::run` a `(Graph, Node)` pair, which is itself a workflow.

use choochoo::{Graph, Node, Runner, Status, Store, Workflow, station, workflow};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[station]
fn words(text: &String) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[station]
fn count(words: &Vec<String>) -> usize {
    words.len()
}

#[station]
fn longest(words: &Vec<String>) -> usize {
    words.iter().map(String::len).max().unwrap_or(0)
}

#[station]
fn scale(n: &usize, factor: &usize) -> usize {
    n * factor
}

#[station]
fn summary(scaled: &usize, longest: &usize) -> String {
    format!("{scaled} / {longest}")
}

workflow! {
    fn stats(text: String) -> String {
        let w = words(text);
        let n = count(w);
        let l = longest(w);
        let s = scale(n, 10);
        summary(s, l)
    }
}

/// The same graph, written with the builder API.
fn stats_by_hand(text: String) -> (Graph, Node<String>) {
    let mut g = Graph::new();
    let text = g.input(text);
    let w = g.add(Words, (&text,));
    let n = g.add(Count, (&w,));
    let l = g.add(Longest, (&w,));
    let ten = g.input(10_usize);
    let s = g.add(Scale, (&n, &ten));
    let out = g.add(Summary, (&s, &l));
    (g, out)
}

fn workflow_vs_builder(c: &mut Criterion) {
    let text = "fail fix run again ".repeat(16);
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).expect("store");
    let runner = Runner::new(&store).jobs(2);
    for _ in 0..2 {
        let by_macro = runner.run(stats(text.clone())).expect("macro run");
        let by_hand = runner
            .run(stats_by_hand(text.clone()))
            .expect("builder run");
        assert_eq!(by_macro.output(), by_hand.output());
    }
    let cached = runner.run(stats(text.clone())).expect("macro run");
    assert_eq!(cached.report().count(Status::Cached), 5);
    let cached = runner
        .run(stats_by_hand(text.clone()))
        .expect("builder run");
    assert_eq!(cached.report().count(Status::Cached), 5);

    let mut group = c.benchmark_group("workflow");
    group.bench_function(BenchmarkId::new("build", "workflow_macro"), |b| {
        b.iter(|| {
            let mut graph = Graph::new();
            let outputs = stats(black_box(&text).clone()).build(&mut graph);
            (graph, outputs.is_ok())
        })
    });
    group.bench_function(BenchmarkId::new("build", "builder"), |b| {
        b.iter(|| stats_by_hand(black_box(&text).clone()))
    });
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("cached_run", "workflow_macro"), |b| {
        b.iter(|| runner.run(stats(text.clone())).expect("run"))
    });
    group.bench_function(BenchmarkId::new("cached_run", "builder"), |b| {
        b.iter(|| runner.run(stats_by_hand(text.clone())).expect("run"))
    });
    group.finish();
}

criterion_group!(benches, workflow_vs_builder);
criterion_main!(benches);
