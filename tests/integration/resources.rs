//! Resource limits: stations that hold a resource (`#[station(resources = [..])]`,
//! `Graph::resources`) run at most as many at once as `Runner::resource` allows, while the
//! other stations keep the pool busy; a resource no runner limits is not held back.

use crate::support::{Rendezvous, serial};
use choochoo::{Graph, Node, Runner, Station, Status, station};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Long enough for a loaded machine; a run that needs it has failed anyway.
const PATIENCE: Duration = Duration::from_secs(30);

/// Tokens stations post for each other: what has started.
static BOARD: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
static POSTED: Condvar = Condvar::new();

fn post(token: String) {
    BOARD.lock().unwrap().insert(token);
    POSTED.notify_all();
}

/// Waits until `token` is posted; `false` after [`PATIENCE`].
fn posted(token: &str) -> bool {
    let board = BOARD.lock().unwrap();
    let (board, waited) = POSTED
        .wait_timeout_while(board, PATIENCE, |board| !board.contains(token))
        .unwrap();
    drop(board);
    !waited.timed_out()
}

/// When each station holding the database started and ended, by its input.
static HELD: Mutex<Vec<(u64, Instant, Instant)>> = Mutex::new(Vec::new());
/// How many hold it now, and the most that ever did at once.
static HOLDING: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);
/// The order in which migrations took the database.
static TURN: AtomicUsize = AtomicUsize::new(0);

fn reset() {
    BOARD.lock().unwrap().clear();
    HELD.lock().unwrap().clear();
    HOLDING.store(0, Ordering::SeqCst);
    MOST.store(0, Ordering::SeqCst);
    TURN.store(0, Ordering::SeqCst);
}

/// Holds the database while `work` runs, recording when, and how many held it at once.
fn holding<T>(shard: u64, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let now = HOLDING.fetch_add(1, Ordering::SeqCst) + 1;
    MOST.fetch_max(now, Ordering::SeqCst);
    let out = work();
    HOLDING.fetch_sub(1, Ordering::SeqCst);
    HELD.lock().unwrap().push((shard, started, Instant::now()));
    out
}

/// A migration: the `n`th to take the database says so, then waits for the upload of the
/// same turn to be running, which proves that station runs while the database is held.
#[station(resources = ["db"])]
fn migrate(shard: &u64) -> Result<u64, String> {
    holding(*shard, || {
        let turn = TURN.fetch_add(1, Ordering::SeqCst);
        post(format!("migrating {turn}"));
        match posted(&format!("uploading {turn}")) {
            true => Ok(*shard),
            false => Err(format!(
                "no upload ran while migration {turn} held the database"
            )),
        }
    })
}

/// An upload, which needs no database: it waits for the migration of its turn to start,
/// then says it runs.
#[station]
fn upload(turn: &usize) -> Result<usize, String> {
    if !posted(&format!("migrating {turn}")) {
        return Err(format!("migration {turn} never started"));
    }
    post(format!("uploading {turn}"));
    Ok(*turn)
}

/// The outputs of several nodes, as one.
#[station]
fn gather(shards: &[u64], turns: &[usize]) -> (Vec<u64>, usize) {
    (shards.to_vec(), turns.len())
}

/// The windows in which the database was held, in order, never overlap.
fn assert_one_at_a_time(expected: usize) {
    let mut held = HELD.lock().unwrap().clone();
    assert_eq!(held.len(), expected, "{held:?}");
    held.sort_by_key(|(_, started, _)| *started);
    for pair in held.windows(2) {
        assert!(
            pair[0].2 <= pair[1].1,
            "shards {} and {} held the database at once",
            pair[0].0,
            pair[1].0
        );
    }
    assert_eq!(MOST.load(Ordering::SeqCst), 1);
}

#[test]
fn stations_sharing_a_limit_of_one_never_overlap_while_others_run_beside_them() {
    let _serial = serial();
    reset();
    let tmp = crate::support::temp_store();
    let (g, all) = migrations_and_uploads();
    // Four uploads waiting and one migration: every other migration waits in the gate,
    // taking no worker, or the uploads could not all run.
    let run = Runner::new(&tmp.store)
        .jobs(5)
        .resource("db", 1)
        .run_graph(&g, all)
        .unwrap();
    assert_eq!(run.report().count(Status::Ran), 9);
    assert_eq!(*run.output(), (vec![0, 1, 2, 3], 4));
    assert_one_at_a_time(4);
}

#[station]
fn seed(shard: &u64) -> u64 {
    holding(*shard, || {
        std::thread::sleep(Duration::from_millis(5));
        *shard
    })
}

#[test]
fn the_builder_gives_nodes_a_resource_and_the_limit_keeps_them_apart() {
    let _serial = serial();
    reset();
    let tmp = crate::support::temp_store();
    let mut g = Graph::new();
    let seeded: Vec<Node<u64>> = (0..4u64)
        .map(|shard| {
            let shard = g.input(shard);
            let node = g.add(Seed, (&shard,));
            g.resources(&node, ["db"]);
            node
        })
        .collect();
    let all = g.add(Gather, (&seeded, &Vec::<Node<usize>>::new()));
    Runner::new(&tmp.store)
        .jobs(4)
        .resource("db", 1)
        .run_graph(&g, all)
        .unwrap();
    assert_one_at_a_time(4);
    assert_eq!(Station::resources(&Migrate), ["db"]);
    assert!(Station::resources(&Seed).is_empty());
}

static PAIR: Rendezvous = Rendezvous::new();

/// Two of these must run at once to finish.
#[station(resources = ["gpu"])]
fn train(model: &u64) -> Result<u64, String> {
    match PAIR.meet(2, PATIENCE) {
        true => Ok(*model),
        false => Err("no other training ran beside this one".to_owned()),
    }
}

#[test]
fn a_limit_above_one_and_no_limit_let_holders_run_together() {
    let _serial = serial();
    let graph = || {
        let mut g = Graph::new();
        let models: Vec<Node<u64>> = (0..2u64)
            .map(|model| {
                let model = g.input(model);
                g.add(Train, (&model,))
            })
            .collect();
        let all = g.add(Gather, (&models, &Vec::<Node<usize>>::new()));
        (g, all)
    };
    let tmp = crate::support::temp_store();
    let (g, models) = graph();
    let run = Runner::new(&tmp.store)
        .jobs(2)
        .resource("gpu", 2)
        .run_graph(&g, models);
    assert_eq!(run.unwrap().output().0, [0, 1]);

    let tmp = crate::support::temp_store();
    let (g, models) = graph();
    let run = Runner::new(&tmp.store).jobs(2).run_graph(&g, models);
    assert_eq!(run.unwrap().output().0, [0, 1], "no limit: not held back");
}

#[station]
fn shards(count: &u64) -> Vec<u64> {
    (0..*count).collect()
}

#[station(resources = ["db"])]
fn backfill(shard: &u64) -> u64 {
    holding(*shard, || {
        std::thread::sleep(Duration::from_millis(5));
        shard * 10
    })
}

#[test]
fn a_map_holding_a_resource_keeps_its_items_to_the_limit() {
    let _serial = serial();
    reset();
    let tmp = crate::support::temp_store();
    let mut g = Graph::new();
    let count = g.input(4u64);
    let list = g.add(Shards, (&count,));
    let filled = g.map(Backfill, &list, ());
    let run = Runner::new(&tmp.store)
        .jobs(4)
        .resource("db", 1)
        .run_graph(&g, filled)
        .unwrap();
    assert_eq!(run.output(), &[0, 10, 20, 30]);
    assert_one_at_a_time(4);
}

/// Four migrations and four uploads, gathered.
fn migrations_and_uploads() -> (Graph, Node<(Vec<u64>, usize)>) {
    let mut g = Graph::new();
    let migrations: Vec<Node<u64>> = (0..4u64)
        .map(|shard| {
            let shard = g.input(shard);
            g.add(Migrate, (&shard,))
        })
        .collect();
    let uploads: Vec<Node<usize>> = (0..4usize)
        .map(|turn| {
            let turn = g.input(turn);
            g.add(Upload, (&turn,))
        })
        .collect();
    let all = g.add(Gather, (&migrations, &uploads));
    (g, all)
}

#[test]
fn the_command_line_limits_a_resource_with_resource_name_n() {
    let _serial = serial();
    reset();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(".choochoo");
    let cli = |args: &[&str]| {
        let mut argv = vec!["deploy", "--store", store.to_str().unwrap(), "run", "-q"];
        argv.extend_from_slice(args);
        choochoo::cli::main_with_args(argv, migrations_and_uploads)
    };
    let refused = cli(&["--resource", "db=0"]);
    assert_eq!(refused, std::process::ExitCode::from(2));
    let ran = cli(&["--jobs", "5", "--resource", "db=1"]);
    assert_eq!(ran, std::process::ExitCode::SUCCESS);
    assert_one_at_a_time(4);
}
