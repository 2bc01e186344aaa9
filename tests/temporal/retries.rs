//! A station's attempt policy on workers: a transient failure is tried again by Temporal
//! under the station's retries, on whichever worker, until it succeeds; a forced station
//! runs again rather than taking the activity that made its result.

use crate::buildgrid::BuildGrid;
use crate::program::FLAKY;
use crate::server::TemporalServer;
use crate::workers::{Site, stop};

/// How many times the processes of `site` noted `line`.
pub fn count(site: &Site, line: &str) -> usize {
    let lines = site.executions().into_values().flatten();
    lines.filter(|l| l == line).count()
}

#[test]
fn a_transient_failure_on_a_worker_is_tried_again_until_it_succeeds() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let site = Site::new("flaky");
    let workers = [
        site.worker_with("w1", &server, &grid.url, &[(FLAKY, "3")]),
        site.worker_with("w2", &server, &grid.url, &[(FLAKY, "3")]),
    ];
    let run = site.run("coordinator", &site.coordinator_args(&server, &grid));
    let trace = site.run("coordinator", &["trace"]);
    workers.into_iter().for_each(stop);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("200 ran"), "{}", run.stdout);
    assert_eq!(
        count(&site, "attempt square 3"),
        3,
        "two transient failures, then the attempt that succeeded"
    );
    assert_eq!(count(&site, "square 3"), 1, "it succeeded once");
    assert!(
        trace.stdout.contains("(succeeded on attempt 3)"),
        "the reason says which attempt succeeded: {}",
        trace.stdout
    );
}
