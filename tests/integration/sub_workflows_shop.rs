//! A sub-workflow with cleans: a shop's database, role and grant provisioned by one, then
//! announced. `clean` undoes the inner stations last station first, as a log the cleans
//! write says, from the library and from the command line, which also names and draws them.

use crate::cli::{PROGRAM, Site};
use crate::support::temp_store;
use choochoo::{Runner, station, workflow};
use std::path::{Path, PathBuf};

/// Where the cleans write what they undo, one line each.
fn log(path: &Path, line: String) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(file, "{line}").unwrap();
}

#[station(clean = drop_database)]
fn create_database(name: &str, log_file: &Path) -> String {
    log(log_file, format!("create database {name}"));
    format!("db_{name}")
}

fn drop_database(name: &str, log_file: &Path, db: &String) {
    let _ = name;
    log(log_file, format!("drop database {db}"));
}

#[station(clean = drop_role)]
fn create_role(db: &str, log_file: &Path) -> String {
    log(log_file, format!("create role for {db}"));
    format!("{db}_owner")
}

fn drop_role(db: &str, log_file: &Path, role: &String) {
    let _ = db;
    log(log_file, format!("drop role {role}"));
}

#[station(clean = revoke)]
fn grant(role: &str, log_file: &Path) -> String {
    log(log_file, format!("grant {role}"));
    format!("{role} may connect")
}

fn revoke(role: &str, log_file: &Path, grant: &String) {
    let _ = grant;
    log(log_file, format!("revoke {role}"));
}

#[station(clean = retract)]
fn announce(access: &str, log_file: &Path) -> String {
    log(log_file, format!("announce {access}"));
    format!("ready: {access}")
}

fn retract(access: &str, log_file: &Path, announcement: &String) {
    let _ = (access, announcement);
    log(log_file, "retract the announcement".to_owned());
}

workflow! {
    /// A database, its owner role, and the grant that lets it connect.
    pub fn provision(name: String, log_file: PathBuf) -> String {
        let db = create_database(name, log_file);
        let role = create_role(db, log_file);
        grant(role, log_file)
    }
}

workflow! {
    /// The shop's database, provisioned by a sub-workflow, then announced.
    pub fn shop(log_file: PathBuf) -> String {
        let base = provision("shop", log_file);
        announce(base, log_file)
    }
}

#[test]
fn clean_undoes_a_sub_workflows_stations_last_station_first() {
    let tmp = temp_store();
    let log_file = tmp.dir.path().join("world.log");
    let runner = Runner::new(&tmp.store);
    let run = runner.run(shop(log_file.clone())).unwrap();
    assert_eq!(run.output(), "ready: db_shop_owner may connect");
    let cleaned = runner.clean(shop(log_file.clone())).unwrap();
    assert_eq!(
        cleaned.cleaned(),
        [
            "shop.output",
            "shop.base.output",
            "shop.base.role",
            "shop.base.db"
        ]
    );
    let lines = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        lines,
        [
            "create database shop",
            "create role for db_shop",
            "grant db_shop_owner",
            "announce db_shop_owner may connect",
            "retract the announcement",
            "revoke db_shop_owner",
            "drop role db_shop_owner",
            "drop database db_shop",
        ]
    );
}

#[test]
fn the_command_line_names_draws_and_cleans_a_sub_workflows_stations() {
    let site = Site::new().with(PROGRAM, "sub");
    site.expect(0, &["run"]);
    let status = site.expect(0, &["status"]).stdout;
    for node in [
        "shop.base.db",
        "shop.base.role",
        "shop.base.output",
        "shop.output",
    ] {
        assert!(status.contains(node), "{node} in\n{status}");
    }
    let graph = site.expect(0, &["graph", "--format", "mermaid"]).stdout;
    assert!(
        graph.contains("subgraph c0[\"base: provision\"]"),
        "{graph}"
    );

    // Cleaning the sub-workflow's call cleans its stations and what depends on them, the
    // last first.
    site.expect(0, &["clean", "--yes", "shop.base"]);
    let log = std::fs::read_to_string(site.path().join("world.log")).unwrap();
    let undone: Vec<&str> = log.lines().skip(4).collect();
    assert_eq!(
        undone,
        [
            "retract the announcement",
            "revoke db_shop_owner",
            "drop role db_shop_owner",
            "drop database db_shop",
        ]
    );
    let status = site.expect(0, &["status"]).stdout;
    assert!(!status.contains("cached"), "{status}");
    // Each reason names the station before it below the workflow's name.
    assert!(status.contains("runs again: after `base.db`"), "{status}");
    assert!(
        status.contains("runs again: after `base.output`"),
        "{status}"
    );
}
