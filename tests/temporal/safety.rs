//! What a worker refuses or fails, and how the coordinator says so: a worker of another
//! build refuses the station whose code changed, a worker that cannot reach the remote
//! cache fails the station with a clear error, and a station failing on a worker is one
//! defect, on that worker.

use crate::buildgrid::BuildGrid;
use crate::program::{BUILD, FAIL};
use crate::server::TemporalServer;
use crate::workers::{Site, stop};

#[test]
fn a_worker_of_another_build_refuses_the_station_whose_code_changed() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let site = Site::new("another-build");
    let worker = site.worker_with("old", &server, &grid.url, &[(BUILD, "changed")]);
    let run = site.run("coordinator", &site.coordinator_args(&server, &grid));
    stop(worker);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("this worker's build of station `total` differs from the coordinator's"),
        "{}",
        run.stderr
    );
    let lines: Vec<String> = site.executions().into_values().flatten().collect();
    assert_eq!(lines.len(), 199, "every other station ran: {lines:?}");
    assert!(
        !lines.iter().any(|line| line.contains("total")),
        "the changed station ran: {lines:?}"
    );
}

#[test]
fn a_worker_that_cannot_reach_the_remote_cache_fails_the_station_clearly() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let site = Site::new("no-cache");
    let nowhere = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("grpc://{}", listener.local_addr().unwrap())
    };
    let worker = site.worker_with("cut-off", &server, &nowhere, &[]);
    let run = site.run("coordinator", &site.coordinator_args(&server, &grid));
    stop(worker);
    assert_eq!(run.code, Some(1), "{run:?}");
    let expected = format!("cannot be had: the remote cache {nowhere} cannot be used");
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(
        site.executions().is_empty(),
        "a station ran without its inputs"
    );
}

#[test]
fn a_station_failing_on_a_worker_is_a_defect_on_that_worker() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let site = Site::new("failing");
    let worker = site.worker_with("failing-worker", &server, &grid.url, &[(FAIL, "7")]);
    let run = site.run("coordinator", &site.coordinator_args(&server, &grid));
    stop(worker);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("square 7 fails here"), "{}", run.stderr);
    let defect = site.run("coordinator", &["defects", "show", "1"]);
    assert_eq!(defect.code, Some(0), "{defect:?}");
    assert!(
        defect.stdout.contains("failing-worker"),
        "the defect names the worker: {}",
        defect.stdout
    );
    let squares7 = site
        .executions()
        .into_values()
        .flatten()
        .filter(|l| l == "square 7")
        .count();
    assert_eq!(squares7, 0, "the failing square ran to its end");
    assert_eq!(
        crate::retries::count(&site, "attempt square 7"),
        1,
        "a failure that is not transient is tried once, whatever the station's retries"
    );
}
