//! A large graph (2,000 nodes or more) is named level by level on the pool, beside its stat
//! cache, its wiring and the run's row, and the hashes of its constants are found with
//! their names: its names and keys are those a plan finds one node at a time, on the
//! caller's thread, and a graph that cannot be named leaves no run behind.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Action, File, Graph, Node, Runner, Secret, station};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: u64,
    text: String,
}

#[station]
fn step(job: &Job, deps: &Vec<u64>) -> u64 {
    executed("step");
    job.id + deps.iter().sum::<u64>() % 7
}

#[station]
fn signed(job: &Job, key: &Secret<String>) -> u64 {
    executed("signed");
    job.id + key.expose().len() as u64
}

#[station]
fn measured(job: &Job, text: &File) -> std::io::Result<u64> {
    executed("measured");
    Ok(job.id + std::fs::read(text.path())?.len() as u64)
}

/// 3,000 steps in layers, each reading its job and up to two steps of the layer before; a
/// signed step reads a secret, a measured one a file; one step is there twice (same station,
/// same sources), so its second is numbered.
fn layered(dir: &std::path::Path) -> (Graph, Vec<Node<u64>>) {
    let mut graph = Graph::new();
    let key = graph.input(Secret::new("hunter2".to_owned()));
    let path = dir.join("text.txt");
    std::fs::write(&path, "twelve bytes").unwrap();
    let text = graph.input(File::new(&path));
    let mut nodes: Vec<Node<u64>> = Vec::new();
    for id in 0..3_000u64 {
        let job = graph.input(Job {
            id,
            text: format!("job {id}"),
        });
        let deps: Vec<Node<u64>> = match nodes.len() {
            0..=100 => Vec::new(),
            n => vec![nodes[n - 100], nodes[n - 99]],
        };
        let node = match id % 500 {
            7 => graph.add(Signed, (&job, &key)),
            11 => graph.add(Measured, (&job, &text)),
            _ => graph.add(Step, (&job, &deps)),
        };
        nodes.push(node);
    }
    let twin_job = graph.input(Job {
        id: 0,
        text: "twin".to_owned(),
    });
    nodes.push(graph.add(Step, (&twin_job, &Vec::new())));
    nodes.push(graph.add(Step, (&twin_job, &Vec::new())));
    (graph, nodes)
}

#[test]
fn a_large_graph_is_named_and_keyed_as_a_plan_finds_it_one_node_at_a_time() {
    let _serial = serial();
    let tmp = temp_store();
    let (graph, nodes) = layered(tmp.dir.path());
    let runner = Runner::new(&tmp.store).jobs(2);
    let run = runner.run_graph(&graph, *nodes.last().unwrap()).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("measured", 6), ("signed", 6), ("step", 2_990)])
    );
    let ran: Vec<&str> = run.report().entries().iter().map(|e| e.node()).collect();
    let twins: Vec<&&str> = ran.iter().rev().take(2).collect();
    assert!(
        twins[0].ends_with("-2") && twins[0].starts_with(*twins[1]),
        "the second of a name is numbered: {twins:?}"
    );

    let plan = runner.plan_graph(&graph).unwrap();
    let planned: Vec<&str> = plan.entries().iter().map(|p| p.node()).collect();
    assert_eq!(planned, ran, "the run's names are the plan's");
    let to_run: Vec<&str> = plan
        .entries()
        .iter()
        .filter(|p| p.action() != Action::Cached)
        .map(|p| p.node())
        .collect();
    assert!(
        to_run.is_empty(),
        "the run's keys are the plan's: {to_run:?}"
    );

    runner.run_graph(&graph, *nodes.last().unwrap()).unwrap();
    assert_eq!(take_executions(), counts(&[]));
}

/// A constant whose encoding fails: a large graph holding one has no names.
#[derive(Debug, Clone, Deserialize)]
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this value cannot be encoded"))
    }
}

#[station]
fn refuse(value: &Unencodable) -> u64 {
    executed("refuse");
    let _ = value;
    0
}

#[test]
fn a_large_graph_that_cannot_be_named_leaves_no_run_behind() {
    let _serial = serial();
    let tmp = temp_store();
    let (mut graph, nodes) = layered(tmp.dir.path());
    let value = graph.input(Unencodable);
    graph.add(Refuse, (&value,));
    let error = Runner::new(&tmp.store)
        .jobs(2)
        .run_graph(&graph, *nodes.last().unwrap())
        .unwrap_err();
    assert!(error.to_string().contains("Unencodable"), "{error}");
    assert_eq!(take_executions(), counts(&[]));
    let dir = tmp.store.dir().to_owned();
    drop(tmp.store);
    let store = choochoo::Store::open(&dir).unwrap();
    assert_eq!(store.interrupted_runs().unwrap(), []);
    assert_eq!(std::fs::read_dir(dir.join("runs")).unwrap().count(), 0);
    // Nor a row a dashboard would show as a run in flight.
    drop(store);
    let db = rusqlite::Connection::open(dir.join("store.db")).unwrap();
    let runs: i64 = db
        .query_row("SELECT count(*) FROM runs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(runs, 0);
}
