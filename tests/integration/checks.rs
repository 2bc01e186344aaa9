//! Checks as attempts, with reasons: a check that errors is retried under its station's
//! policy and recorded in the ledger as a failed visit is (one observation of its
//! attempts), and a drift says why (`checks_plan.rs` asks checks in plans). The "world"
//! is a directory each test owns: a "database server" keeping roles, databases and assets
//! as files, and a `faults/` folder that makes a check fail (`transient N`: N times, then
//! not; `fatal`; `hang`). Every station and check notes its call in `calls.log` beside it.

use crate::support::temp_store;
use choochoo::{Checked, Runner, Status, Store, Transient, station, workflow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "s3cret";

/// Notes a call, in the log beside the world.
fn note(world: &Path, what: &str) {
    use std::io::Write;
    let log = world.parent().unwrap_or(Path::new(".")).join("calls.log");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    // One write, so that items noting at once do not interleave.
    file.write_all(format!("{what}\n").as_bytes()).unwrap();
}

/// Fails as `world/faults/<name>` says, if it says anything.
fn fault(world: &Path, name: &str) -> Result<(), BoxError> {
    let path = world.join("faults").join(name);
    let Ok(spec) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    match spec.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["transient", n] => {
            let n: u32 = n.parse()?;
            if n == 0 {
                return Ok(());
            }
            std::fs::write(&path, format!("transient {}", n - 1))?;
            let refused = "connection refused: the database server is down";
            Err(Transient::new(refused).into())
        }
        ["fatal"] => Err("permission denied for role checker".into()),
        ["hang"] => {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        }
        _ => Err(format!("a fault spec I do not know: {spec}").into()),
    }
}

/// Creates role `name` on the "database server": its password, where the server keeps it.
#[station(check = role_can_log_in, retries = 3, backoff = "1ms")]
fn create_role(world: &Path, name: &str) -> std::io::Result<String> {
    note(world, "create_role");
    std::fs::create_dir_all(world.join("roles"))?;
    std::fs::write(world.join("roles").join(name), PASSWORD)?;
    Ok(name.to_owned())
}

/// Logs in as the role: it holds, it drifted (and why), or it cannot tell.
fn role_can_log_in(world: &Path, name: &str, _role: &str) -> Result<Checked, BoxError> {
    note(world, "role_can_log_in");
    fault(world, "role")?;
    match std::fs::read_to_string(world.join("roles").join(name)) {
        Ok(password) if password == PASSWORD => Ok(Checked::Holds),
        Ok(_) => Ok(Checked::drifted(format!(
            "role {name} cannot log in (password changed?)"
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Ok(Checked::drifted(format!("role {name} is missing")))
        }
        Err(error) => Err(error.into()),
    }
}

/// Creates the database, owned by the role. Its check is a plain `bool`.
#[station(check = database_exists)]
fn create_database(world: &Path, role: &String) -> std::io::Result<PathBuf> {
    note(world, "create_database");
    std::fs::create_dir_all(world.join("db"))?;
    let db = world.join("db").join(format!("{role}.db"));
    std::fs::write(&db, "tables")?;
    Ok(db)
}

fn database_exists(world: &Path, _role: &str, db: &Path) -> bool {
    note(world, "database_exists");
    db.exists()
}

/// Migrates the database; no check.
#[station]
fn migrate(world: &Path, db: &PathBuf) -> std::io::Result<u64> {
    note(world, "migrate");
    std::fs::write(db.with_extension("schema"), "v3")?;
    Ok(3)
}

/// Publishes the shop's pages; its check returns `Result<bool, E>`, and has no retries of
/// its own.
#[station(check = assets_published)]
fn publish_assets(world: &Path) -> std::io::Result<PathBuf> {
    note(world, "publish_assets");
    std::fs::create_dir_all(world.join("assets"))?;
    let index = world.join("assets").join("index.html");
    std::fs::write(&index, "<h1>shop</h1>")?;
    Ok(index)
}

fn assets_published(world: &Path, index: &Path) -> Result<bool, BoxError> {
    note(world, "assets_published");
    fault(world, "assets")?;
    Ok(index.exists())
}

workflow! {
    /// The shop: a role, its database and migration, and the pages beside them.
    pub fn shop(world: PathBuf) -> (u64, PathBuf) {
        let role = create_role(world, "shop");
        let db = create_database(world, role);
        let schema = migrate(world, db);
        let assets = publish_assets(world);
        (schema, assets)
    }
}

/// A directory for the world, and the store beside it.
pub struct Site {
    pub tmp: crate::support::TempStore,
    pub world: PathBuf,
}

pub fn site() -> Site {
    let tmp = temp_store();
    let world = tmp.dir.path().join("world");
    std::fs::create_dir_all(&world).unwrap();
    Site { tmp, world }
}

/// Makes the check of `station` (`role`, `assets`) fail as `spec` says.
pub fn set_fault(world: &Path, station: &str, spec: &str) {
    std::fs::create_dir_all(world.join("faults")).unwrap();
    std::fs::write(world.join("faults").join(station), spec).unwrap();
}

/// The calls noted since the last time, by name, and forgets them.
pub fn take_calls(world: &Path) -> BTreeMap<String, usize> {
    let log = world.parent().unwrap().join("calls.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        *calls.entry(line.to_owned()).or_default() += 1;
    }
    calls
}

pub fn calls(items: &[(&str, usize)]) -> BTreeMap<String, usize> {
    items.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

/// The report's entry of the station labelled `name`.
pub fn entry<'r>(report: &'r choochoo::Report, name: &'r str) -> &'r choochoo::Entry {
    report.find(name).next().unwrap()
}

/// The ledger's observations of `node`, in the order they were made.
fn observations_of(store: &Store, node: &str) -> Vec<choochoo::Observation> {
    let mut found: Vec<choochoo::Observation> = store
        .defects()
        .unwrap()
        .iter()
        .flat_map(|defect| store.observations(defect.id()).unwrap())
        .filter(|observation| observation.node() == node)
        .collect();
    found.sort_by_key(|observation| observation.id());
    found
}

#[test]
fn a_check_erroring_twice_then_holding_is_asked_three_times_and_its_station_is_cached() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    runner.run(shop(site.world.clone())).unwrap();
    take_calls(&site.world);

    set_fault(&site.world, "role", "transient 2");
    let run = runner.run(shop(site.world.clone())).unwrap();
    assert_eq!(
        take_calls(&site.world),
        calls(&[
            ("role_can_log_in", 3),
            ("database_exists", 1),
            ("assets_published", 1)
        ]),
        "the check is asked three times, and no visit runs"
    );
    let role = entry(run.report(), "role");
    assert_eq!(role.status(), Status::Cached);
    assert_eq!(role.reason(), Some("its check held on attempt 3"));
    assert_eq!(run.report().count(Status::Cached), 4);

    // The check's attempts went into the ledger as a visit's do: one observation of three
    // attempts, the first two failed, recovered by the third.
    let observed = observations_of(&site.tmp.store, "shop.role");
    let [observation] = &observed[..] else {
        panic!("one observation, not {observed:#?}");
    };
    assert_eq!(
        observation.message(),
        "its check failed: connection refused: the database server is down"
    );
    assert_eq!(observation.chain()[0], "its check failed");
    assert_eq!(observation.run(), run.report().run_id());
    assert_eq!(
        observation.input_values()[1],
        ("name".into(), "\"shop\"".into())
    );
    assert_eq!(observation.attempts(), 3);
    assert!(observation.recovered());
    let failed: Vec<u32> = observation
        .failed_attempts()
        .iter()
        .map(|a| a.attempt())
        .collect();
    assert_eq!(failed, [1, 2]);
    let defect = site
        .tmp
        .store
        .defect(observation.defect())
        .unwrap()
        .unwrap();
    assert_eq!(
        (defect.count(), defect.recovered(), defect.blocked()),
        (1, 1, 0)
    );
}

#[test]
fn the_runs_retries_override_reaches_a_check() {
    let site = site();
    Runner::new(&site.tmp.store)
        .run(shop(site.world.clone()))
        .unwrap();
    set_fault(&site.world, "assets", "transient 2");
    take_calls(&site.world);
    // `publish_assets` has no retries of its own: the run gives it two.
    let run = Runner::new(&site.tmp.store)
        .retries("assets", 2)
        .backoff("assets", Duration::from_millis(1))
        .run(shop(site.world.clone()))
        .unwrap();
    assert_eq!(take_calls(&site.world)["assets_published"], 3);
    assert_eq!(entry(run.report(), "assets").status(), Status::Cached);

    // Without it, the first error fails the station.
    set_fault(&site.world, "assets", "transient 1");
    let error = Runner::new(&site.tmp.store)
        .run(shop(site.world.clone()))
        .unwrap_err();
    let assets = entry(error.report().unwrap(), "assets");
    assert_eq!(assets.status(), Status::Failed);
    assert_eq!(take_calls(&site.world)["assets_published"], 1);
}

#[test]
fn a_check_that_cannot_tell_fails_its_station_blocks_its_dependents_and_is_observed() {
    let site = site();
    let runner = Runner::new(&site.tmp.store).keep_going(true);
    runner.run(shop(site.world.clone())).unwrap();
    take_calls(&site.world);

    set_fault(&site.world, "role", "fatal");
    let error = runner.run(shop(site.world.clone())).unwrap_err();
    let report = error.report().unwrap();
    let role = entry(report, "role");
    assert_eq!(role.status(), Status::Failed, "{report}");
    assert_eq!(
        role.error(),
        Some("its check failed: permission denied for role checker")
    );
    assert_eq!(entry(report, "db").status(), Status::Blocked);
    assert_eq!(entry(report, "schema").status(), Status::Blocked);
    assert_eq!(entry(report, "assets").status(), Status::Cached);
    assert_eq!(
        take_calls(&site.world),
        calls(&[("role_can_log_in", 1), ("assets_published", 1)]),
        "not transient: asked once, in spite of `retries = 3`, and the visit is not run"
    );
    let observed = observations_of(&site.tmp.store, "shop.role");
    assert_eq!(observed.len(), 1);
    assert_eq!(
        observed[0].blocked(),
        2,
        "it blocked the database and the migration"
    );
    assert_eq!(
        (observed[0].attempts(), observed[0].recovered()),
        (1, false)
    );
    let line = report.to_string();
    assert!(
        line.contains("  failed  role (") && !line.contains("cached  role"),
        "{line}"
    );
    assert_eq!(
        site.tmp.store.report(None).unwrap().unwrap().entries()[0].status(),
        Status::Failed,
        "the stored run says so too"
    );
}

#[test]
fn a_check_erroring_past_its_retries_is_one_observation_of_every_attempt_not_recovered() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    runner.run(shop(site.world.clone())).unwrap();
    take_calls(&site.world);

    set_fault(&site.world, "role", "transient 9");
    let error = runner.run(shop(site.world.clone())).unwrap_err();
    let report = error.report().unwrap();
    assert_eq!(entry(report, "role").status(), Status::Failed, "{report}");
    assert_eq!(entry(report, "db").status(), Status::Blocked);
    assert_eq!(
        take_calls(&site.world)["role_can_log_in"],
        4,
        "the first and 3 retries"
    );
    let observed = observations_of(&site.tmp.store, "shop.role");
    let [observation] = &observed[..] else {
        panic!("one observation, not {observed:#?}");
    };
    assert_eq!(
        (observation.attempts(), observation.recovered()),
        (4, false)
    );
    assert_eq!(observation.failed_attempts().len(), 4);
}

#[test]
fn a_check_over_its_time_limit_fails_the_attempt() {
    let site = site();
    Runner::new(&site.tmp.store)
        .run(shop(site.world.clone()))
        .unwrap();
    set_fault(&site.world, "assets", "hang");
    let started = std::time::Instant::now();
    let error = Runner::new(&site.tmp.store)
        .timeout("assets", Duration::from_millis(100))
        .run(shop(site.world.clone()))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1_500));
    let assets = entry(error.report().unwrap(), "assets");
    assert_eq!(assets.error(), Some("timed out after 100ms"));
}

#[test]
fn a_drift_says_why_in_the_report() {
    let site = site();
    let runner = Runner::new(&site.tmp.store);
    runner.run(shop(site.world.clone())).unwrap();
    std::fs::write(site.world.join("roles/shop"), "changed by hand").unwrap();
    std::fs::remove_file(site.world.join("db/shop.db")).unwrap();
    take_calls(&site.world);

    let run = runner.run(shop(site.world.clone())).unwrap();
    let role = entry(run.report(), "role");
    assert_eq!(
        (role.status(), role.reason()),
        (
            Status::Ran,
            Some("check failed: drift: role shop cannot log in (password changed?)")
        )
    );
    // A `bool` check drifts without a reason, as it always did.
    assert_eq!(
        entry(run.report(), "db").reason(),
        Some("check failed: drift")
    );
    let text = run.report().to_string();
    assert!(
        text.contains("ran  role (") && text.contains("cannot log in (password changed?)"),
        "{text}"
    );
    assert_eq!(
        take_calls(&site.world),
        calls(&[
            ("create_role", 1),
            ("role_can_log_in", 2),
            ("create_database", 1),
            ("database_exists", 2),
            ("assets_published", 1)
        ])
    );
}

/// A visit that never does what its check asks for, and the check says why.
#[station(check = never_reachable)]
fn open_port(port: &u16) -> u16 {
    *port
}

fn never_reachable(port: &u16, _open: &u16) -> Checked {
    Checked::drifted(format!("nothing listens on port {port}"))
}

workflow! {
    pub fn listen(port: u16) -> u16 {
        open_port(port)
    }
}

#[test]
fn a_drift_after_the_visit_is_in_the_error_and_the_ledger_with_its_reason() {
    let tmp = temp_store();
    let error = Runner::new(&tmp.store).run(listen(8080)).unwrap_err();
    let failed = &error.report().unwrap().entries()[0];
    let message = failed.error().unwrap();
    assert!(
        message.starts_with("work required after visit: `listen.output` ran")
            && message.contains("(check failed: drift: nothing listens on port 8080)"),
        "{message}"
    );
    let observed = observations_of(&tmp.store, "listen.output");
    assert_eq!(observed.len(), 1);
    assert_eq!(observed[0].message(), message);
}
