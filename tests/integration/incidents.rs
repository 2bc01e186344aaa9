//! One story per incident: a station's retries in a run are one observation (recovered when
//! a retry succeeds), an outage failing several stations (or the items of a map) in a run is
//! one event of one defect, its pace is counted over runs, a good run makes it quiet, and its
//! impact is what the run's own report says.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{DefectStatus, Observation, Report, Runner, Status, Transient, station, workflow};
use std::fmt;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static STARTING: AtomicU32 = AtomicU32::new(0);

/// Fails while the database is still starting (`STARTING` more attempts), then succeeds.
#[station(retries = 3, backoff = "1ms")]
fn create_role(name: &str) -> Result<String, Transient> {
    executed("create_role");
    if STARTING.load(Ordering::SeqCst) > 0 {
        STARTING.fetch_sub(1, Ordering::SeqCst);
        return Err(Transient::new(format!(
            "create role {name}: the database system is starting up"
        )));
    }
    Ok(format!("role {name}"))
}

workflow! {
    pub fn provision(name: String) -> String {
        create_role(name)
    }
}

#[test]
fn a_station_that_recovers_on_its_third_attempt_is_one_observation_marked_recovered() {
    let _serial = serial();
    let tmp = temp_store();
    STARTING.store(2, Ordering::SeqCst);
    let run = Runner::new(&tmp.store)
        .run(provision("shop".to_owned()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[("create_role", 3)]));
    assert_eq!(
        run.report().entries()[0].reason(),
        Some("no record (succeeded on attempt 3)")
    );

    let defects = tmp.store.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:#?}");
    let defect = &defects[0];
    assert_eq!((defect.count(), defect.runs_seen()), (1, 1));
    assert_eq!(defect.recovered(), 1);
    assert_eq!(defect.blocked(), 0, "it recovered: nothing was blocked");
    let observations = tmp.store.observations(defect.id()).unwrap();
    let [observation] = &observations[..] else {
        panic!("one observation, not {observations:#?}");
    };
    assert_eq!(observation.attempts(), 3);
    assert!(observation.recovered());
    let failed: Vec<u32> = observation
        .failed_attempts()
        .iter()
        .map(|a| a.attempt())
        .collect();
    assert_eq!(failed, [1, 2]);
    assert_eq!(
        defect.time_lost(),
        observation
            .failed_attempts()
            .iter()
            .map(|a| a.duration())
            .sum::<Duration>(),
        "a recovery costs its failed attempts"
    );
    assert_eq!(defect.mean_interval(), None, "two retries are no pace");
}

/// A step of a station that failed, and the error underneath: a chain of two.
#[derive(Debug)]
struct Step {
    what: String,
    source: std::io::Error,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Step {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Connects to the database at `port`, or fails with `what` around the refused connection.
fn connect(port: u16, what: String) -> Result<(), Step> {
    TcpStream::connect(("127.0.0.1", port))
        .map(drop)
        .map_err(|source| Step { what, source })
}

#[station]
fn role(port: &u16) -> Result<String, Step> {
    executed("role");
    connect(*port, "create role shop".to_owned())?;
    Ok("shop".to_owned())
}

#[station]
fn database(port: &u16) -> Result<String, Step> {
    executed("database");
    connect(*port, format!("create database shop on 127.0.0.1:{port}"))?;
    Ok("shop".to_owned())
}

#[station]
fn migration(port: &u16) -> Result<u32, Step> {
    executed("migration");
    connect(*port, "apply migration 0007_orders.sql".to_owned())?;
    Ok(7)
}

#[station]
fn app(role: &str, database: &str, schema: &u32) -> String {
    executed("app");
    format!("{role}@{database} at schema {schema}")
}

workflow! {
    pub fn shop(port: u16) -> String {
        let owner = role(port);
        let db = database(port);
        let schema = migration(port);
        app(owner, db, schema)
    }
}

/// A port on the loopback interface with nothing listening on it: a database that is down.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The report of a run of `shop` against `port`, which fails.
fn failing_run(store: &choochoo::Store, port: u16) -> Report {
    let error = Runner::new(store)
        .keep_going(true)
        .run(shop(port))
        .unwrap_err();
    error.report().unwrap().clone()
}

/// The observations of run `run` agree with its report: the stations they blocked add up
/// to the report's blocked count, and each failure cost the time its entry shows.
fn assert_impact_matches(report: &Report, observations: &[Observation]) {
    let mine: Vec<&Observation> = observations
        .iter()
        .filter(|o| o.run() == report.run_id())
        .collect();
    let blocked: u64 = mine.iter().map(|o| o.blocked()).sum();
    assert_eq!(blocked, report.count(Status::Blocked) as u64, "{report}");
    for o in mine {
        let entry = report.entries().iter().find(|e| e.node() == o.node());
        assert_eq!(Some(o.duration()), entry.map(|e| e.duration()), "{o:#?}");
    }
}

#[test]
fn one_outage_across_three_stations_and_two_runs_is_one_defect() {
    let _serial = serial();
    let tmp = temp_store();
    let port = closed_port();
    let first = failing_run(&tmp.store, port);
    let second = failing_run(&tmp.store, port);
    assert_eq!(
        take_executions(),
        counts(&[("role", 2), ("database", 2), ("migration", 2)])
    );
    assert_eq!(first.count(Status::Failed), 3, "{first}");

    let defects = tmp.store.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:#?}");
    let defect = &defects[0];
    assert_eq!(
        defect.stations(),
        [
            "integration::incidents::database",
            "integration::incidents::migration",
            "integration::incidents::role"
        ]
    );
    assert_eq!((defect.runs_seen(), defect.count()), (2, 6));
    assert_eq!(defect.last_run(), second.run_id());
    assert_eq!(defect.mean_interval(), None);
    assert_eq!(defect.next_expected(), None);
    // Each run's failures are one event: its summary calls the defect new, then known.
    assert!(
        first.to_string().contains("new defect, first seen now"),
        "{first}"
    );
    assert!(!first.to_string().contains("known defect"), "{first}");
    assert!(
        second.to_string().contains("known defect, seen 2 times"),
        "{second}"
    );

    let observations = tmp.store.observations(defect.id()).unwrap();
    assert_impact_matches(&first, &observations);
    assert_impact_matches(&second, &observations);
    assert_eq!(defect.blocked(), 2, "the app, once in each run");
    assert_eq!(
        defect.time_lost(),
        observations
            .iter()
            .map(Observation::duration)
            .sum::<Duration>()
    );
}

static UNREACHABLE: AtomicU32 = AtomicU32::new(0);

/// Fetches item `n`; the first `UNREACHABLE` items fail alike.
#[station]
fn fetch(n: &u64) -> Result<u64, String> {
    executed("fetch");
    if *n < u64::from(UNREACHABLE.load(Ordering::SeqCst)) {
        return Err(format!(
            "cannot fetch item {n}: connection reset by 10.0.0.{n}:443"
        ));
    }
    Ok(n * 10)
}

#[station]
fn total(values: &Vec<u64>) -> u64 {
    values.iter().sum()
}

workflow! {
    pub fn catalogue(items: Vec<u64>) -> u64 {
        let fetched = map(fetch, items);
        total(fetched)
    }
}

#[test]
fn seven_items_of_a_map_failing_alike_are_one_event() {
    let _serial = serial();
    let tmp = temp_store();
    UNREACHABLE.store(7, Ordering::SeqCst);
    let error = Runner::new(&tmp.store)
        .keep_going(true)
        .run(catalogue((0..10).collect()))
        .unwrap_err();
    assert_eq!(take_executions(), counts(&[("fetch", 10)]));
    let report = error.report().unwrap();

    let defects = tmp.store.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:#?}");
    let defect = &defects[0];
    assert_eq!((defect.runs_seen(), defect.count()), (1, 7));
    assert_eq!(defect.stations(), ["integration::incidents::fetch"]);
    let observations = tmp.store.observations(defect.id()).unwrap();
    assert!(
        observations
            .iter()
            .all(|o| o.node().starts_with("catalogue.fetched["))
    );
    assert_impact_matches(report, &observations);
    assert_eq!(defect.blocked(), 1, "the total, blocked once by the map");
}

static RUNS_DOWN: AtomicU32 = AtomicU32::new(0);

/// Fails every attempt while `RUNS_DOWN` is set, transiently: each run tries it three times.
#[station(retries = 2, backoff = "1ms")]
fn ping(host: &str) -> Result<String, Transient> {
    executed("ping");
    if RUNS_DOWN.load(Ordering::SeqCst) > 0 {
        return Err(Transient::new(format!("{host}: no route to host")));
    }
    Ok(format!("{host} is up"))
}

workflow! {
    pub fn monitor(host: String) -> String {
        ping(host)
    }
}

#[test]
fn recurrence_is_counted_over_runs_from_the_third_and_a_good_run_makes_it_quiet() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    RUNS_DOWN.store(1, Ordering::SeqCst);
    let mut runs = Vec::new();
    for seen in 1..=3u64 {
        let error = runner.run(monitor("10.0.0.5".to_owned())).unwrap_err();
        runs.push(error.report().unwrap().run_id());
        let defect = &tmp.store.defects().unwrap()[0];
        assert_eq!(defect.runs_seen(), seen);
        assert_eq!(
            defect.count(),
            seen,
            "three attempts, one observation per run"
        );
        if seen < 3 {
            assert_eq!(defect.mean_interval(), None, "seen in {seen} runs");
            assert_eq!(defect.next_expected(), None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(take_executions(), counts(&[("ping", 9)]));
    let defect = &tmp.store.defects().unwrap()[0];
    let span = defect
        .last_seen()
        .duration_since(defect.first_seen())
        .unwrap();
    assert_eq!(
        defect.mean_interval(),
        Some(span / 2),
        "two intervals between three runs"
    );
    assert!(span >= Duration::from_millis(40), "{span:?}");
    assert_eq!(defect.next_expected(), Some(defect.last_seen() + span / 2));
    let observations = tmp.store.observations(defect.id()).unwrap();
    assert!(
        observations
            .iter()
            .all(|o| o.attempts() == 3 && !o.recovered())
    );
    assert_eq!(defect.quiet_since(), None);

    // The host is back: the next run is good, and the defect is quiet since it, still open.
    RUNS_DOWN.store(0, Ordering::SeqCst);
    let good = runner.run(monitor("10.0.0.5".to_owned())).unwrap();
    let defect = tmp.store.defect(defect.id()).unwrap().unwrap();
    assert_eq!(defect.quiet_since(), Some(good.report().run_id()));
    assert_eq!(
        defect.status(),
        DefectStatus::Open,
        "only a person closes it"
    );
    // A cached run later keeps it quiet since the same run.
    runner.run(monitor("10.0.0.5".to_owned())).unwrap();
    assert_eq!(take_executions(), counts(&[("ping", 1)]));
    let defect = tmp.store.defect(defect.id()).unwrap().unwrap();
    assert_eq!(defect.quiet_since(), Some(good.report().run_id()));

    // Failing again, it is no longer quiet.
    RUNS_DOWN.store(1, Ordering::SeqCst);
    runner.run(monitor("10.0.0.6".to_owned())).unwrap_err();
    let defect = tmp.store.defect(defect.id()).unwrap().unwrap();
    assert_eq!((defect.quiet_since(), defect.runs_seen()), (None, 4));
    take_executions();
}
