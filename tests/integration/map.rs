//! Typed dynamic fan-out: a station mapped over a list found at run time, each item
//! remembered on its own.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Graph, Runner, Status, station, workflow};
use std::sync::atomic::{AtomicU64, Ordering};

/// The list is discovered at run time: the lines of a text.
#[station]
fn lines(text: &String) -> Vec<String> {
    executed("lines");
    text.lines().map(str::to_owned).collect()
}

static FAIL_ON: AtomicU64 = AtomicU64::new(u64::MAX);

/// Runs once per item; `suffix` is shared by every item.
#[station]
fn shout(line: &String, suffix: &String) -> Result<String, String> {
    executed("shout");
    if line.parse::<u64>().ok() == Some(FAIL_ON.load(Ordering::SeqCst)) {
        return Err(format!("cannot shout {line}"));
    }
    Ok(format!("{}{suffix}", line.to_uppercase()))
}

#[station]
fn join(parts: &Vec<String>) -> String {
    executed("join");
    parts.join(" ")
}

workflow! {
    pub fn shouting(text: String, suffix: String) -> String {
        let items = lines(text);
        let loud = map(shout, items, suffix);
        join(loud)
    }
}

fn run(tmp: &crate::support::TempStore, text: &str) -> String {
    Runner::new(&tmp.store)
        .jobs(2)
        .run(shouting(text.to_owned(), "!".to_owned()))
        .unwrap()
        .into_output()
}

#[test]
fn each_item_is_remembered_on_its_own() {
    let _serial = serial();
    let tmp = temp_store();
    assert_eq!(run(&tmp, "a\nb\nc"), "A! B! C!");
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("shout", 3), ("join", 1)])
    );

    assert_eq!(run(&tmp, "a\nb\nc"), "A! B! C!");
    assert_eq!(
        take_executions(),
        counts(&[]),
        "nothing changed: nothing runs"
    );

    assert_eq!(run(&tmp, "a\nb\nc\nd"), "A! B! C! D!");
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("shout", 1), ("join", 1)]),
        "adding an item runs one"
    );

    assert_eq!(run(&tmp, "a\nB2\nc\nd"), "A! B2! C! D!");
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("shout", 1), ("join", 1)]),
        "changing an item runs one"
    );

    assert_eq!(run(&tmp, "d\nc\nB2\na"), "D! C! B2! A!");
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("join", 1)]),
        "reordering runs no item"
    );

    assert_eq!(run(&tmp, "d\nc\na"), "D! C! A!");
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("join", 1)]),
        "removing runs no item; the output shrinks"
    );
}

#[test]
fn a_failed_item_fails_the_map_and_only_it_runs_again() {
    let _serial = serial();
    let tmp = temp_store();
    let text: String = (0..10)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    FAIL_ON.store(7, Ordering::SeqCst);
    let error = Runner::new(&tmp.store)
        .run(shouting(text.clone(), "!".into()))
        .unwrap_err();
    FAIL_ON.store(u64::MAX, Ordering::SeqCst);
    let report = error.report().unwrap();
    let loud = report.find("loud").next().unwrap();
    assert_eq!(loud.status(), Status::Failed);
    // The error names the item: `loud[<its hash>] failed: …`, and the item has its entry.
    let item = report
        .with_status(Status::Failed)
        .find(|entry| entry.item().is_some())
        .unwrap();
    assert_eq!(
        loud.error().unwrap(),
        format!("loud[{}] failed: cannot shout 7", item.item().unwrap())
    );
    assert_eq!(item.error(), Some("cannot shout 7"));
    assert_eq!(
        item.node(),
        format!("shouting.loud[{}]", item.item().unwrap())
    );
    assert_eq!(take_executions(), counts(&[("lines", 1), ("shout", 10)]));
    // The failed item is an observation of its own, under the item's node.
    let defect = &tmp.store.defects().unwrap()[0];
    let observation = &tmp.store.observations(defect.id()).unwrap()[0];
    assert!(
        observation.node().starts_with("shouting.loud["),
        "{}",
        observation.node()
    );

    let run = Runner::new(&tmp.store)
        .run(shouting(text, "!".into()))
        .unwrap();
    assert_eq!(take_executions(), counts(&[("shout", 1), ("join", 1)]));
    assert_eq!(run.output(), "0! 1! 2! 3! 4! 5! 6! 7! 8! 9!");
}

#[test]
fn a_map_over_ten_thousand_items_is_cached_on_the_second_run() {
    let _serial = serial();
    let tmp = temp_store();
    let mut g = Graph::new();
    let items = g.input(
        (0..10_000)
            .map(|i| format!("line {i}"))
            .collect::<Vec<String>>(),
    );
    let suffix = g.input("?".to_owned());
    let loud = g.map(Shout, &items, (&suffix,));
    let total = g.add(Join, (&loud,));
    let runner = Runner::new(&tmp.store).jobs(2);
    let first = runner.run_graph(&g, total).unwrap().into_output();
    assert_eq!(take_executions(), counts(&[("shout", 10_000), ("join", 1)]));
    assert!(first.starts_with("LINE 0? LINE 1?"));
    let second = runner.run_graph(&g, total).unwrap();
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(second.output(), &first);
    assert_eq!(second.report().count(Status::Cached), 2);
}

/// The shape of `Reading` as the program has it now; a reading stored under another shape
/// no longer decodes: a type edited without its station's code changing.
static READING_SHAPE: AtomicU64 = AtomicU64::new(1);

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
struct Reading {
    value: u64,
    shape: u64,
}

impl<'de> serde::Deserialize<'de> for Reading {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Reading, D::Error> {
        let (value, shape) = <(u64, u64)>::deserialize(deserializer)?;
        if shape != READING_SHAPE.load(Ordering::SeqCst) {
            return Err(serde::de::Error::custom("a field was added"));
        }
        Ok(Reading { value, shape })
    }
}

#[station]
fn read_meter(line: &String) -> Reading {
    executed("read_meter");
    Reading {
        value: line.len() as u64,
        shape: READING_SHAPE.load(Ordering::SeqCst),
    }
}

#[station]
fn total(readings: &Vec<Reading>) -> u64 {
    executed("total");
    readings.iter().map(|reading| reading.value).sum()
}

workflow! {
    pub fn metering(text: String) -> u64 {
        let meters = lines(text);
        let readings = map(read_meter, meters);
        total(readings)
    }
}

/// A map item whose stored output no longer decodes is forgotten and computed again in the
/// same run (with a warning), once: the next runs find its new record.
#[test]
fn a_map_item_whose_stored_output_no_longer_decodes_runs_again_once() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    READING_SHAPE.store(1, Ordering::SeqCst);
    let first = runner.run(metering("a\nbb\nccc".to_owned())).unwrap();
    assert_eq!(*first.output(), 6);
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("read_meter", 3), ("total", 1)])
    );

    // The type changed; a new item makes the map look its old items up.
    READING_SHAPE.store(2, Ordering::SeqCst);
    let second = runner.run(metering("a\nbb\nccc\ndddd".to_owned())).unwrap();
    assert_eq!(*second.output(), 10);
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("read_meter", 4), ("total", 1)]),
        "the three undecodable items and the new one run"
    );
    let readings = second.report().find("readings").next().unwrap();
    assert!(
        readings.reason().unwrap().ends_with("; 4 of 4 items ran"),
        "{:?}",
        readings.reason()
    );
    let warnings = second.report().warnings();
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("no longer decodes") && w.contains("bump its `version`"))
            .count(),
        3,
        "{warnings:?}"
    );

    let third = runner.run(metering("a\nbb\nccc\ndddd\neeeee".to_owned()));
    READING_SHAPE.store(1, Ordering::SeqCst);
    assert_eq!(*third.unwrap().output(), 15);
    assert_eq!(
        take_executions(),
        counts(&[("lines", 1), ("read_meter", 1), ("total", 1)]),
        "the items recomputed are cached now: only the new one runs"
    );
}
