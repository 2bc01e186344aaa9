//! Processes killed mid-run (SIGKILL): a worker's stations go to the other worker, a
//! coordinator started again finds what finished cached and awaits what was in flight; and
//! two coordinators at once run each station once.

use crate::buildgrid::BuildGrid;
use crate::program::{self, PACE};
use crate::server::TemporalServer;
use crate::workers::{Site, output_of, stop};

/// Each station takes this long on the workers, so a kill lands mid-run.
const SLOW: &str = "150";

/// Every line the stations appended, sorted.
fn all_lines(site: &Site) -> Vec<String> {
    let mut all: Vec<String> = site.executions().into_values().flatten().collect();
    all.sort();
    all
}

fn reference() -> String {
    let local = Site::new("local").run("local", &["run"]);
    assert_eq!(local.code, Some(0), "{local:?}");
    output_of(&local).to_owned()
}

#[test]
fn a_killed_workers_stations_are_run_by_the_other_and_recorded_once() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let expected = reference();
    let site = Site::new("worker-killed");
    let mut doomed = site.worker_with("doomed", &server, &grid.url, &[(PACE, SLOW)]);
    let survivor = site.worker_with("survivor", &server, &grid.url, &[(PACE, SLOW)]);
    let coordinator = site.start("coordinator", &site.coordinator_args(&server, &grid));
    site.wait_executions(Some(doomed.id()), 5);
    doomed.kill().unwrap();
    let _ = doomed.wait();
    let run = site.finish("coordinator", coordinator);
    stop(survivor);
    assert_eq!(
        run.code,
        Some(0),
        "{}\n{}",
        run.stderr,
        site.worker_log("survivor")
    );
    assert_eq!(output_of(&run), expected);
    assert!(
        run.stdout.contains("200 ran"),
        "each station ran once: {}",
        run.stdout
    );
    let mut once = all_lines(&site);
    once.dedup();
    assert_eq!(once, program::every_execution(), "every station executed");

    let again = site.run("coordinator", &site.coordinator_args(&server, &grid));
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(
        again.stdout.contains("200 cached"),
        "recorded once: {}",
        again.stdout
    );
}

#[test]
fn a_coordinator_started_again_awaits_the_stations_in_flight() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let expected = reference();
    let site = Site::new("coordinator-killed");
    let workers = [
        site.worker_with("w1", &server, &grid.url, &[(PACE, SLOW)]),
        site.worker_with("w2", &server, &grid.url, &[(PACE, SLOW)]),
    ];
    let mut first = site.start("coordinator", &site.coordinator_args(&server, &grid));
    site.wait_executions(None, 40);
    first.kill().unwrap();
    let _ = first.wait();
    let run = site.run("coordinator", &site.coordinator_args(&server, &grid));
    workers.into_iter().for_each(stop);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(output_of(&run), expected);
    assert!(
        run.stdout.contains("cached"),
        "what finished is cached: {}",
        run.stdout
    );
    assert_eq!(
        all_lines(&site),
        program::every_execution(),
        "no station executed twice"
    );
}

#[test]
fn two_coordinators_at_once_run_each_station_once() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let expected = reference();
    let site = Site::new("two-coordinators");
    let workers = [
        site.worker_with("w1", &server, &grid.url, &[(PACE, "20")]),
        site.worker_with("w2", &server, &grid.url, &[(PACE, "20")]),
    ];
    let args = site.coordinator_args(&server, &grid);
    let (one, two) = (site.start("one", &args), site.start("two", &args));
    let (one, two) = (site.finish("one", one), site.finish("two", two));
    workers.into_iter().for_each(stop);
    for run in [&one, &two] {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(output_of(run), expected);
    }
    assert_eq!(
        all_lines(&site),
        program::every_execution(),
        "each station executed once"
    );
}
