//! The defect ledger as a run fills it: every failed attempt is an observation, grouped by
//! signature into defects; the end-of-run summary says what is known about each failure.

use crate::support::temp_store;
use choochoo::{Ctx, NoteKind, Runner, station, workflow};
use std::sync::atomic::{AtomicU64, Ordering};

static DISK: AtomicU64 = AtomicU64::new(0);

/// Fails like a full disk, with a different (volatile) number each time.
#[station]
fn write_cache(ctx: &Ctx, x: &u64) -> Result<u64, std::io::Error> {
    tracing::info!(bytes = x, "opening the cache");
    ctx.log(format!("writing {x} bytes to /var/cache/app-{x}"));
    let attempt = DISK.fetch_add(1, Ordering::SeqCst);
    Err(std::io::Error::other(format!(
        "No space left on device (os error 28) after {attempt} bytes"
    )))
}

#[station]
fn serve(x: &u64) -> u64 {
    *x
}

#[station]
fn refuse(x: &u64) -> Result<u64, String> {
    Err(format!("connection refused: 127.0.0.1:{}", 5000 + x))
}

workflow! {
    pub fn cache_then_serve(x: u64) -> u64 {
        let cached = write_cache(x);
        let a = serve(cached);
        serve(a)
    }
}

workflow! {
    pub fn connect(x: u64) -> u64 {
        refuse(x)
    }
}

#[test]
fn failures_of_one_kind_group_into_one_defect_across_instances() {
    let tmp = temp_store();
    for round in 0..10u64 {
        let instance = if round % 2 == 0 {
            "replica-1"
        } else {
            "replica-2"
        };
        let error = Runner::new(&tmp.store)
            .instance(instance)
            .run(cache_then_serve(round))
            .unwrap_err();
        assert!(error.is_station_failure());
    }
    let defects = tmp.store.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:#?}");
    let defect = &defects[0];
    assert_eq!(defect.count(), 10);
    assert_eq!(defect.instances(), ["replica-1", "replica-2"]);
    assert_eq!(
        defect.blocked(),
        20,
        "each failure blocked the two stations after it"
    );
    assert!(defect.first_seen() <= defect.last_seen());
    assert!(defect.mean_interval().is_some());

    let observations = tmp.store.observations(defect.id()).unwrap();
    assert_eq!(observations.len(), 10);
    let last = &observations[9];
    assert!(
        last.title().starts_with(
            "Handle: \"No space left on device (os error 28) after 9 bytes\" on \"replica-2\""
        ),
        "{}",
        last.title()
    );
    assert_eq!(last.node(), "cache_then_serve.cached");
    // Both what it logged through `tracing` and through `Ctx::log`.
    assert_eq!(
        last.log_tail(),
        [
            "INFO opening the cache bytes=9",
            "writing 9 bytes to /var/cache/app-9"
        ]
    );
    assert_eq!(last.input_values(), [("x".to_owned(), "9".to_owned())]);
    assert_eq!(last.blocked(), 2);

    Runner::new(&tmp.store).run(connect(1)).unwrap_err();
    assert_eq!(
        tmp.store.defects().unwrap().len(),
        2,
        "a different error is a second defect"
    );
}

#[test]
fn a_failure_after_a_fix_is_a_regression_and_the_summary_says_so() {
    let tmp = temp_store();
    let first = Runner::new(&tmp.store).run(connect(1)).unwrap_err();
    let entry = &first.report().unwrap().entries()[0];
    let defect = entry.defect().expect("the failure is filed under a defect");
    assert_eq!(defect.count(), 1);
    assert!(
        first
            .report()
            .unwrap()
            .to_string()
            .contains("new defect, first seen now")
    );

    tmp.store
        .add_note(
            defect.id(),
            NoteKind::Remedy,
            "start the database on port 5001",
        )
        .unwrap();
    tmp.store.mark_fixed(defect.id()).unwrap();
    let again = Runner::new(&tmp.store).run(connect(1)).unwrap_err();
    let summary = again.report().unwrap().to_string();
    assert!(
        summary.contains("known defect, seen 2 times; it came back after being marked fixed"),
        "{summary}"
    );
    assert!(
        summary.contains("How to identify / remedy: start the database on port 5001"),
        "{summary}"
    );
    assert!(tmp.store.defect(defect.id()).unwrap().unwrap().regressed());
}

/// Entry point of the child process below; does nothing in a normal test run.
#[test]
fn child_fails_then_waits_to_be_killed() {
    let Some(store) = std::env::var_os("CHOOCHOO_TEST_KILL_STORE") else {
        return;
    };
    let store = choochoo::Store::open(store).unwrap();
    let _ = Runner::new(&store).jobs(2).run(fail_and_hang(1));
    unreachable!("the parent kills this process before the run ends");
}

#[station]
fn fail_now(x: &u64) -> Result<u64, String> {
    Err(format!("cannot reach replica {x}"))
}

/// Once the run is stopping (after `fail_now`'s failure has been recorded), says so and
/// hangs until the parent kills the process.
#[station]
fn hang(ctx: &Ctx, x: &u64) -> u64 {
    while !ctx.is_stopping() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    println!("\nSTOPPING");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let _ = x;
    }
}

workflow! {
    pub fn fail_and_hang(x: u64) -> u64 {
        let failed = fail_now(x);
        hang(x)
    }
}

#[test]
fn an_observation_survives_a_kill_right_after_the_failure() {
    use std::io::BufRead;
    let tmp = temp_store();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "defects::child_fails_then_waits_to_be_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CHOOCHOO_TEST_KILL_STORE", tmp.store.dir())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let marker = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("STOPPING"));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(marker, "the child never reached the marker");
    let store = choochoo::Store::open(tmp.store.dir()).unwrap();
    let defects = store.defects().unwrap();
    assert_eq!(defects.len(), 1);
    let observations = store.observations(defects[0].id()).unwrap();
    assert_eq!(observations[0].message(), "cannot reach replica 1");
    assert_eq!(observations[0].node(), "fail_and_hang.failed");
}
