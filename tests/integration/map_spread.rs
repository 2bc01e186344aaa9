//! The items of a map that must run keep every worker busy to the end, wherever in the list
//! they are: with two jobs, two run at once until fewer than two are left, even when the
//! items the store has are interleaved with them (as after a header edit, where some of the
//! sources include it and some do not).

use crate::support::{serial, temp_store};
use choochoo::{Graph, Runner, station};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The item's name plus this, so that a new value makes exactly the named items run again.
static EDITION: AtomicU64 = AtomicU64::new(0);
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// For each item that ran: how many others it found running beside it.
static COMPANY: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

/// The list: item names, each with the edition it is at.
#[station]
fn list(names: &Vec<String>) -> Vec<String> {
    names.clone()
}

/// A slow item: it waits (up to five seconds) for another item to be running beside it,
/// and notes whether one came. With two workers taking items as they free up, one always
/// does; with the list split between them, the items of one share wait in vain while the
/// other worker is done with its cached share.
#[station]
fn slow(name: &String) -> String {
    RUNNING.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut others = 0;
    while Instant::now() < deadline {
        others = RUNNING.load(Ordering::SeqCst) - 1;
        if others > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Long enough for the one beside it to see it too.
    std::thread::sleep(Duration::from_millis(50));
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    let base = name.split('@').next().unwrap_or_default().to_owned();
    COMPANY.lock().unwrap().push((base, others));
    name.to_uppercase()
}

fn names(changed: &[usize]) -> Vec<String> {
    let edition = EDITION.load(Ordering::SeqCst);
    (0..11)
        .map(|i| match changed.contains(&i) {
            true => format!("item{i}@{edition}"),
            false => format!("item{i}@0"),
        })
        .collect()
}

fn run(tmp: &crate::support::TempStore, names: Vec<String>) {
    let mut graph = Graph::new();
    let names = graph.input_named("names", names);
    let items = graph.add_named("list", List, (&names,));
    let out = graph.map_named("slow", Slow, &items, ());
    Runner::new(&tmp.store)
        .jobs(2)
        .run_graph(&graph, out)
        .unwrap();
}

#[test]
fn items_to_run_among_cached_ones_run_two_at_a_time_to_the_end() {
    let _serial = serial();
    let tmp = temp_store();
    run(&tmp, names(&[]));
    COMPANY.lock().unwrap().clear();

    // Six of eleven run again, the others are in the store, in the pattern of a header
    // included by some sources only.
    EDITION.store(1, Ordering::SeqCst);
    let changed = [1, 2, 3, 4, 7, 10];
    run(&tmp, names(&changed));
    let company = std::mem::take(&mut *COMPANY.lock().unwrap());
    let mut ran: Vec<&str> = company.iter().map(|(name, _)| name.as_str()).collect();
    ran.sort();
    assert_eq!(ran, ["item1", "item10", "item2", "item3", "item4", "item7"]);
    // Six items on two workers: each finds another one beside it, none runs alone.
    let alone: Vec<&str> = company
        .iter()
        .filter(|(_, others)| *others == 0)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(alone.is_empty(), "items that ran alone: {alone:?}");
}
