//! Stations that change the world: check / visit / re-check, clean, replay, plans, profiles,
//! retries and time limits. The "world" is a directory of files each test owns.

use crate::support::{called, counts, executed, serial, take_calls, take_executions, temp_store};
use choochoo::{Action, Ctx, Runner, Status, Transient, station, workflow};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Creates a "database": a file in the world directory.
#[station(check = db_exists, clean = drop_db)]
fn create_db(world: &PathBuf, name: &String) -> Result<PathBuf, std::io::Error> {
    executed("create_db");
    called("create_db");
    let path = world.join(format!("{name}.db"));
    std::fs::write(&path, "tables")?;
    Ok(path)
}

/// Checks take their inputs as plain references, so `&Path` and `&str` work too.
fn db_exists(_world: &Path, _name: &str, db: &Path) -> bool {
    executed("db_exists");
    db.exists()
}

fn drop_db(_world: &Path, _name: &str, db: &Path) -> Result<(), std::io::Error> {
    called("drop_db");
    std::fs::remove_file(db)
}

static LINK_CLEAN_FAILS: AtomicBool = AtomicBool::new(false);

/// Links the app to the database: a file naming it. Keeps a note in its own directory.
#[station(check = app_linked, clean = unlink_app)]
fn link_app(ctx: &Ctx, world: &PathBuf, db: &PathBuf) -> Result<PathBuf, std::io::Error> {
    executed("link_app");
    called("link_app");
    std::fs::write(ctx.out_dir().join("note.txt"), "linked at boot")?;
    let link = world.join("app.link");
    std::fs::write(&link, db.display().to_string())?;
    Ok(link)
}

fn app_linked(_world: &Path, db: &Path, link: &Path) -> Result<bool, std::io::Error> {
    executed("app_linked");
    match std::fs::read_to_string(link) {
        Ok(target) => Ok(target == db.display().to_string()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

fn unlink_app(_world: &Path, _db: &Path, link: &Path) -> Result<(), String> {
    called("unlink_app");
    if LINK_CLEAN_FAILS.load(Ordering::SeqCst) {
        return Err("the app refuses to let go".into());
    }
    std::fs::remove_file(link).map_err(|e| e.to_string())
}

/// Announces the deployment; a pure station, no check.
#[station(clean = forget_notice)]
fn notify(link: &PathBuf) -> String {
    executed("notify");
    called("notify");
    format!("deployed via {}", link.display())
}

fn forget_notice(_link: &Path, _notice: &str) {
    called("forget_notice");
}

workflow! {
    pub fn deploy(world: PathBuf, name: String) -> String {
        let db = create_db(world, name);
        let link = link_app(world, db);
        notify(link)
    }
}

fn world(tmp: &crate::support::TempStore) -> PathBuf {
    let world = tmp.dir.path().join("world");
    std::fs::create_dir_all(&world).unwrap();
    world
}

#[test]
fn check_and_visit_truth_table() {
    let _serial = serial();
    let tmp = temp_store();
    let world = world(&tmp);
    let runner = Runner::new(&tmp.store);
    let run = || runner.run(deploy(world.clone(), "shop".into()));

    // No record: visit, then the check confirms the visit.
    run().unwrap();
    assert_eq!(
        take_executions(),
        counts(&[
            ("create_db", 1),
            ("db_exists", 1),
            ("link_app", 1),
            ("app_linked", 1),
            ("notify", 1)
        ])
    );

    // Record and the world agrees: cached, only the checks are asked.
    let again = run().unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("db_exists", 1), ("app_linked", 1)])
    );
    assert_eq!(again.report().count(Status::Cached), 3);

    // The world drifted (someone dropped the database): visit again, then check again.
    std::fs::remove_file(world.join("shop.db")).unwrap();
    let drifted = run().unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("create_db", 1), ("db_exists", 2), ("app_linked", 1)])
    );
    let entry = drifted.report().find("db").next().unwrap();
    assert_eq!(
        (entry.status(), entry.reason()),
        (Status::Ran, Some("check failed: drift"))
    );
    assert!(world.join("shop.db").exists());
}

/// A visit that does not do what its check asks for.
#[station(check = never_there)]
fn forgetful(x: &u64) -> u64 {
    executed("forgetful");
    *x
}

fn never_there(_x: &u64, _out: &u64) -> bool {
    executed("never_there");
    false
}

#[station]
fn after_forgetful(x: &u64) -> u64 {
    executed("after_forgetful");
    *x
}

workflow! {
    pub fn wrong_logic(x: u64) -> u64 {
        let f = forgetful(x);
        after_forgetful(f)
    }
}

#[test]
fn a_check_that_fails_after_the_visit_is_a_distinct_error_and_nothing_is_recorded() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    for _ in 0..2 {
        let error = runner.run(wrong_logic(1)).unwrap_err();
        let report = error.report().unwrap();
        let failed = report.find("f").next().unwrap();
        assert_eq!(failed.status(), Status::Failed);
        assert!(
            failed
                .error()
                .unwrap()
                .starts_with("work required after visit"),
            "{:?}",
            failed.error()
        );
        assert_eq!(
            report.find("output").next().unwrap().status(),
            Status::Blocked
        );
        // No record was written: the second time round, the visit runs again.
        assert_eq!(
            take_executions(),
            counts(&[("forgetful", 1), ("never_there", 1)])
        );
    }
}

#[test]
fn clean_runs_in_reverse_order_records_evidence_first_and_forgets() {
    let _serial = serial();
    let tmp = temp_store();
    let world = world(&tmp);
    let runner = Runner::new(&tmp.store);
    let run = runner.run(deploy(world.clone(), "shop".into())).unwrap();
    let link_node = run.report().find("link").next().unwrap().node().to_owned();
    take_calls();
    take_executions();

    let cleaned = runner.clean(deploy(world.clone(), "shop".into())).unwrap();
    assert_eq!(take_calls(), ["forget_notice", "unlink_app", "drop_db"]);
    assert_eq!(cleaned.cleaned().len(), 3);
    assert!(!world.join("shop.db").exists() && !world.join("app.link").exists());
    assert!(
        !tmp.store
            .dir()
            .join("work/default")
            .join(&link_node)
            .exists()
    );

    // What was destroyed was written down first: the note in the station's directory.
    let evidence = tmp.store.evidence(&link_node).unwrap();
    let evidence: serde_json::Value = serde_json::from_str(&evidence[0]).unwrap();
    assert_eq!(evidence["files"][0]["path"], "note.txt");
    assert_eq!(evidence["files"][0]["size"], 14);
    assert_eq!(
        evidence["output"],
        world.join("app.link").display().to_string()
    );

    // Nothing is remembered any more: everything runs again.
    runner.run(deploy(world.clone(), "shop".into())).unwrap();
    assert_eq!(take_executions()["create_db"], 1);
}

#[test]
fn a_failing_clean_stops_and_says_what_was_and_was_not_cleaned() {
    let _serial = serial();
    let tmp = temp_store();
    let world = world(&tmp);
    let runner = Runner::new(&tmp.store);
    runner.run(deploy(world.clone(), "shop".into())).unwrap();
    take_calls();
    LINK_CLEAN_FAILS.store(true, Ordering::SeqCst);
    let error = runner
        .clean(deploy(world.clone(), "shop".into()))
        .unwrap_err();
    LINK_CLEAN_FAILS.store(false, Ordering::SeqCst);
    let cleaned = error
        .cleaned()
        .expect("a clean error says what was cleaned");
    assert_eq!(cleaned.cleaned(), ["deploy.output"]);
    assert_eq!(
        cleaned.failed(),
        Some(("deploy.link", "the app refuses to let go"))
    );
    assert_eq!(cleaned.not_cleaned(), ["deploy.db"]);
    assert_eq!(
        error.to_string(),
        "cleaning `deploy.link` failed: the app refuses to let go; cleaned 1: deploy.output; not cleaned: deploy.db"
    );
    assert_eq!(take_calls(), ["forget_notice", "unlink_app"]);
    // The stations not cleaned keep their records: the database is still remembered.
    take_executions();
    runner.run(deploy(world.clone(), "shop".into())).unwrap();
    let executed = take_executions();
    assert_eq!(executed.get("create_db"), None);
    assert_eq!(executed.get("notify"), Some(&1));
}

mod chain {
    use super::*;

    #[station]
    pub fn first(x: &u64) -> u64 {
        executed("first");
        x + 1
    }

    #[station]
    pub fn second(ctx: &Ctx, x: &u64) -> Result<u64, std::io::Error> {
        executed("second");
        std::fs::write(ctx.out_dir().join("second.txt"), x.to_string())?;
        Ok(x * 2)
    }

    #[station]
    pub fn third(x: &u64) -> u64 {
        executed("third");
        x + 3
    }

    #[station]
    pub fn fourth(x: &u64) -> u64 {
        executed("fourth");
        x * 4
    }

    workflow! {
        pub fn chain(x: u64) -> u64 {
            let a = first(x);
            let b = second(a);
            let c = third(b);
            fourth(c)
        }
    }
}

#[test]
fn force_reruns_the_named_stations_and_force_downstream_their_cone() {
    let _serial = serial();
    let tmp = temp_store();
    Runner::new(&tmp.store).run(chain::chain(1)).unwrap();
    take_executions();

    let run = Runner::new(&tmp.store)
        .force(["b"])
        .run(chain::chain(1))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("second", 1)]),
        "same output: dependents stay cached"
    );
    assert_eq!(
        run.report().find("b").next().unwrap().reason(),
        Some("forced")
    );

    Runner::new(&tmp.store)
        .force_downstream(["b"])
        .run(chain::chain(1))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("second", 1), ("third", 1), ("fourth", 1)])
    );

    // A station's function name forces every node of it.
    Runner::new(&tmp.store)
        .force(["third"])
        .run(chain::chain(1))
        .unwrap();
    assert_eq!(take_executions(), counts(&[("third", 1)]));

    let error = Runner::new(&tmp.store)
        .force(["nope"])
        .run(chain::chain(1))
        .unwrap_err();
    assert!(
        error.to_string().contains("no station is named `nope`"),
        "{error}"
    );
}

#[test]
fn deleting_a_stations_directory_replays_it() {
    let _serial = serial();
    let tmp = temp_store();
    let run = Runner::new(&tmp.store).run(chain::chain(1)).unwrap();
    take_executions();
    // `second` wrote into its directory: deleting the directory replays it (the seed demo's
    // "replay the last steps"); its output is the same, so nothing after it runs.
    let dir = tmp
        .store
        .dir()
        .join("work/default")
        .join(run.report().find("b").next().unwrap().node());
    std::fs::remove_dir_all(&dir).unwrap();
    let run = Runner::new(&tmp.store).run(chain::chain(1)).unwrap();
    assert_eq!(take_executions(), counts(&[("second", 1)]));
    assert_eq!(
        run.report().find("b").next().unwrap().reason(),
        Some("its directory was deleted")
    );
    assert!(dir.join("second.txt").exists());
    // A station that never used its directory has none to delete.
    assert!(
        !tmp.store
            .dir()
            .join("work/default")
            .join(run.report().find("c").next().unwrap().node())
            .exists()
    );
}

#[test]
fn two_profiles_keep_separate_records_for_effectful_stations() {
    let _serial = serial();
    let tmp = temp_store();
    let world = world(&tmp);
    let staging = Runner::new(&tmp.store).profile("staging");
    let production = Runner::new(&tmp.store).profile("production");
    staging.run(deploy(world.clone(), "shop".into())).unwrap();
    assert_eq!(take_executions()["create_db"], 1);
    production
        .run(deploy(world.clone(), "shop".into()))
        .unwrap();
    assert_eq!(
        take_executions()["create_db"],
        1,
        "production does not take staging's database"
    );
    staging.run(deploy(world.clone(), "shop".into())).unwrap();
    assert_eq!(take_executions().get("create_db"), None);
    assert!(
        tmp.store
            .dir()
            .join("work/staging/deploy.link/note.txt")
            .exists()
    );
    assert!(
        tmp.store
            .dir()
            .join("work/production/deploy.link/note.txt")
            .exists()
    );
}

static FLAKY_FAILURES: AtomicU32 = AtomicU32::new(0);

#[station(retries = 3, backoff = "1ms")]
fn flaky(ctx: &Ctx, x: &u64) -> Result<u64, Transient> {
    executed("flaky");
    std::fs::write(ctx.out_dir().join("attempt.txt"), "partial").map_err(Transient::new)?;
    if FLAKY_FAILURES.load(Ordering::SeqCst) > 0 {
        FLAKY_FAILURES.fetch_sub(1, Ordering::SeqCst);
        return Err(Transient::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
    }
    Ok(*x)
}

#[station(retries = 3, backoff = "1ms")]
fn broken(x: &u64) -> Result<u64, String> {
    executed("broken");
    Err(format!("no such thing as {x}"))
}

#[station(timeout = "200ms")]
fn slow(ctx: &Ctx, x: &u64) -> Result<u64, String> {
    executed("slow");
    while !ctx.is_stopping() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Err(format!("gave up on {x}"))
}

workflow! {
    pub fn flaky_flow(x: u64) -> u64 {
        flaky(x)
    }
}

workflow! {
    pub fn broken_flow(x: u64) -> u64 {
        broken(x)
    }
}

workflow! {
    pub fn slow_flow(x: u64) -> u64 {
        slow(x)
    }
}

#[test]
fn transient_failures_are_retried_and_others_are_not() {
    let _serial = serial();
    let tmp = temp_store();
    FLAKY_FAILURES.store(2, Ordering::SeqCst);
    let run = Runner::new(&tmp.store).run(flaky_flow(7)).unwrap();
    assert_eq!(take_executions(), counts(&[("flaky", 3)]));
    assert_eq!(
        run.report().entries()[0].reason(),
        Some("no record (succeeded on attempt 3)")
    );

    let error = Runner::new(&tmp.store).run(broken_flow(7)).unwrap_err();
    assert_eq!(take_executions(), counts(&[("broken", 1)]));
    assert_eq!(
        error.report().unwrap().entries()[0].error(),
        Some("no such thing as 7")
    );

    FLAKY_FAILURES.store(10, Ordering::SeqCst);
    let error = Runner::new(&tmp.store).run(flaky_flow(8)).unwrap_err();
    assert_eq!(
        take_executions(),
        counts(&[("flaky", 4)]),
        "1 attempt + 3 retries"
    );
    assert_eq!(
        error.report().unwrap().entries()[0].error(),
        Some("connection refused")
    );
    FLAKY_FAILURES.store(0, Ordering::SeqCst);
}

#[test]
fn a_station_over_its_time_limit_fails_instead_of_hanging() {
    let _serial = serial();
    let tmp = temp_store();
    let error = Runner::new(&tmp.store).run(slow_flow(1)).unwrap_err();
    let entry = &error.report().unwrap().entries()[0];
    assert_eq!(entry.status(), Status::Failed);
    assert_eq!(entry.error(), Some("timed out after 200ms"));
}

#[test]
fn a_failed_stations_directory_is_kept_and_the_next_attempt_starts_fresh() {
    let _serial = serial();
    let tmp = temp_store();
    FLAKY_FAILURES.store(10, Ordering::SeqCst);
    let error = Runner::new(&tmp.store).run(flaky_flow(9)).unwrap_err();
    FLAKY_FAILURES.store(0, Ordering::SeqCst);
    let entry = &error.report().unwrap().entries()[0];
    let kept = entry.kept_dir().expect("the failing directory is kept");
    assert_eq!(
        std::fs::read_to_string(kept.join("attempt.txt")).unwrap(),
        "partial"
    );
    assert!(kept.starts_with(tmp.store.dir().join("work/default/.failed")));
    let work = tmp.store.dir().join("work/default").join(entry.node());
    assert!(
        !work.exists(),
        "the next attempt starts from a fresh directory"
    );
    Runner::new(&tmp.store).run(flaky_flow(9)).unwrap();
    assert!(
        kept.join("attempt.txt").exists(),
        "a later success leaves the kept directory alone"
    );
}

#[test]
fn a_plan_executes_nothing_and_says_why() {
    let _serial = serial();
    let tmp = temp_store();
    let files_before = count_files(tmp.store.dir());
    let plan = Runner::new(&tmp.store).plan(chain::chain(1)).unwrap();
    assert_eq!(take_executions(), counts(&[]));
    assert!(
        plan.entries()
            .iter()
            .all(|e| e.action() == Action::Run || e.action() == Action::MayRun)
    );
    assert_eq!(plan.entries()[0].reason(), Some("no record"));
    assert_eq!(plan.entries()[1].action(), Action::MayRun);
    assert_eq!(plan.entries()[1].reason(), Some("after `a`"));

    Runner::new(&tmp.store).run(chain::chain(1)).unwrap();
    take_executions();
    let database = || {
        let read = |name: &str| std::fs::read(tmp.store.dir().join(name)).unwrap_or_default();
        (read("store.db"), read("store.db-wal"))
    };
    let db = database();
    let files = count_files(tmp.store.dir());
    let plan = Runner::new(&tmp.store).plan(chain::chain(2)).unwrap();
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(plan.entries()[0].reason(), Some("input `x` changed: 1 → 2"));
    assert_eq!(plan.with_action(Action::MayRun).count(), 3);
    assert_eq!(
        count_files(tmp.store.dir()),
        files,
        "a plan creates no file"
    );
    assert!(database() == db, "a plan writes nothing to the database");
    assert!(files_before <= files);
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            if entry.file_type().unwrap().is_dir() {
                count_files(&entry.path())
            } else {
                1
            }
        })
        .sum()
}

/// Provisions a "server": writes a generation number to a state file, one more each time.
#[station(check = provisioned)]
fn provision(world: &PathBuf) -> Result<u64, std::io::Error> {
    executed("provision");
    let state = world.join("generation");
    let generation = std::fs::read_to_string(world.join("counter"))
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    std::fs::write(world.join("counter"), generation.to_string())?;
    std::fs::write(state, generation.to_string())?;
    Ok(generation)
}

fn provisioned(world: &Path, generation: &u64) -> bool {
    std::fs::read_to_string(world.join("generation")).is_ok_and(|g| g == generation.to_string())
}

#[station]
fn announce(generation: &u64) -> String {
    executed("announce");
    format!("generation {generation}")
}

workflow! {
    pub fn provisioned_server(world: PathBuf) -> String {
        let generation = provision(world);
        announce(generation)
    }
}

/// A station redone because its check failed may produce a new output: its dependents see
/// the new one, never the remembered one.
#[test]
fn after_drift_dependents_see_the_new_output() {
    let _serial = serial();
    let tmp = temp_store();
    let world = world(&tmp);
    let runner = Runner::new(&tmp.store);
    let run = runner.run(provisioned_server(world.clone())).unwrap();
    assert_eq!(run.output(), "generation 1");
    take_executions();
    std::fs::remove_file(world.join("generation")).unwrap();
    let run = runner.run(provisioned_server(world.clone())).unwrap();
    assert_eq!(run.output(), "generation 2");
    assert_eq!(
        take_executions(),
        counts(&[("announce", 1), ("provision", 1)])
    );
    let run = runner.run(provisioned_server(world.clone())).unwrap();
    assert_eq!(run.output(), "generation 2");
    assert_eq!(take_executions(), counts(&[]));
}

static PAGE_EDITION: AtomicU32 = AtomicU32::new(0);

/// Writes the page with its edition: a forced run writes a new one.
#[station]
fn write_page(ctx: &Ctx, text: &String) -> Result<choochoo::File, std::io::Error> {
    executed("write_page");
    let path = ctx.out_dir().join("page.txt");
    let edition = PAGE_EDITION.fetch_add(1, Ordering::SeqCst);
    std::fs::write(&path, format!("{text}, edition {edition}"))?;
    Ok(choochoo::File::new(path))
}

#[station]
fn page_size(page: &choochoo::File) -> Result<u64, std::io::Error> {
    executed("page_size");
    Ok(std::fs::metadata(page.path())?.len())
}

workflow! {
    pub fn page(text: String) -> u64 {
        let page = write_page(text);
        page_size(page)
    }
}

/// Forcing a station that rewrites its file: its dependents record their results (the file
/// they read did not change while they ran), so the next run runs nothing.
#[test]
fn a_forced_file_station_leaves_its_dependents_recorded() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    runner.run(page("hello".to_owned())).unwrap();
    take_executions();
    let forced = Runner::new(&tmp.store).force(["write_page"]);
    let run = forced.run(page("hello".to_owned())).unwrap();
    for entry in run.report().entries() {
        let reason = entry.reason().unwrap_or_default();
        assert!(
            !reason.contains("not recorded"),
            "{}: {reason}",
            entry.node()
        );
    }
    assert_eq!(
        take_executions(),
        counts(&[("page_size", 1), ("write_page", 1)])
    );
    runner.run(page("hello".to_owned())).unwrap();
    assert_eq!(take_executions(), counts(&[]));
}

static SHAPE_CHANGED: AtomicBool = AtomicBool::new(false);

/// A value whose stored form stops decoding when `SHAPE_CHANGED` is set: a type edited
/// without its station's code changing.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
struct Gauge(u64);

impl<'de> serde::Deserialize<'de> for Gauge {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Gauge, D::Error> {
        let value = u64::deserialize(deserializer)?;
        if SHAPE_CHANGED.load(Ordering::SeqCst) {
            return Err(serde::de::Error::custom("a field was added"));
        }
        Ok(Gauge(value))
    }
}

#[station(check = gauge_fits)]
fn read_gauge(level: &u64) -> Gauge {
    executed("read_gauge");
    Gauge(*level)
}

fn gauge_fits(_level: &u64, _gauge: &Gauge) -> bool {
    true
}

workflow! {
    pub fn gauge(level: u64) -> Gauge {
        read_gauge(level)
    }
}

/// A remembered output that no longer decodes is a clear failure, and its record goes, so
/// the next run computes it again.
#[test]
fn a_stored_output_that_no_longer_decodes_is_forgotten() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    assert_eq!(*runner.run(gauge(7)).unwrap().output(), Gauge(7));
    take_executions();
    SHAPE_CHANGED.store(true, Ordering::SeqCst);
    let error = runner.run(gauge(7)).unwrap_err().to_string();
    SHAPE_CHANGED.store(false, Ordering::SeqCst);
    assert!(error.contains("no longer decodes"), "{error}");
    assert!(error.contains("bump its `version`"), "{error}");
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(*runner.run(gauge(7)).unwrap().output(), Gauge(7));
    assert_eq!(take_executions(), counts(&[("read_gauge", 1)]));
}
