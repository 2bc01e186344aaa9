//! Plans that ask checks: `plan_checked` sees a drift and the stations that would run
//! because of it before anything acts on it, asking each remembered station's check once
//! and changing nothing in the store or the world; a check that cannot tell makes its
//! station `unknown`. The shop and its world are those of `checks.rs`.

use crate::checks::{calls, entry, set_fault, shop, site, take_calls};
use choochoo::{Action, Runner, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file and directory under `dir`, with the bytes of each file.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                found.insert(path.clone(), None);
                stack.push(path);
            } else {
                found.insert(path.clone(), Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

/// The paths whose entry differs between two trees.
pub fn changed<'t>(
    before: &'t BTreeMap<PathBuf, Option<Vec<u8>>>,
    after: &'t BTreeMap<PathBuf, Option<Vec<u8>>>,
) -> Vec<&'t Path> {
    before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .map(PathBuf::as_path)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn plan_checked_sees_the_drift_and_its_cone_and_changes_nothing() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    runner.run(shop(site.world.clone())).unwrap();
    std::fs::write(site.world.join("roles/shop"), "changed by hand").unwrap();
    take_calls(&site.world);

    // A plan without checks cannot see it.
    let plan = runner.plan(shop(site.world.clone())).unwrap();
    assert_eq!(plan.with_action(Action::Cached).count(), 4);
    assert_eq!(plan.entries()[0].reason(), Some("if its check still holds"));
    assert_eq!(take_calls(&site.world), calls(&[]), "no check is asked");

    // Every byte of the store, taken after a read: the first read after a write records,
    // in SQLite's shared-memory file (`store.db-shm`), the end of the log it reads up to —
    // the lock state of readers, not the store's data, and not avoided by opening the
    // database read-only (a reader in WAL mode still takes its mark). From here on, what
    // a plan changes is what it writes.
    let (store_before, world_before) = (tree(site.tmp.store.dir()), tree(&site.world));

    let plan = runner.plan_checked(shop(site.world.clone())).unwrap();
    let lines: Vec<(&str, Action, Option<&str>, bool)> = plan
        .entries()
        .iter()
        .map(|e| (e.label().unwrap(), e.action(), e.reason(), e.drifted()))
        .collect();
    let drift = "check failed: drift: role shop cannot log in (password changed?)";
    assert_eq!(
        lines,
        [
            ("role", Action::Run, Some(drift), true),
            ("db", Action::MayRun, Some("after `role`"), false),
            ("schema", Action::MayRun, Some("after `db`"), false),
            ("assets", Action::Cached, Some("its check holds"), false),
        ]
    );
    assert!(
        plan.to_string()
            .ends_with("4 stations: 1 to run (1 drifted), 2 may run, 1 cached"),
        "{plan}"
    );
    assert_eq!(
        take_calls(&site.world),
        calls(&[("role_can_log_in", 1), ("assets_published", 1)]),
        "each remembered station's check is asked once; the cone's are not needed"
    );
    let after = tree(site.tmp.store.dir());
    assert_eq!(
        changed(&store_before, &after),
        Vec::<&Path>::new(),
        "the store is as it was"
    );
    assert!(tree(&site.world) == world_before, "the world is as it was");

    // And what it said is what a run does.
    let run = runner.run(shop(site.world.clone())).unwrap();
    assert_eq!(entry(run.report(), "role").reason(), Some(drift));
    assert_eq!(entry(run.report(), "assets").status(), Status::Cached);
}

#[test]
fn plan_checked_says_when_a_check_cannot_tell() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    runner.run(shop(site.world.clone())).unwrap();
    set_fault(&site.world, "role", "transient 5");
    let plan = runner.plan_checked(shop(site.world.clone())).unwrap();
    let role = &plan.entries()[0];
    assert_eq!(role.action(), Action::Unknown);
    assert_eq!(
        role.reason(),
        Some("its check failed: connection refused: the database server is down")
    );
    assert_eq!(plan.entries()[1].action(), Action::MayRun);
    assert!(
        plan.to_string()
            .contains(" unknown  role: its check failed"),
        "{plan}"
    );
    assert!(plan.to_string().ends_with(", 1 unknown"), "{plan}");
    assert_eq!(
        std::fs::read_to_string(site.world.join("faults/role")).unwrap(),
        "transient 4",
        "asked once, not retried"
    );

    // The run's time limit for a station bounds its check in a plan too.
    set_fault(&site.world, "assets", "hang");
    let started = std::time::Instant::now();
    let plan = Runner::new(&site.tmp.store)
        .timeout("assets", std::time::Duration::from_millis(100))
        .plan_checked(shop(site.world.clone()))
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500));
    let assets = plan.entries().iter().find(|e| e.label() == Some("assets"));
    let assets = assets.unwrap();
    assert_eq!(
        (assets.action(), assets.reason()),
        (Action::Unknown, Some("timed out after 100ms"))
    );
}
