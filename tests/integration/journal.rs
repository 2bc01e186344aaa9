//! The run's journal (`runs/<id>` in the store), which names what a killed run was doing:
//! a station that may act on the world is in it before it acts — one with a check from its
//! first line, any other once it starts a program — so a kill at that moment names it.

use choochoo::{Ctx, Runner, station, workflow};
use std::path::{Path, PathBuf};

/// The stations run 1's journal names as started and not ended, as the next open of the
/// store would read them if the run were killed now.
fn started_not_ended(store: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(store.join("runs").join("1")).unwrap_or_default();
    let mut running = Vec::new();
    for line in text.lines() {
        let (sign, node) = line.split_at(1);
        let node: String = serde_json::from_str(node).unwrap();
        match sign {
            "+" => running.push(node),
            _ => running.retain(|other| *other != node),
        }
    }
    running
}

/// Starts a program, then says what the journal names at that moment.
#[station]
fn launch(ctx: &Ctx, store: &PathBuf) -> std::io::Result<Vec<String>> {
    ctx.command("true").run()?;
    Ok(started_not_ended(store))
}

/// A station with a check: says what the journal names as its body begins.
#[station(check = always_holds)]
fn provision(store: &PathBuf) -> Vec<String> {
    started_not_ended(store)
}

fn always_holds(_store: &Path, _seen: &[String]) -> bool {
    true
}

workflow! {
    fn launching(store: PathBuf) -> Vec<String> { launch(store) }
}

workflow! {
    fn provisioning(store: PathBuf) -> Vec<String> { provision(store) }
}

#[test]
fn a_station_that_starts_a_program_is_in_the_journal_before_the_program_runs() {
    let tmp = crate::support::temp_store();
    let store = tmp.store.dir().to_owned();
    let named = Runner::new(&tmp.store).run(launching(store)).unwrap();
    assert_eq!(named.into_output(), ["launching.output"]);
}

#[test]
fn a_station_with_a_check_is_in_the_journal_before_its_body_runs() {
    let tmp = crate::support::temp_store();
    let store = tmp.store.dir().to_owned();
    let named = Runner::new(&tmp.store).run(provisioning(store)).unwrap();
    assert_eq!(named.into_output(), ["provisioning.output"]);
}
