//! Stations written with the ordinary borrowed parameter types (`&str` for a `String`
//! input, `&[T]` for a `Vec<T>`, `&Path` for a `PathBuf`) are remembered exactly like their
//! twins written with the owned types: same input, cached; changed input, run; same values.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Runner, Status, station, workflow};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[station]
fn shout(text: &str) -> String {
    executed("shout");
    text.to_uppercase()
}

#[station]
fn shout_owned(text: &String) -> String {
    executed("shout_owned");
    text.to_uppercase()
}

#[station]
fn total(numbers: &[u64]) -> u64 {
    executed("total");
    numbers.iter().sum()
}

#[station]
fn total_owned(numbers: &Vec<u64>) -> u64 {
    executed("total_owned");
    numbers.iter().sum()
}

#[station]
fn extension(path: &Path) -> String {
    executed("extension");
    path.extension()
        .map(|ext| ext.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[station]
fn extension_owned(path: &PathBuf) -> String {
    executed("extension_owned");
    path.extension()
        .map(|ext| ext.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads an upstream station's `String` output through `&str`.
#[station]
fn length(text: &str) -> usize {
    executed("length");
    text.chars().count()
}

type Both = (String, String, u64, u64, String, String);

workflow! {
    fn both_forms(text: String, numbers: Vec<u64>, path: PathBuf) -> Both {
        let loud = shout(text);
        let loud_owned = shout_owned(text);
        let sum = total(numbers);
        let sum_owned = total_owned(numbers);
        let ext = extension(path);
        let ext_owned = extension_owned(path);
        (loud, loud_owned, sum, sum_owned, ext, ext_owned)
    }
}

workflow! {
    fn loud_length(text: String) -> usize {
        let loud = shout(text);
        length(loud)
    }
}

fn run_both(tmp: &crate::support::TempStore, text: &str, numbers: &[u64], path: &str) -> Both {
    let run = Runner::new(&tmp.store)
        .run(both_forms(text.to_owned(), numbers.to_vec(), path.into()))
        .unwrap();
    run.into_output()
}

fn both(text: &str, sum: u64, ext: &str) -> Both {
    let (text, ext) = (text.to_owned(), ext.to_owned());
    (text.clone(), text, sum, sum, ext.clone(), ext)
}

#[test]
fn borrowed_parameters_are_remembered_like_owned_ones() {
    let _serial = serial();
    let tmp = temp_store();
    let all = [
        "shout",
        "shout_owned",
        "total",
        "total_owned",
        "extension",
        "extension_owned",
    ];
    assert_eq!(
        run_both(&tmp, "hi", &[1, 2, 3], "docs/a.md"),
        both("HI", 6, "md")
    );
    assert_eq!(take_executions(), counts(&all.map(|name| (name, 1))));

    assert_eq!(
        run_both(&tmp, "hi", &[1, 2, 3], "docs/a.md"),
        both("HI", 6, "md")
    );
    assert_eq!(
        take_executions(),
        counts(&[]),
        "the same inputs: nothing runs"
    );

    assert_eq!(
        run_both(&tmp, "ho", &[1, 2, 3], "docs/a.md"),
        both("HO", 6, "md")
    );
    assert_eq!(
        take_executions(),
        counts(&[("shout", 1), ("shout_owned", 1)]),
        "a changed `String` runs both of its readers, and nothing else"
    );

    assert_eq!(
        run_both(&tmp, "ho", &[1, 2, 4], "docs/a.md"),
        both("HO", 7, "md")
    );
    assert_eq!(
        take_executions(),
        counts(&[("total", 1), ("total_owned", 1)])
    );

    assert_eq!(
        run_both(&tmp, "ho", &[1, 2, 4], "docs/a.txt"),
        both("HO", 7, "txt")
    );
    assert_eq!(
        take_executions(),
        counts(&[("extension", 1), ("extension_owned", 1)])
    );
}

#[test]
fn a_borrowed_parameter_reads_an_upstream_output_with_early_cutoff() {
    let _serial = serial();
    let tmp = temp_store();
    let run = |text: &str| {
        Runner::new(&tmp.store)
            .run(loud_length(text.to_owned()))
            .unwrap()
    };
    assert_eq!(*run("hello").output(), 5);
    assert_eq!(take_executions(), counts(&[("shout", 1), ("length", 1)]));

    let again = run("Hello");
    assert_eq!(*again.output(), 5);
    assert_eq!(
        take_executions(),
        counts(&[("shout", 1)]),
        "`HELLO` again: the `&str` reader is not run"
    );
    assert_eq!(again.report().count(Status::Cached), 1);
}

#[station]
fn words(text: &str) -> Vec<String> {
    executed("words");
    text.split_whitespace().map(str::to_owned).collect()
}

workflow! {
    fn loud_words(text: String) -> Vec<String> {
        let all = words(text);
        map(shout, all)
    }
}

#[test]
fn a_map_over_a_list_of_strings_calls_a_str_station_per_item() {
    let _serial = serial();
    let tmp = temp_store();
    let run = |text: &str| {
        Runner::new(&tmp.store)
            .run(loud_words(text.to_owned()))
            .unwrap()
            .into_output()
    };
    assert_eq!(run("a b c"), ["A", "B", "C"]);
    assert_eq!(take_executions(), counts(&[("words", 1), ("shout", 3)]));

    assert_eq!(run("a x c"), ["A", "X", "C"]);
    assert_eq!(
        take_executions(),
        counts(&[("words", 1), ("shout", 1)]),
        "one changed item runs once"
    );
}

/// The names "created" in the world outside.
static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[station(check = is_created)]
fn create(name: &str) -> String {
    executed("create");
    CREATED.lock().unwrap().push(name.to_owned());
    format!("created {name}")
}

/// A check takes the station's borrowed forms too: `&str` for the input and the output.
fn is_created(name: &str, receipt: &str) -> bool {
    executed("is_created");
    receipt.ends_with(name) && CREATED.lock().unwrap().iter().any(|known| known == name)
}

workflow! {
    fn creation(name: String) -> String {
        create(name)
    }
}

#[test]
fn a_check_on_a_str_station_is_asked_with_borrowed_values() {
    let _serial = serial();
    CREATED.lock().unwrap().clear();
    let tmp = temp_store();
    let run = || {
        Runner::new(&tmp.store)
            .run(creation("db".to_owned()))
            .unwrap()
            .into_output()
    };
    assert_eq!(run(), "created db");
    assert_eq!(
        take_executions(),
        counts(&[("create", 1), ("is_created", 1)])
    );

    assert_eq!(run(), "created db");
    assert_eq!(
        take_executions(),
        counts(&[("is_created", 1)]),
        "remembered, and the check says it still holds"
    );

    CREATED.lock().unwrap().clear();
    assert_eq!(run(), "created db");
    assert_eq!(
        take_executions(),
        counts(&[("is_created", 2), ("create", 1)]),
        "the world drifted: the check says so, the station runs, the check confirms"
    );
}
