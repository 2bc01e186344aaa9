//! Named builder nodes: `add_named`, `input_named` and `map_named` give a node its stable
//! name in the store and the report; a name given twice, empty or with brackets is a usage
//! error before anything runs or is written.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Diagram, Graph, Node, Runner, Status, station};

#[station]
fn words(ctx: &Ctx, text: &String) -> std::io::Result<usize> {
    executed("words");
    std::fs::write(ctx.out_dir().join("seen.txt"), text)?;
    Ok(text.split_whitespace().count())
}

#[station]
fn double(n: &usize) -> usize {
    executed("double");
    2 * n
}

fn counted(text: &str) -> (Graph, Node<usize>) {
    let mut g = Graph::new();
    let text = g.input_named("text", text.to_owned());
    let count = g.add_named("count", Words, (&text,));
    let doubled = g.add_named("doubled", Double, (&count,));
    (g, doubled)
}

#[test]
fn a_named_node_keeps_its_name_in_the_report_the_store_and_force() {
    let _serial = serial();
    let tmp = temp_store();
    let (g, out) = counted("fail fix run");
    let run = Runner::new(&tmp.store).run_graph(&g, out).unwrap();
    assert_eq!(*run.output(), 6);
    let nodes: Vec<(&str, Option<&str>)> = run
        .report()
        .entries()
        .iter()
        .map(|e| (e.node(), e.label()))
        .collect();
    assert_eq!(
        nodes,
        [("count", Some("count")), ("doubled", Some("doubled"))]
    );
    assert_eq!(take_executions(), counts(&[("words", 1), ("double", 1)]));
    let dir = tmp.store.dir().join("work/default/count/seen.txt");
    assert_eq!(std::fs::read_to_string(dir).unwrap(), "fail fix run");

    // Another text: the unnamed node's name would follow its input's value and find no
    // head; the named one keeps its name, so the reason names what changed.
    let (g, out) = counted("one two three");
    let run = Runner::new(&tmp.store).run_graph(&g, out).unwrap();
    let count = run.report().find("count").next().unwrap();
    assert_eq!(count.status(), Status::Ran);
    assert_eq!(
        count.reason(),
        Some("input `text` changed: \"fail fix run\" → \"one two three\"")
    );
    assert_eq!(
        run.report().find("doubled").next().unwrap().status(),
        Status::Cached,
        "the same count: early cutoff"
    );
    assert_eq!(take_executions(), counts(&[("words", 1)]));

    let forced = Runner::new(&tmp.store)
        .force(["doubled"])
        .run_graph(&g, out)
        .unwrap();
    assert_eq!(
        forced.report().find("doubled").next().unwrap().reason(),
        Some("forced")
    );
    assert_eq!(take_executions(), counts(&[("double", 1)]));
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

/// Running, planning, cleaning and drawing `g` fail with a usage error holding every one of
/// `words`, and nothing runs or is written.
fn refused(g: &Graph, out: Node<usize>, words: &[&str]) {
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let error = runner.run_graph(g, out).unwrap_err();
    assert!(!error.is_station_failure(), "{error}");
    let message = error.to_string();
    for word in words {
        assert!(message.contains(word), "{word:?} not in {message:?}");
    }
    for table in ["records", "heads", "runs", "run_entries"] {
        assert_eq!(rows(&tmp.store, table), 0, "{table} written");
    }
    assert_eq!(runner.plan_graph(g).unwrap_err().to_string(), message);
    assert_eq!(runner.clean_graph(g).unwrap_err().to_string(), message);
    assert_eq!(Diagram::of_graph(g).unwrap_err().to_string(), message);
    assert_eq!(take_executions(), counts(&[]));
}

#[test]
fn a_name_given_twice_is_an_error_naming_both_nodes() {
    let _serial = serial();
    let mut g = Graph::new();
    let text = g.input("a b".to_owned());
    let count = g.add_named("count", Words, (&text,));
    let out = g.add_named("count", Double, (&count,));
    refused(
        &g,
        out,
        &[
            "two nodes are named `count`",
            "node 1 (a station `words`)",
            "node 2 (a station `double`)",
        ],
    );
}

#[test]
fn a_named_node_cannot_take_the_name_of_a_binding_or_an_unnamed_node() {
    let _serial = serial();
    let mut g = Graph::new();
    let text = g.input("a b".to_owned());
    let count = g.add_named("input", Words, (&text,));
    let out = g.add(Double, (&count,));
    refused(&g, out, &["the name `input` of node 1 is taken"]);
}

#[test]
fn an_empty_name_or_one_with_brackets_is_an_error() {
    let _serial = serial();
    let mut g = Graph::new();
    let text = g.input("a b".to_owned());
    let out = g.add_named("", Words, (&text,));
    refused(
        &g,
        out,
        &["the name given to node 1 (a station `words`) is empty"],
    );

    let mut g = Graph::new();
    let text = g.input("a b".to_owned());
    let out = g.add_named("count[0]", Words, (&text,));
    refused(
        &g,
        out,
        &["`count[0]`", "has `[` or `]`, which name a map's items"],
    );
}

/// The same chain, `text → count → doubled → again → last`, with its first two stations
/// named or not: the names of `again` and `last`, which the program did not give.
fn unnamed_after(named: bool) -> Vec<String> {
    let mut g = Graph::new();
    let text = g.input("one two".to_owned());
    let doubled = match named {
        true => {
            let count = g.add_named("count", Words, (&text,));
            g.add_named("doubled", Double, (&count,))
        }
        false => {
            let count = g.add(Words, (&text,));
            g.add(Double, (&count,))
        }
    };
    let again = g.add(Double, (&doubled,));
    g.add(Double, (&again,));
    let plan = Runner::new(&temp_store().store).plan_graph(&g).unwrap();
    let names: Vec<String> = plan.entries().iter().map(|p| p.node().to_owned()).collect();
    names[names.len() - 2..].to_vec()
}

#[test]
fn a_station_the_program_did_not_name_is_named_alike_after_named_and_unnamed_sources() {
    let _serial = serial();
    let after_named = unnamed_after(true);
    assert!(
        after_named.iter().all(|name| name.starts_with("double-")),
        "{after_named:?}"
    );
    assert_eq!(after_named, unnamed_after(false));
}
