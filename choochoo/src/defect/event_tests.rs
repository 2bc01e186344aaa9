//! Events: a run's failures that share a cause are one defect, a station's retries are one
//! observation, and what a person decides is recorded with who and when.

use super::model::{NewObservation, NoteKind};
use crate::store::Store;
use crate::store::ledger::Impact;
use std::time::Duration;

const T0: i64 = 1_714_557_600_000_000_000;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A failure of station `name` in run `run`: `<what>: <root>`, its chain the two parts.
fn failure(name: &str, run: i64, what: &str, root: &str) -> NewObservation {
    NewObservation {
        station_id: format!("shop::{name}"),
        station_name: name.to_owned(),
        node: format!("shop.{name}"),
        profile: "default".to_owned(),
        instance: "vm".to_owned(),
        run_id: run,
        started_ns: T0 + run * 1_000_000_000,
        finished_ns: T0 + run * 1_000_000_000 + 1_000,
        duration: Duration::from_micros(1),
        message: format!("{what}: {root}"),
        chain: vec![what.to_owned(), root.to_owned()],
        ..NewObservation::default()
    }
}

const REFUSED: &str = "Connection refused (os error 111)";

fn outage(store: &Store, run: i64) {
    for (name, what) in [
        ("role", "create role shop"),
        ("db", "create database shop"),
        ("migrate", "apply migration 0007_orders.sql"),
    ] {
        store.observe(&failure(name, run, what, REFUSED)).unwrap();
    }
}

#[test]
fn one_outage_failing_three_stations_in_two_runs_is_one_defect() {
    let (_dir, store) = store();
    outage(&store, 1);
    outage(&store, 2);
    let defects = store.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:#?}");
    let defect = &defects[0];
    assert_eq!(
        defect.stations(),
        ["shop::db", "shop::migrate", "shop::role"]
    );
    assert_eq!(defect.signatures().len(), 3);
    assert_eq!((defect.runs_seen(), defect.count()), (2, 6));
    assert_eq!(defect.title(), format!("create role shop: {REFUSED}"));

    // Something else failing in the same run is a defect of its own.
    let denied = failure(
        "seed",
        2,
        "load seed data",
        "permission denied for table orders",
    );
    store.observe(&denied).unwrap();
    assert_eq!(store.defects().unwrap().len(), 2);
}

#[test]
fn a_shared_cause_groups_only_within_a_run() {
    let (_dir, store) = store();
    store
        .observe(&failure("role", 1, "create role shop", REFUSED))
        .unwrap();
    store
        .observe(&failure("db", 2, "create database shop", REFUSED))
        .unwrap();
    assert_eq!(
        store.defects().unwrap().len(),
        2,
        "two runs, two stations: nothing says it was one incident"
    );
}

#[test]
fn a_failure_naming_its_own_station_is_not_grouped() {
    let (_dir, store) = store();
    for name in ["role", "db"] {
        let message = format!("work required after visit: `shop.{name}` ran, but its check fails");
        let observed = NewObservation {
            message: message.clone(),
            chain: vec![message],
            ..failure(name, 1, "", "")
        };
        store.observe(&observed).unwrap();
    }
    assert_eq!(store.defects().unwrap().len(), 2);
}

#[test]
fn retries_are_one_observation_and_a_recovery_blocks_nothing() {
    let (_dir, store) = store();
    let first = failure("role", 1, "create role shop", REFUSED);
    let id = store.observe(&first).unwrap();
    let again = NewObservation {
        message: format!("create role shop: {REFUSED} again"),
        finished_ns: first.finished_ns + 5_000,
        ..first.clone()
    };
    store.observe_again(id, &again).unwrap();
    let impact = Impact {
        observation: id,
        blocked: 0,
        recovered: true,
        lost: None,
    };
    store.set_impacts(&[impact]).unwrap();

    let defect = &store.defects().unwrap()[0];
    assert_eq!((defect.count(), defect.recovered()), (1, 1));
    assert_eq!(defect.time_lost(), Duration::from_micros(2));
    let observation = &store.observations(defect.id()).unwrap()[0];
    assert_eq!(observation.attempts(), 3);
    assert!(observation.recovered());
    let attempts: Vec<(u32, &str)> = observation
        .failed_attempts()
        .iter()
        .map(|a| (a.attempt(), a.message()))
        .collect();
    assert_eq!(
        attempts,
        [(1, first.message.as_str()), (2, again.message.as_str())]
    );
    assert_eq!(
        observation.message(),
        first.message,
        "the first failure's evidence"
    );
}

#[test]
fn decisions_and_notes_say_who_and_when() {
    let (_dir, store) = store();
    outage(&store, 1);
    store
        .observe(&failure("seed", 1, "load seed data", "permission denied"))
        .unwrap();
    let [a, b] = [0, 1].map(|i| store.defects().unwrap()[i].id());
    store.mark_fixed(b).unwrap();
    store
        .add_note(b, NoteKind::NextSteps, "look at the grants")
        .unwrap();
    store.merge(a, b).unwrap();
    let merged = store.defect(a).unwrap().unwrap();
    let what: Vec<&str> = merged.decisions().iter().map(|d| d.what()).collect();
    assert_eq!(what, ["marked fixed", "merged #2 into it"]);
    let by: Vec<&str> = merged.decisions().iter().map(|d| d.by()).collect();
    assert!(!by[0].is_empty() && by[0] == by[1], "{by:?}");
    assert_eq!(merged.notes()[0].added_by(), Some(by[0]));
    assert!(merged.decisions()[0].at() <= merged.decisions()[1].at());
}
