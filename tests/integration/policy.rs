//! Attempt policies set for one run (`Runner::retries`, `backoff`, `timeout`, and the command
//! line's `--retries NAME=N`, `--backoff NAME=D`, `--timeout NAME=D`) beat the attribute,
//! and change no key.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Runner, Status, Transient, station, workflow};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails twice with a transient error, then answers. No retries of its own.
#[station]
fn flaky(service: &str) -> Result<String, Transient> {
    executed("flaky");
    match FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => Err(Transient::new(format!("{service} is not answering"))),
        _ => Ok(format!("{service} answered")),
    }
}

workflow! {
    pub fn outage(service: String) -> String {
        let answer = flaky(service);
        answer
    }
}

workflow! {
    pub fn outages(services: Vec<String>) -> Vec<String> {
        let answers = map(flaky, services);
        answers
    }
}

/// Takes `pause_ms`, unless the run tells it to stop; its own time limit is short.
#[station(timeout = "100ms")]
fn slow(ctx: &Ctx, pause_ms: &u64) -> u64 {
    executed("slow");
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(*pause_ms) && !ctx.is_stopping() {
        std::thread::sleep(Duration::from_millis(5));
    }
    *pause_ms
}

workflow! {
    pub fn waits(pause_ms: u64) -> u64 {
        let waited = slow(pause_ms);
        waited
    }
}

#[test]
fn a_retries_override_lets_a_station_that_fails_twice_succeed_on_its_third_attempt() {
    let _serial = serial();
    let tmp = temp_store();
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    let error = Runner::new(&tmp.store)
        .run(outage("db".to_owned()))
        .unwrap_err();
    assert!(error.to_string().contains("db is not answering"), "{error}");
    assert_eq!(take_executions(), counts(&[("flaky", 1)]));

    FLAKY_CALLS.store(0, Ordering::SeqCst);
    let run = Runner::new(&tmp.store)
        .retries("flaky", 2)
        .backoff("flaky", Duration::from_millis(1))
        .run(outage("db".to_owned()))
        .unwrap();
    assert_eq!(run.output(), "db answered");
    assert_eq!(take_executions(), counts(&[("flaky", 3)]));
    let entry = run.report().find("answer").next().unwrap();
    assert!(
        entry.reason().unwrap().contains("succeeded on attempt 3"),
        "{:?}",
        entry.reason()
    );
}

#[test]
fn an_override_of_a_map_reaches_its_items() {
    let _serial = serial();
    let tmp = temp_store();
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    let run = Runner::new(&tmp.store)
        .retries("answers", 2)
        .backoff("answers", Duration::from_millis(1))
        .run(outages(vec!["queue".to_owned()]))
        .unwrap();
    assert_eq!(run.output(), &["queue answered"]);
    assert_eq!(take_executions(), counts(&[("flaky", 3)]));
}

#[test]
fn an_override_changes_no_key_so_a_remembered_station_stays_cached() {
    let _serial = serial();
    let tmp = temp_store();
    FLAKY_CALLS.store(2, Ordering::SeqCst);
    Runner::new(&tmp.store)
        .run(outage("cache".to_owned()))
        .unwrap();
    Runner::new(&tmp.store).run(waits(1)).unwrap();
    assert_eq!(take_executions(), counts(&[("flaky", 1), ("slow", 1)]));

    let run = Runner::new(&tmp.store)
        .retries("answer", 5)
        .backoff("flaky", Duration::from_secs(1))
        .timeout("outage.answer", Duration::from_secs(9))
        .run(outage("cache".to_owned()))
        .unwrap();
    assert_eq!(run.report().count(Status::Cached), 1);
    let run = Runner::new(&tmp.store)
        .timeout("slow", Duration::from_secs(5))
        .run(waits(1))
        .unwrap();
    assert_eq!(run.report().count(Status::Cached), 1);
    assert_eq!(take_executions(), counts(&[]));
}

#[test]
fn a_timeout_override_fails_a_slow_station_and_another_lets_it_finish() {
    let _serial = serial();
    let tmp = temp_store();
    let started = Instant::now();
    let error = Runner::new(&tmp.store)
        .timeout("waited", Duration::from_millis(50))
        .run(waits(3_000))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(2_000),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.to_string().contains("timed out after 50ms"),
        "{error}"
    );
    let failed = error.report().unwrap().find("waited").next().unwrap();
    assert_eq!(failed.status(), Status::Failed);

    // Its own limit (100ms) fails a 300ms wait; the run's limit lets it through.
    let error = Runner::new(&tmp.store).run(waits(300)).unwrap_err();
    assert!(
        error.to_string().contains("timed out after 100ms"),
        "{error}"
    );
    let run = Runner::new(&tmp.store)
        .timeout("slow", Duration::from_secs(10))
        .run(waits(300))
        .unwrap();
    assert_eq!(*run.output(), 300);
}

#[test]
fn an_override_of_a_station_that_is_not_there_is_a_usage_error() {
    let _serial = serial();
    let tmp = temp_store();
    let error = Runner::new(&tmp.store)
        .retries("flakey", 3)
        .run(outage("db".to_owned()))
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("cannot set the retries of `flakey`: no station is named `flakey`"),
        "{message}"
    );
    assert!(error.report().is_none(), "{message}");
    assert_eq!(take_executions(), counts(&[]));
}

/// The command line of `outage`, run in this process against the store in `dir`.
fn outage_cli(dir: &std::path::Path, args: &[&str]) -> ExitCode {
    let store = dir.join(".choochoo");
    let mut argv = vec!["outage", "--store", store.to_str().unwrap(), "run"];
    argv.extend_from_slice(args);
    choochoo::cli::main_with_args(argv, || outage("api".to_owned()))
}

#[test]
fn the_command_line_sets_retries_and_backoff_for_one_run_and_refuses_a_bad_value() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    let code = outage_cli(
        dir.path(),
        &["--retries", "flaky=2", "--backoff", "flaky=1ms"],
    );
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(take_executions(), counts(&[("flaky", 3)]));

    for wrong in [
        ["--retries", "flaky"],
        ["--retries", "flaky=many"],
        ["--backoff", "flaky=1.5s"],
        ["--timeout", "=30s"],
    ] {
        assert_eq!(
            outage_cli(dir.path(), &wrong),
            ExitCode::from(2),
            "{wrong:?}"
        );
    }
    assert_eq!(
        outage_cli(dir.path(), &["--timeout", "nothing=30s"]),
        ExitCode::from(2)
    );
    assert_eq!(take_executions(), counts(&[]));
}
