//! A plan's promise, checked on random graphs: what it says will run, runs; what it says is
//! cached, does not; and making it executes nothing.

use crate::support::{serial, temp_store};
use choochoo::{Action, Graph, Node, Runner, station};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Mutex;

static EXECUTED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// A lossy mix (modulo 5), so upstream changes often leave outputs equal: early cutoff.
#[station]
fn mix(id: &u64, xs: &Vec<u64>) -> u64 {
    EXECUTED.lock().unwrap().push(*id);
    (id + xs.iter().sum::<u64>()) % 5
}

/// Inputs' values, and for each station the earlier nodes it reads (as picks to reduce).
#[derive(Debug, Clone)]
struct Shape {
    inputs: Vec<u64>,
    stations: Vec<Vec<usize>>,
    changes: Vec<Option<u64>>,
}

fn shapes() -> impl Strategy<Value = Shape> {
    (2usize..5, 1usize..10).prop_flat_map(|(inputs, stations)| {
        (
            prop::collection::vec(0u64..20, inputs),
            prop::collection::vec(prop::collection::vec(any::<usize>(), 1..4), stations),
            prop::collection::vec(prop::option::of(0u64..20), inputs),
        )
            .prop_map(|(inputs, stations, changes)| Shape {
                inputs,
                stations,
                changes,
            })
    })
}

fn build(shape: &Shape, values: &[u64]) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let mut nodes: Vec<Node<u64>> = values.iter().map(|v| g.input(*v)).collect();
    for (i, picks) in shape.stations.iter().enumerate() {
        let reads: Vec<Node<u64>> = picks.iter().map(|p| nodes[p % nodes.len()]).collect();
        let id = g.input(i as u64);
        nodes.push(g.add(Mix, (&id, &reads)));
    }
    let last = *nodes.last().unwrap();
    (g, last)
}

fn executed() -> BTreeSet<u64> {
    std::mem::take(&mut *EXECUTED.lock().unwrap())
        .into_iter()
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn what_a_plan_says_is_what_the_run_does(shape in shapes()) {
        let _serial = serial();
        let tmp = temp_store();
        let runner = Runner::new(&tmp.store).jobs(2);
        let (g, out) = build(&shape, &shape.inputs);
        runner.run_graph(&g, out).unwrap();
        executed();

        let changed: Vec<u64> =
            shape.inputs.iter().zip(&shape.changes).map(|(v, c)| c.unwrap_or(*v)).collect();
        let (g, out) = build(&shape, &changed);
        let plan = runner.plan_graph(&g).unwrap();
        prop_assert!(executed().is_empty(), "planning executed a station");
        let ids = |action| -> BTreeSet<u64> {
            plan.entries().iter().enumerate().filter(|(_, e)| e.action() == action).map(|(i, _)| i as u64).collect()
        };
        let (will, may, cached) = (ids(Action::Run), ids(Action::MayRun), ids(Action::Cached));
        runner.run_graph(&g, out).unwrap();
        let ran = executed();
        prop_assert!(will.is_subset(&ran), "planned to run {will:?}, ran {ran:?}");
        prop_assert!(ran.is_subset(&will.union(&may).copied().collect()), "ran {ran:?} beyond {will:?} + {may:?}");
        prop_assert!(cached.is_disjoint(&ran), "planned as cached {cached:?}, ran {ran:?}");
    }
}
