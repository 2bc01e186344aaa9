//! The figures of `benches/RESULTS.md` for stations on Temporal workers: graphs of trivial
//! and of one-second stations, run locally and through one and two workers on this machine
//! (`cargo test -p tests --features temporal --test temporal bench -- --ignored --nocapture`).

use crate::buildgrid::BuildGrid;
use crate::program::{PACE, SIZE};
use crate::server::TemporalServer;
use crate::workers::{Site, stop};
use std::time::Instant;

/// Stations a coordinator keeps in flight.
const JOBS: &str = "64";
/// Stations each worker runs at once (`worker --jobs`): a worker of eight cores.
const WORKER_JOBS: &str = "8";

/// Runs a graph of `2 * squares` stations of `pace` ms locally, then through `workers`
/// workers, and prints the wall times.
fn measure(server: &TemporalServer, grid: &BuildGrid, squares: u64, pace: &str, workers: usize) {
    let size = squares.to_string();
    let env = [(SIZE, size.as_str()), (PACE, pace)];
    let mut site = Site::new(&format!("bench-{squares}-{pace}-{workers}"));
    site.worker_jobs = WORKER_JOBS.to_owned();
    let started = Instant::now();
    let local = site.run_with("local", &["run", "--jobs", JOBS], &env);
    let local_time = started.elapsed();
    assert_eq!(local.code, Some(0), "{}", local.stderr);
    let children: Vec<_> = (0..workers)
        .map(|i| site.worker_with(&format!("w{i}"), server, &grid.url, &env))
        .collect();
    let mut args = site.coordinator_args(server, grid);
    args[2] = JOBS;
    let started = Instant::now();
    let run = site.run_with("coordinator", &args, &env);
    let took = started.elapsed();
    children.into_iter().for_each(stop);
    assert_eq!(run.code, Some(0), "{:?}: {}", run.code, run.stderr);
    let stations = 2 * squares;
    let overhead = took.saturating_sub(local_time).as_secs_f64() * 1000.0 / stations as f64;
    eprintln!(
        "{stations} stations of {pace} ms, {workers} worker(s): local {:.2} s, workers {:.2} s, \
         {overhead:.2} ms more per station",
        local_time.as_secs_f64(),
        took.as_secs_f64()
    );
}

#[test]
#[ignore = "the figures of benches/RESULTS.md, minutes long"]
fn figures() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    // `CHOOCHOO_TEST_TEMPORAL_BENCH=500:1000,500:0` measures only those graphs
    // (squares:pace), `5000:0:2` only that graph through two workers.
    let only = std::env::var("CHOOCHOO_TEST_TEMPORAL_BENCH").ok();
    for (squares, pace) in [(500, "0"), (5000, "0"), (500, "1000")] {
        for workers in [1, 2] {
            let graph = format!("{squares}:{pace}");
            let chosen = |one: &str| one == graph || one == format!("{graph}:{workers}");
            if only
                .as_ref()
                .is_some_and(|only| !only.split(',').any(chosen))
            {
                continue;
            }
            // A server of its own: the activities of the run before are not taken again.
            let Some(server) = TemporalServer::start() else {
                return;
            };
            measure(&server, &grid, squares, pace, workers);
        }
    }
}
