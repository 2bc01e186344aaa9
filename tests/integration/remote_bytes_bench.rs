//! The warm-remote no-op figure of benches/RESULTS.md for builds without the bytes: a
//! layered graph of 10,000 file-writing stations (100 layers of 100, each reading a file of
//! the layer before) and a station counting the last layer, computed and uploaded by one
//! store, then run by empty stores through a counting proxy in front of BuildGrid, with
//! `Download::All` and `Download::Minimal`. Run it in release:
//! `cargo test --release -p tests --test integration warm_remote_bytes -- --ignored --nocapture`

use crate::buildgrid::BuildGrid;
use crate::proxy::Proxy;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Download, File, Graph, Node, Remote, Runner, Status, station};
use std::time::{Duration, Instant};

/// Bytes of each station's file.
const FILE_BYTES: usize = 1024;

#[station]
fn first(ctx: &Ctx, i: &u64) -> Result<File, std::io::Error> {
    executed("bench_layer");
    let path = ctx.output("out.bin").map_err(std::io::Error::other)?;
    std::fs::write(&path, vec![*i as u8; FILE_BYTES])?;
    Ok(File::new(path))
}

#[station]
fn next(ctx: &Ctx, before: &File, i: &u64) -> Result<File, std::io::Error> {
    executed("bench_layer");
    let mut bytes = std::fs::read(before.path())?;
    bytes[(*i as usize) % FILE_BYTES] ^= 1;
    let path = ctx.output("out.bin").map_err(std::io::Error::other)?;
    std::fs::write(&path, bytes)?;
    Ok(File::new(path))
}

#[station]
fn tally(files: &Vec<File>) -> u64 {
    files.len() as u64
}

/// 100 layers of 100 stations and the tally of the last layer.
fn layered() -> (Graph, Node<u64>) {
    let (layers, width) = (100u64, 100u64);
    let mut graph = Graph::new();
    let mut layer: Vec<Node<File>> = (0..width)
        .map(|i| {
            let i = graph.input(i);
            graph.add(First, (&i,))
        })
        .collect();
    for l in 1..layers {
        layer = layer
            .iter()
            .enumerate()
            .map(|(j, before)| {
                let i = graph.input(l * width + j as u64);
                graph.add(Next, (before, &i))
            })
            .collect();
    }
    let total = graph.add(Tally, (&layer,));
    (graph, total)
}

#[test]
#[ignore = "a benchmark: run it by name, in release"]
fn warm_remote_bytes_10k_buildgrid() {
    let Some(server) = BuildGrid::start() else {
        return;
    };
    let _serial = serial();
    let (graph, total) = layered();
    let remote = |url: &str| Remote::new(url).timeout(Duration::from_secs(60));
    let writer = temp_store();
    let started = Instant::now();
    Runner::new(&writer.store)
        .remote(remote(&server.url).write(true))
        .run_graph(&graph, total)
        .unwrap();
    let cold = started.elapsed();
    assert_eq!(take_executions(), counts(&[("bench_layer", 10_000)]));
    println!("cold run with uploads: {cold:.2?}");
    for mode in [
        Download::All,
        Download::Minimal,
        Download::All,
        Download::Minimal,
    ] {
        let proxy = Proxy::start(&server.url);
        let reader = temp_store();
        let started = Instant::now();
        let run = Runner::new(&reader.store)
            .remote(remote(&proxy.url).download(mode))
            .run_graph(&graph, total)
            .unwrap();
        let warm = started.elapsed();
        assert_eq!(*run.output(), 100);
        assert_eq!(run.report().count(Status::Cached), 10_001);
        assert_eq!(take_executions(), counts(&[]));
        let reads = proxy.take_reads().len();
        let local = Instant::now();
        Runner::new(&reader.store)
            .remote(remote(&proxy.url).download(mode))
            .run_graph(&graph, total)
            .unwrap();
        let local = local.elapsed();
        println!(
            "{mode}: warm remote, empty local store {warm:.2?}; {} bytes answered in {} \
             lookups and {reads} blob reads; local no-op afterwards {local:.2?}",
            proxy.bytes(),
            proxy.lookups()
        );
    }
}
