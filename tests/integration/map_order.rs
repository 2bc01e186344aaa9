//! The items of a map that must run go longest first, by how long each took the last time
//! it ran, and items never run before go first: the longest compile does not start last
//! and keep the build waiting on one worker while the others are idle.

use crate::support::{serial, temp_store};
use choochoo::{Graph, Runner, station};
use std::sync::Mutex;
use std::time::Duration;

/// The order the items started in, by name.
static STARTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[station]
fn list(names: &Vec<String>) -> Vec<String> {
    names.clone()
}

/// An item that takes as long as its name says; `edition` makes every item run again.
#[station]
fn work(name: &String, edition: &u64) -> String {
    STARTED.lock().unwrap().push(name.clone());
    let millis = match name.as_str() {
        "a" => 10,
        "b" => 200,
        "c" => 100,
        "d" => 300,
        _ => 1,
    };
    std::thread::sleep(Duration::from_millis(millis));
    format!("{name}{edition}")
}

fn run(tmp: &crate::support::TempStore, names: &[&str], edition: u64) -> Vec<String> {
    let mut graph = Graph::new();
    let names = graph.input_named("names", names.iter().map(|n| n.to_string()).collect());
    let edition = graph.input_named("edition", edition);
    let items = graph.add_named("list", List, (&names,));
    let out = graph.map_named_by("work", Work, &items, (&edition,), |name: &String| {
        name.clone()
    });
    let run = Runner::new(&tmp.store)
        .jobs(1)
        .run_graph(&graph, out)
        .unwrap();
    assert_eq!(
        run.output().len(),
        run.output().iter().filter(|o| !o.is_empty()).count()
    );
    std::mem::take(&mut *STARTED.lock().unwrap())
}

#[test]
fn items_to_run_start_new_first_then_longest_first() {
    let _serial = serial();
    let tmp = temp_store();
    STARTED.lock().unwrap().clear();
    // Nothing known of them yet: the list's order.
    assert_eq!(run(&tmp, &["a", "b", "c", "d"], 1), ["a", "b", "c", "d"]);
    // All four again, and a new one: the new first, then by the last run's durations.
    assert_eq!(
        run(&tmp, &["a", "b", "c", "d", "e"], 2),
        ["e", "d", "b", "c", "a"]
    );
    // Found in the store, nothing starts.
    assert_eq!(
        run(&tmp, &["a", "b", "c", "d", "e"], 2),
        Vec::<String>::new()
    );
}
