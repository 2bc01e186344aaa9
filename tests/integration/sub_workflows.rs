//! Typed sub-workflows: a `workflow!` calls another `workflow!` function like a station. Its
//! nodes are `outer.inner.binding` in the report and the graph; memo and early cutoff work
//! through the boundary both ways, counted inside the stations. Cleaning through the
//! boundary is in [`crate::sub_workflows_shop`].

use crate::support::temp_store;
use choochoo::{Diagram, Runner, Status, station, workflow};
use std::sync::atomic::{AtomicUsize, Ordering};

static TRIMS: AtomicUsize = AtomicUsize::new(0);
static LOWERS: AtomicUsize = AtomicUsize::new(0);
static STRIPS: AtomicUsize = AtomicUsize::new(0);
static COUNTS: AtomicUsize = AtomicUsize::new(0);

#[station]
fn trim(text: &str) -> String {
    TRIMS.fetch_add(1, Ordering::SeqCst);
    text.trim().to_owned()
}

#[station]
fn lower(text: &str) -> String {
    LOWERS.fetch_add(1, Ordering::SeqCst);
    text.to_lowercase()
}

#[station]
fn strip_punctuation(text: &str) -> String {
    STRIPS.fetch_add(1, Ordering::SeqCst);
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

#[station]
fn letters(text: &str) -> usize {
    COUNTS.fetch_add(1, Ordering::SeqCst);
    text.len()
}

workflow! {
    /// Lower-cases a text and strips its punctuation.
    pub fn normalize(text: String) -> String {
        let low = lower(text);
        strip_punctuation(low)
    }
}

workflow! {
    /// Counts the letters of a text, normalized by a sub-workflow.
    pub fn letter_count(text: String) -> usize {
        let trimmed = trim(text);
        let norm = normalize(trimmed);
        letters(norm)
    }
}

workflow! {
    /// Normalizes two texts: the same sub-workflow twice, under two bindings.
    pub fn both(a: String, b: String) -> (String, String) {
        let first = normalize(a);
        let second = normalize(b);
        (first, second)
    }
}

#[station]
fn double(n: &usize) -> usize {
    2 * n
}

workflow! {
    /// Two levels deep: a workflow calling one that calls another.
    pub fn doubled_count(text: String) -> usize {
        let counted = letter_count(text);
        double(counted)
    }
}

/// How many times each station's body ran since the last call: trim, lower, strip, count.
fn ran() -> [usize; 4] {
    [&TRIMS, &LOWERS, &STRIPS, &COUNTS].map(|counter| counter.swap(0, Ordering::SeqCst))
}

#[test]
fn a_sub_workflows_stations_are_remembered_and_cut_off_across_the_boundary() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    ran();
    let run = runner.run(letter_count("Hello!".to_owned())).unwrap();
    assert_eq!(*run.output(), 5);
    assert_eq!(ran(), [1, 1, 1, 1]);
    let mut nodes: Vec<&str> = run.report().entries().iter().map(|e| e.node()).collect();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        [
            "letter_count.norm.low",
            "letter_count.norm.output",
            "letter_count.output",
            "letter_count.trimmed"
        ]
    );

    // The same text: nothing runs, inside the sub-workflow or out.
    let again = runner.run(letter_count("Hello!".to_owned())).unwrap();
    assert_eq!(again.report().count(Status::Cached), 4);
    assert_eq!(ran(), [0, 0, 0, 0]);

    // Spaces around it: `trim` gives the same text, so the sub-workflow does not run.
    runner.run(letter_count("  Hello!  ".to_owned())).unwrap();
    assert_eq!(ran(), [1, 0, 0, 0]);

    // Upper case: `lower` gives the same text inside, so neither the rest of the
    // sub-workflow nor the station after it runs.
    runner.run(letter_count("HELLO!".to_owned())).unwrap();
    assert_eq!(ran(), [1, 1, 0, 0]);

    // Other punctuation: the sub-workflow's output is the same, so `letters` does not run.
    let run = runner.run(letter_count("Hello?".to_owned())).unwrap();
    assert_eq!(ran(), [1, 1, 1, 0]);
    assert_eq!(*run.output(), 5);
    let letters = run.report().find("letter_count.output").next().unwrap();
    assert_eq!(letters.status(), Status::Cached);

    // Forced by its call's name, the sub-workflow runs again; to the same output, so the
    // station after it does not.
    let run = Runner::new(&tmp.store)
        .force(["letter_count.norm"])
        .run(letter_count("Hello?".to_owned()))
        .unwrap();
    assert_eq!(ran(), [0, 1, 1, 0]);
    assert_eq!(run.report().count(Status::Ran), 2);

    // A new word runs everything after `trim`.
    let run = runner.run(letter_count("Bye".to_owned())).unwrap();
    assert_eq!((ran(), *run.output()), ([1, 1, 1, 1], 3));
}

#[test]
fn a_sub_workflow_called_twice_has_a_scope_per_binding_and_its_own_results() {
    let _serial = serial();
    let tmp = temp_store();
    ran();
    let run = Runner::new(&tmp.store)
        .run(both("A-b".to_owned(), "C.d".to_owned()))
        .unwrap();
    assert_eq!(run.output(), &("ab".to_owned(), "cd".to_owned()));
    assert_eq!(ran(), [0, 2, 2, 0]);
    let mut nodes: Vec<&str> = run.report().entries().iter().map(|e| e.node()).collect();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        [
            "both.first.low",
            "both.first.output",
            "both.second.low",
            "both.second.output"
        ]
    );
}

#[test]
fn a_sub_workflow_is_drawn_as_a_cluster_of_its_stations() {
    let diagram = Diagram::of(letter_count("Hello!".to_owned())).unwrap();
    let dot = diagram.dot();
    let cluster = dot
        .split("subgraph \"cluster_letter_count.norm\" {")
        .nth(1)
        .expect("a cluster for the sub-workflow");
    let inside = &cluster[..cluster.find('}').unwrap()];
    assert!(inside.contains("label=\"norm: normalize\""), "{dot}");
    assert!(inside.contains("\"letter_count.norm.low\" ["), "{dot}");
    assert!(inside.contains("\"letter_count.norm.output\" ["), "{dot}");
    assert!(!inside.contains("\"letter_count.trimmed\""), "{dot}");
    assert!(dot.contains("\"letter_count.trimmed\" -> \"letter_count.norm.low\""));

    let mermaid = diagram.mermaid();
    let cluster = mermaid
        .split("subgraph ")
        .nth(1)
        .expect("a subgraph for the sub-workflow");
    let inside = &cluster[..cluster.find("\n  end").unwrap()];
    assert!(inside.starts_with("c0[\"norm: normalize\"]"), "{mermaid}");
    assert_eq!(inside.matches("[\"").count(), 3, "{mermaid}");
}

#[test]
fn sub_workflows_nest_in_names_and_in_clusters() {
    let _serial = serial();
    let tmp = temp_store();
    ran();
    let run = Runner::new(&tmp.store)
        .run(doubled_count("Hi!".to_owned()))
        .unwrap();
    assert_eq!(*run.output(), 4);
    assert_eq!(ran(), [1, 1, 1, 1]);
    let mut nodes: Vec<&str> = run.report().entries().iter().map(|e| e.node()).collect();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        [
            "doubled_count.counted.norm.low",
            "doubled_count.counted.norm.output",
            "doubled_count.counted.output",
            "doubled_count.counted.trimmed",
            "doubled_count.output"
        ]
    );
    let dot = Diagram::of(doubled_count("Hi!".to_owned())).unwrap().dot();
    let outer = dot
        .find("subgraph \"cluster_doubled_count.counted\" {")
        .unwrap();
    let inner = dot
        .find("subgraph \"cluster_doubled_count.counted.norm\" {")
        .unwrap();
    let trimmed = dot.find("\"doubled_count.counted.trimmed\" [").unwrap();
    let last = dot.find("\"doubled_count.output\" [").unwrap();
    // The top-level station first, then the outer cluster, its own station, the inner one.
    assert!(last < outer && outer < trimmed && trimmed < inner, "{dot}");
    assert!(dot.contains("label=\"counted: letter_count\""), "{dot}");
}

/// The counters are shared: the tests that read them run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[station]
fn increment(n: &u64) -> u64 {
    n + 1
}

workflow! {
    /// Calls `pong`, which calls it back: a loop `workflow!` cannot see.
    pub fn ping(n: u64) -> u64 {
        let m = increment(n);
        pong(m)
    }
}

workflow! {
    pub fn pong(n: u64) -> u64 {
        ping(n)
    }
}

#[test]
fn workflows_calling_each_other_stop_with_the_loop_named() {
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(ping(1))));
    let panic = run.expect_err("an endless graph is not built");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("sub-workflows nest more than 64 deep at `ping.output.output"),
        "{message}"
    );
    assert!(
        message.contains("a workflow calls itself through another"),
        "{message}"
    );
}
