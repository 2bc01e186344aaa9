//! The typed foundation: macros, builder, and the parallel runner (no memoization involved).

use crate::support::{Rendezvous, temp_store, wait_until};
use choochoo::{Graph, Node, Runner, Status, station, workflow};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn statuses(report: &choochoo::Report) -> BTreeSet<(String, Status)> {
    report
        .entries()
        .iter()
        .map(|entry| {
            (
                entry.label().unwrap_or(entry.name()).to_owned(),
                entry.status(),
            )
        })
        .collect()
}

fn set(items: &[(&str, Status)]) -> BTreeSet<(String, Status)> {
    items
        .iter()
        .map(|(name, status)| ((*name).to_owned(), *status))
        .collect()
}

mod diamond {
    use super::*;

    pub static MEETING: Rendezvous = Rendezvous::new();
    pub static SERIAL_MEETING: Rendezvous = Rendezvous::new();

    #[station]
    pub fn top(x: &u64) -> u64 {
        x + 1
    }

    /// Waits for `right` to be running at the same time, or fails.
    #[station]
    pub fn left(x: &u64) -> Result<u64, String> {
        if MEETING.meet(2, Duration::from_secs(20)) {
            Ok(x * 2)
        } else {
            Err("left ran alone".into())
        }
    }

    #[station]
    pub fn right(x: &u64) -> Result<u64, String> {
        if MEETING.meet(2, Duration::from_secs(20)) {
            Ok(x * 3)
        } else {
            Err("right ran alone".into())
        }
    }

    #[station]
    pub fn left_serial(x: &u64) -> Result<u64, String> {
        if SERIAL_MEETING.meet(2, Duration::from_millis(300)) {
            Ok(*x)
        } else {
            Err("alone".into())
        }
    }

    #[station]
    pub fn right_serial(x: &u64) -> Result<u64, String> {
        if SERIAL_MEETING.meet(2, Duration::from_millis(300)) {
            Ok(*x)
        } else {
            Err("alone".into())
        }
    }

    #[station]
    pub fn bottom(a: &u64, b: &u64) -> u64 {
        a + b
    }

    workflow! {
        pub fn diamond(x: u64) -> u64 {
            let t = top(x);
            let l = left(t);
            let r = right(t);
            bottom(l, r)
        }
    }

    workflow! {
        pub fn serial_diamond(x: u64) -> u64 {
            let l = left_serial(x);
            let r = right_serial(x);
            bottom(l, r)
        }
    }
}

#[test]
fn a_diamond_runs_both_middle_stations_at_once() {
    let tmp = temp_store();
    let run = Runner::new(&tmp.store)
        .jobs(2)
        .run(diamond::diamond(4))
        .expect("both sides met");
    assert_eq!(*run.output(), 5 * 2 + 5 * 3);
    assert_eq!(run.report().count(Status::Ran), 4);
}

#[test]
fn with_one_job_the_middle_stations_cannot_meet() {
    // The other half of the proof above: the rendezvous really needs two threads.
    let tmp = temp_store();
    let error = Runner::new(&tmp.store)
        .jobs(1)
        .run(diamond::serial_diamond(4))
        .unwrap_err();
    assert!(error.is_station_failure());
    assert!(error.to_string().contains("alone"), "{error}");
}

mod failing {
    use super::*;

    pub static RAN: AtomicUsize = AtomicUsize::new(0);

    #[station]
    pub fn source(x: &u64) -> u64 {
        RAN.fetch_add(1, Ordering::SeqCst);
        *x
    }

    #[station]
    pub fn explode(x: &u64) -> Result<u64, std::io::Error> {
        RAN.fetch_add(1, Ordering::SeqCst);
        Err(std::io::Error::other(format!("boom at {x}")))
    }

    #[station]
    pub fn after(x: &u64) -> u64 {
        RAN.fetch_add(1, Ordering::SeqCst);
        x + 1
    }

    #[station]
    pub fn join(a: &u64, b: &u64) -> u64 {
        RAN.fetch_add(1, Ordering::SeqCst);
        a + b
    }

    workflow! {
        /// `bad` fails; `blocked`, `blocked_too` and `joined` depend on it; `fine` and
        /// `fine_too` do not.
        pub fn partly_broken(x: u64) -> (u64, u64) {
            let s = source(x);
            let bad = explode(s);
            let blocked = after(bad);
            let blocked_too = after(blocked);
            let fine = after(s);
            let fine_too = after(fine);
            let joined = join(fine_too, blocked_too);
            (fine_too, joined)
        }
    }
}

#[test]
fn a_failing_station_blocks_exactly_its_dependents() {
    let tmp = temp_store();
    failing::RAN.store(0, Ordering::SeqCst);
    let error = Runner::new(&tmp.store)
        .jobs(2)
        .keep_going(true)
        .run(failing::partly_broken(1))
        .unwrap_err();
    let report = error.report().expect("a failed run carries its report");
    assert_eq!(
        statuses(report),
        set(&[
            ("s", Status::Ran),
            ("bad", Status::Failed),
            ("blocked", Status::Blocked),
            ("blocked_too", Status::Blocked),
            ("fine", Status::Ran),
            ("fine_too", Status::Ran),
            ("joined", Status::Blocked),
        ])
    );
    // source, explode, and the two `fine` stations executed; nothing blocked did.
    assert_eq!(failing::RAN.load(Ordering::SeqCst), 4);
    let bad = report.find("bad").next().unwrap();
    assert_eq!(bad.error(), Some("boom at 1"));
    assert!(
        error
            .to_string()
            .contains("station `bad` failed: boom at 1"),
        "{error}"
    );
}

mod fail_fast {
    use super::*;
    use choochoo::Ctx;

    pub static RAN: AtomicUsize = AtomicUsize::new(0);

    #[station]
    pub fn fail(x: &u64) -> Result<u64, String> {
        Err(format!("failed on {x}"))
    }

    /// Runs until the runner says it is stopping, then finishes normally.
    #[station]
    pub fn long(ctx: &Ctx, x: &u64) -> Result<u64, String> {
        RAN.fetch_add(1, Ordering::SeqCst);
        if wait_until(Duration::from_secs(20), || ctx.is_stopping()) {
            Ok(*x)
        } else {
            Err("never told to stop".into())
        }
    }

    #[station]
    pub fn next(x: &u64) -> u64 {
        RAN.fetch_add(1, Ordering::SeqCst);
        *x
    }

    workflow! {
        pub fn race(x: u64) -> u64 {
            let f = fail(x);
            let l = long(x);
            let n = next(l);
            next(n)
        }
    }
}

#[test]
fn by_default_running_stations_finish_and_no_new_ones_start() {
    let tmp = temp_store();
    fail_fast::RAN.store(0, Ordering::SeqCst);
    let error = Runner::new(&tmp.store)
        .jobs(2)
        .run(fail_fast::race(7))
        .unwrap_err();
    let report = error.report().unwrap();
    assert_eq!(
        statuses(report),
        set(&[
            ("f", Status::Failed),
            ("l", Status::Ran),
            ("n", Status::Skipped),
            ("output", Status::Skipped)
        ])
    );
    assert_eq!(
        fail_fast::RAN.load(Ordering::SeqCst),
        1,
        "only `long` executed"
    );
}

mod panicking {
    use super::*;

    #[station]
    pub fn panics(x: &u64) -> u64 {
        if *x > 0 {
            panic!("x was {x}");
        }
        0
    }

    workflow! {
        pub fn doomed(x: u64) -> u64 {
            panics(x)
        }
    }
}

#[test]
fn a_panic_is_a_failed_station_and_the_runner_stays_usable() {
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store).jobs(2);
    let error = runner.run(panicking::doomed(3)).unwrap_err();
    let entry = &error.report().unwrap().entries()[0];
    assert_eq!(entry.status(), Status::Failed);
    assert_eq!(entry.error(), Some("panicked: x was 3"));
    assert_eq!(*runner.run(panicking::doomed(0)).unwrap().output(), 0);
}

mod words {
    use super::*;

    #[station]
    pub fn split(text: &String) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[station(name = "Count words")]
    pub fn count(words: &Vec<String>) -> usize {
        words.len()
    }

    #[station]
    pub fn longest(words: &Vec<String>, at_least: &usize) -> Option<String> {
        words
            .iter()
            .filter(|w| w.len() >= *at_least)
            .max_by_key(|w| w.len())
            .cloned()
    }

    #[station]
    pub fn shout(word: &Option<String>, suffix: &String) -> String {
        format!(
            "{}{suffix}",
            word.clone().unwrap_or_default().to_uppercase()
        )
    }

    workflow! {
        /// Two outputs, a numeric and a string literal.
        pub fn analyse(text: String) -> (usize, String) {
            let words = split(text);
            let n = count(words);
            let long = longest(words, 3);
            let loud = shout(long, "!");
            (n, loud)
        }
    }
}

#[test]
fn a_workflow_computes_what_the_plain_functions_compute() {
    let tmp = temp_store();
    let text = "fail at ninety percent then fix it".to_owned();
    let run = Runner::new(&tmp.store)
        .run(words::analyse(text.clone()))
        .unwrap();
    let by_hand = {
        let words = words::split(&text);
        (
            words::count(&words),
            words::shout(&words::longest(&words, &3), &"!".to_owned()),
        )
    };
    assert_eq!(run.output(), &by_hand);
    assert_eq!(run.output(), &(7, "PERCENT!".to_owned()));
    assert_eq!(run.report().find("n").next().unwrap().name(), "Count words");
    assert_eq!(
        run.report().find("n").next().unwrap().id(),
        "integration::typed::words::count"
    );
}

mod generated {
    use super::*;

    pub static SQUARES: AtomicUsize = AtomicUsize::new(0);

    #[station]
    pub fn square(x: &u64) -> u64 {
        SQUARES.fetch_add(1, Ordering::Relaxed);
        x * x
    }

    #[station]
    pub fn add(a: &u64, b: &u64) -> u64 {
        a + b
    }

    #[station]
    pub fn sum(xs: &Vec<u64>) -> u64 {
        xs.iter().sum()
    }
}

#[test]
fn a_ten_thousand_station_generated_graph_gives_the_right_answer() {
    let tmp = temp_store();
    generated::SQUARES.store(0, Ordering::Relaxed);
    let mut g = Graph::new();
    let xs: Vec<Node<u64>> = (1..=5_000u64).map(|x| g.input(x)).collect();
    let squares: Vec<Node<u64>> = xs.iter().map(|x| g.add(generated::Square, (x,))).collect();
    // A chain of 4,999 additions over the squares, plus one fan-in over all of them.
    let chained = squares[1..]
        .iter()
        .fold(squares[0], |acc, sq| g.add(generated::Add, (&acc, sq)));
    let total = g.add(generated::Sum, (&squares,));
    let both = g.add(generated::Add, (&chained, &total));
    let run = Runner::new(&tmp.store).jobs(2).run_graph(&g, both).unwrap();
    let expected: u64 = (1..=5_000u64).map(|x| x * x).sum();
    assert_eq!(*run.output(), 2 * expected);
    assert_eq!(run.report().entries().len(), 5_000 + 4_999 + 2);
    assert_eq!(run.report().count(Status::Ran), 10_001);
    assert_eq!(generated::SQUARES.load(Ordering::Relaxed), 5_000);
}

/// A node of one graph given to another: a usage error naming both graphs, before anything
/// runs or is written, whether the node's index exists in the other graph or not.
mod foreign {
    use super::*;
    use crate::support::{counts, executed, serial, take_executions};

    #[station]
    pub fn double(x: &u64) -> u64 {
        executed("double");
        x * 2
    }

    #[station]
    pub fn sum_all(xs: &Vec<u64>) -> u64 {
        executed("sum_all");
        xs.iter().sum()
    }

    /// The graph a node's debug form names: `Node<u64>(node 1 of graph #7)` → `graph #7`.
    fn graph_of<T>(node: &Node<T>) -> String {
        let debug = format!("{node:?}");
        let at = debug.find("graph #").expect(&debug);
        debug[at..debug.len() - 1].to_owned()
    }

    fn rows(store: &choochoo::Store, table: &str) -> i64 {
        match table {
            "records" => return choochoo::test_util::records(store.dir()).unwrap().len() as i64,
            "heads" => return choochoo::test_util::heads(store.dir()).unwrap().len() as i64,
            _ => {}
        }
        let db = rusqlite::Connection::open(store.dir().join("store.db")).unwrap();
        db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
    }

    /// Running, planning and drawing `graph` fail with an error naming `foreign` and
    /// `graph`'s own graph (`own`), and nothing runs or is written.
    fn refused(graph: &Graph, output: Node<u64>, foreign: &str, own: &str, what: &str) {
        let tmp = temp_store();
        let runner = Runner::new(&tmp.store);
        let error = runner.run_graph(graph, output).unwrap_err();
        assert!(!error.is_station_failure(), "{error}");
        let message = error.to_string();
        assert_ne!(foreign, own);
        for name in [foreign, own, what] {
            assert!(message.contains(name), "{name:?} not in {message:?}");
        }
        for table in ["records", "heads", "runs", "run_entries"] {
            assert_eq!(rows(&tmp.store, table), 0, "{table} written");
        }
        assert_eq!(take_executions(), counts(&[]));
        let planned = runner.plan_graph(graph).unwrap_err().to_string();
        assert_eq!(planned, message);
        let drawn = choochoo::Diagram::of_graph(graph).unwrap_err().to_string();
        assert_eq!(drawn, message);
    }

    #[test]
    fn a_foreign_node_whose_index_this_graph_has_is_refused() {
        let _serial = serial();
        let mut other = Graph::new();
        other.input(1u64);
        let foreign = other.input(2u64);
        let mut g = Graph::new();
        let own = g.input(10u64);
        g.input(20u64);
        // Index 1 exists in both graphs: it must not be wired to `g`'s own node 1.
        let doubled = g.add(Double, (&foreign,));
        let message = format!("is wired to node 1 of {}", graph_of(&foreign));
        refused(&g, doubled, &graph_of(&foreign), &graph_of(&own), &message);
        assert!(format!("{doubled:?}").contains(&graph_of(&own)));
    }

    #[test]
    fn a_foreign_node_whose_index_this_graph_lacks_is_refused() {
        let _serial = serial();
        let mut other = Graph::new();
        let nodes: Vec<Node<u64>> = (0..5).map(|i| other.input(i)).collect();
        let mut g = Graph::new();
        let own = g.input(10u64);
        let total = g.add(SumAll, (&vec![own, nodes[4]],));
        let message = "the input `xs` of `sum_all` is wired to node 4 of";
        refused(&g, total, &graph_of(&nodes[4]), &graph_of(&own), message);
    }

    #[test]
    fn a_foreign_list_given_to_map_is_refused() {
        let _serial = serial();
        let mut other = Graph::new();
        let list = other.input(vec![1u64, 2, 3]);
        let mut g = Graph::new();
        let own = g.input(vec![4u64]);
        let doubled = g.map(Double, &list, ());
        let total = g.add(SumAll, (&doubled,));
        refused(
            &g,
            total,
            &graph_of(&list),
            &graph_of(&own),
            "`x` of `double`",
        );
    }

    #[test]
    fn an_output_node_of_another_graph_is_refused() {
        let _serial = serial();
        let mut other = Graph::new();
        let mut doubles = Vec::new();
        for i in 0..4 {
            let input = other.input(i);
            doubles.push(other.add(Double, (&input,)));
        }
        let mut g = Graph::new();
        let own = g.input(3u64);
        let doubled = g.add(Double, (&own,));
        // `g` has two nodes: the first double of `other` is its node 1, the last its node 7.
        for output in [doubles[0], doubles[3]] {
            let tmp = temp_store();
            let error = Runner::new(&tmp.store).run_graph(&g, output).unwrap_err();
            let message = error.to_string();
            for name in [graph_of(&output), graph_of(&doubled), "output".to_owned()] {
                assert!(message.contains(&name), "{name:?} not in {message:?}");
            }
            for table in ["records", "heads", "runs"] {
                assert_eq!(rows(&tmp.store, table), 0, "{table} written");
            }
            assert_eq!(take_executions(), counts(&[]));
        }
        let tmp = temp_store();
        let run = Runner::new(&tmp.store).run_graph(&g, doubled).unwrap();
        assert_eq!(*run.output(), 6);
        assert_eq!(take_executions(), counts(&[("double", 1)]));
    }
}
