//! Checks on the command line, as an operator meets them: `plan --check` and
//! `status --check` show a drift and the stations that would run because of it, changing
//! nothing in the store or the world; `run -v`, `status` and the HTML report show a check's
//! reason, and a check that cannot tell as `failed` until it holds again. The program is the
//! shop of `checks.rs`, its world in `world/` beside the store.

use crate::checks::{calls, set_fault, take_calls};
use crate::checks_plan::{changed, tree};
use crate::cli::{PROGRAM, Site};
use std::collections::BTreeMap;
use std::path::Path;

const DRIFT: &str = "check failed: drift: role shop cannot log in (password changed?)";

fn site() -> Site {
    let site = Site::new().with(PROGRAM, "checks");
    std::fs::create_dir_all(site.path().join("world")).unwrap();
    site
}

/// The STATE column of `status`, by station.
fn states(status: &str) -> BTreeMap<String, String> {
    status
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let state = words.next()?;
            let station = words.find(|word| word.starts_with("shop."))?;
            Some((station.to_owned(), state.to_owned()))
        })
        .collect()
}

/// The line of `text` that names `station`, trimmed.
fn line_of<'t>(text: &'t str, station: &str) -> &'t str {
    text.lines()
        .find(|line| {
            line.split_whitespace()
                .any(|word| word.trim_end_matches(':') == station)
        })
        .map_or("", str::trim)
}

#[test]
fn plan_check_and_status_check_show_the_drift_and_its_cone_and_change_nothing() {
    let site = site();
    let world = site.path().join("world");
    site.expect(0, &["run"]);
    std::fs::write(world.join("roles/shop"), "changed by hand").unwrap();
    let store = site.path().join(".choochoo");
    let after_run = tree(&store);
    take_calls(&world);

    let plan = site.expect(0, &["plan"]).stdout;
    assert!(
        plan.contains("4 stations: 0 to run, 0 may run, 4 cached"),
        "without --check nothing is asked: {plan}"
    );
    assert_eq!(take_calls(&world), calls(&[]));
    // Opening a store whose last user has closed it rebuilds SQLite's shared-memory index,
    // `store.db-shm`, from the log: a change counter, checksums and readers' marks, none of
    // the store's data (a read-only connection rebuilds it too, so opening the database
    // read-only would not spare it). `store.db` and its log are untouched; from here on
    // every byte of the store counts, the index included.
    let (store_before, world_before) = (tree(&store), tree(&world));
    let rebuilt = changed(&after_run, &store_before);
    assert!(
        rebuilt.iter().all(|path| path.ends_with("store.db-shm")),
        "{rebuilt:?}"
    );

    let plan = site.expect(0, &["plan", "--check"]).stdout;
    let lines: Vec<&str> = plan.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            format!("run  role: {DRIFT}").as_str(),
            "may run  db: after `role`",
            "may run  schema: after `db`",
            "cached  assets: its check holds",
            "4 stations: 1 to run (1 drifted), 2 may run, 1 cached",
        ],
        "{plan}"
    );
    assert_eq!(
        take_calls(&world),
        calls(&[("role_can_log_in", 1), ("assets_published", 1)])
    );
    let json: serde_json::Value = serde_json::from_str(
        &site
            .expect(0, &["plan", "--check", "--format", "json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(json["stations"][0]["drifted"], true);
    assert_eq!(json["stations"][0]["reason"], DRIFT);
    assert_eq!(json["counts"]["drifted"], 1);

    let status = site.expect(0, &["status", "--check"]).stdout;
    let expected: BTreeMap<String, String> = [
        ("shop.role", "drifted"),
        ("shop.db", "stale"),
        ("shop.schema", "stale"),
        ("shop.assets", "cached"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    assert_eq!(states(&status), expected, "{status}");
    assert!(
        line_of(&status, "shop.role").ends_with(&format!("runs again: {DRIFT}")),
        "{status}"
    );
    assert_eq!(
        states(&site.expect(0, &["status"]).stdout)["shop.role"],
        "cached",
        "without --check, status cannot see it"
    );

    // Every byte of the store and of the world is as it was, after four more commands that
    // each opened the store, asked the checks and closed it.
    assert_eq!(
        changed(&store_before, &tree(&store)),
        Vec::<&Path>::new(),
        "the store is as it was"
    );
    assert!(tree(&world) == world_before, "the world is as it was");

    let run = site.expect(0, &["run", "-v"]).stdout;
    assert!(
        line_of(&run, "shop.role").starts_with("ran  shop.role (")
            && line_of(&run, "shop.role").ends_with(DRIFT),
        "{run}"
    );
    assert_eq!(
        line_of(&run, "shop.assets"),
        "cached  shop.assets: its check holds"
    );
    site.expect(0, &["report", "--out", "report.html"]);
    let page = std::fs::read_to_string(site.path().join("report.html")).unwrap();
    assert!(
        page.contains("role shop cannot log in (password changed?)"),
        "the report says why"
    );
}

#[test]
fn a_check_that_cannot_tell_is_failed_in_run_and_status_until_it_holds_again() {
    let site = site();
    let world = site.path().join("world");
    site.expect(0, &["run"]);
    set_fault(&world, "role", "fatal");

    let failed = site.expect(1, &["run", "-v"]);
    assert!(
        line_of(&failed.stdout, "shop.role").starts_with("failed  shop.role"),
        "{}",
        failed.stdout
    );
    assert!(
        line_of(&failed.stdout, "shop.db").starts_with("blocked  shop.db"),
        "{}",
        failed.stdout
    );
    assert!(
        failed
            .stderr
            .contains("its check failed: permission denied for role checker"),
        "{}",
        failed.stderr
    );

    for args in [&["status"][..], &["status", "--check"]] {
        let status = site.expect(0, args).stdout;
        assert_eq!(states(&status)["shop.role"], "failed", "{status}");
        assert!(
            line_of(&status, "shop.role").contains("permission denied for role checker"),
            "{status}"
        );
    }

    // The database server is back: the check holds, and `status` says so.
    std::fs::remove_file(world.join("faults/role")).unwrap();
    let run = site.expect(0, &["run", "-v"]).stdout;
    assert_eq!(
        line_of(&run, "shop.role"),
        "cached  shop.role: its check holds",
        "{run}"
    );
    let status = site.expect(0, &["status"]).stdout;
    assert_eq!(states(&status)["shop.role"], "cached", "{status}");
}
