//! The items of a map whose station has a check: each item's check is asked as a station's
//! is — on every run that would use its remembered result, as attempts, with its reason —
//! and a plan that asks checks asks each item's.

use crate::checks::{calls, set_fault, site, take_calls};
use choochoo::{Action, Checked, Graph, Node, Runner, Status, Transient, station};
use std::path::{Path, PathBuf};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn note(world: &Path, what: &str) {
    use std::io::Write;
    let log = world.parent().unwrap().join("calls.log");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    // One write, so that items noting at once do not interleave.
    file.write_all(format!("{what}\n").as_bytes()).unwrap();
}

/// Grants `user` access: a file under `grants/`.
#[station(check = granted, retries = 2, backoff = "1ms")]
fn grant(user: &String, world: &Path) -> std::io::Result<String> {
    note(world, &format!("grant {user}"));
    std::fs::create_dir_all(world.join("grants"))?;
    std::fs::write(world.join("grants").join(user), "read")?;
    Ok(format!("{user}: read"))
}

fn granted(user: &str, world: &Path, _grant: &str) -> Result<Checked, BoxError> {
    note(world, &format!("granted {user}"));
    let outage = world.join("faults").join(user);
    if let Ok(n) = std::fs::read_to_string(&outage) {
        let n: u32 = n.trim().parse()?;
        if n > 0 {
            std::fs::write(&outage, (n - 1).to_string())?;
            return Err(Transient::new(format!("cannot reach the directory for {user}")).into());
        }
    }
    Ok(match world.join("grants").join(user).exists() {
        true => Checked::Holds,
        false => Checked::drifted(format!("{user} has no grant")),
    })
}

/// Grants each user access, each item named by its user.
fn grants(users: Vec<String>, world: PathBuf) -> (Graph, Node<Vec<String>>) {
    let mut g = Graph::new();
    let users = g.input(users);
    let world = g.input(world);
    let access = g.map_named_by("access", Grant, &users, (&world,), |user| user.clone());
    (g, access)
}

fn users() -> Vec<String> {
    ["ana", "bo", "cy"].map(str::to_owned).to_vec()
}

#[test]
fn each_remembered_item_is_checked_and_a_drifted_one_runs_with_its_reason() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    let (g, access) = grants(users(), site.world.clone());
    runner.run_graph(&g, access).unwrap();
    take_calls(&site.world);

    // Nothing changed: the map is remembered, and each item's check still holds.
    let run = runner.run_graph(&g, access).unwrap();
    assert_eq!(
        take_calls(&site.world),
        calls(&[("granted ana", 1), ("granted bo", 1), ("granted cy", 1)])
    );
    let map = run.report().find("access").next().unwrap();
    assert_eq!(map.status(), Status::Cached, "{}", run.report());
    assert_eq!(run.report().count(Status::Cached), 4);

    // One item drifted: it alone runs, and says why.
    std::fs::remove_file(site.world.join("grants/bo")).unwrap();
    let plan = runner.plan_graph_checked(&g).unwrap();
    let lines: Vec<(&str, Action, Option<&str>)> = plan
        .entries()
        .iter()
        .map(|e| (e.node(), e.action(), e.reason()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "access",
                Action::Run,
                Some("the check of item `bo` found drift")
            ),
            ("access[ana]", Action::Cached, Some("its check holds")),
            (
                "access[bo]",
                Action::Run,
                Some("check failed: drift: bo has no grant")
            ),
            ("access[cy]", Action::Cached, Some("its check holds")),
        ]
    );
    assert!(
        plan.to_string().ends_with(
            "1 stations: 1 to run (1 drifted), 0 may run, 0 cached; \
             3 items: 1 to run (1 drifted), 2 cached"
        ),
        "{plan}"
    );
    take_calls(&site.world);
    let run = runner.run_graph(&g, access).unwrap();
    let bo = run.report().find("access[bo]").next().unwrap();
    assert_eq!(
        (bo.status(), bo.reason()),
        (Status::Ran, Some("check failed: drift: bo has no grant"))
    );
    assert_eq!(
        take_calls(&site.world),
        calls(&[
            ("granted ana", 1),
            ("granted bo", 2),
            ("granted cy", 1),
            ("grant bo", 1)
        ])
    );
}

#[test]
fn an_items_check_is_retried_and_an_item_whose_check_cannot_tell_fails() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    let (g, access) = grants(users(), site.world.clone());
    runner.run_graph(&g, access).unwrap();
    take_calls(&site.world);

    set_fault(&site.world, "ana", "2");
    set_fault(&site.world, "cy", "9");
    let error = runner.run_graph(&g, access).unwrap_err();
    let report = error.report().unwrap();
    let item = |name: &'static str| report.find(name).next().unwrap();
    assert_eq!(item("access[ana]").status(), Status::Cached);
    assert_eq!(
        item("access[ana]").reason(),
        Some("its check held on attempt 3")
    );
    assert_eq!(item("access[bo]").status(), Status::Cached);
    assert_eq!(item("access[cy]").status(), Status::Failed);
    assert_eq!(
        item("access[cy]").error(),
        Some("its check failed: cannot reach the directory for cy")
    );
    assert_eq!(item("access").status(), Status::Failed);
    assert_eq!(
        take_calls(&site.world),
        calls(&[("granted ana", 3), ("granted bo", 1), ("granted cy", 3)]),
        "two retries each, no visit"
    );
}
