//! Discovered inputs: files, directories, depfiles and environment variables a station says
//! it read while it ran count like its declared inputs, checked on every lookup.

use crate::support::{counts, executed, records_to_tables, serial, take_executions, temp_store};
use choochoo::{Action, Ctx, Runner, Status, Store, station, workflow};
use std::io::ErrorKind;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Reads the file at `path` through the context; an absent file reads as `(none)`.
#[station]
fn read_it(ctx: &Ctx, path: &String) -> Result<String, std::io::Error> {
    executed("read_it");
    match ctx.read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok("(none)".to_owned()),
        Err(error) => Err(error),
    }
}

workflow! {
    fn reading(path: String) -> String {
        read_it(path)
    }
}

/// Writes `text` and waits until its timestamps are old enough for the stat cache to trust
/// the hash it takes next, so that a later run re-hashes only what changed.
pub fn write_settled(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::thread::sleep(Duration::from_millis(30));
}

fn reason(run: &choochoo::Run<String>) -> String {
    run.report().entries()[0].reason().unwrap_or("").to_owned()
}

#[test]
fn a_file_it_read_reruns_it_on_a_change_not_on_a_touch_and_on_deletion() {
    let _serial = serial();
    let tmp = temp_store();
    let path = tmp.dir.path().join("notes.txt");
    write_settled(&path, "one");
    let runner = Runner::new(&tmp.store);
    let run = || runner.run(reading(path.display().to_string())).unwrap();

    assert_eq!(run().output(), "one");
    assert_eq!(take_executions(), counts(&[("read_it", 1)]));
    assert_eq!(run().report().count(Status::Cached), 1);
    assert_eq!(take_executions(), counts(&[]), "nothing changed");

    write_settled(&path, "two");
    let changed = run();
    assert_eq!(changed.output(), "two");
    assert_eq!(take_executions(), counts(&[("read_it", 1)]));
    assert_eq!(
        reason(&changed),
        format!("file {} it read changed", path.display())
    );

    // The same bytes again, with new timestamps: re-hashed, and nothing runs.
    let hashed = choochoo::test_util::files_hashed(&tmp.store);
    write_settled(&path, "two");
    assert_eq!(run().output(), "two");
    assert_eq!(take_executions(), counts(&[]), "a touch runs nothing");
    assert!(choochoo::test_util::files_hashed(&tmp.store) > hashed);

    std::fs::remove_file(&path).unwrap();
    let deleted = run();
    assert_eq!(deleted.output(), "(none)");
    assert_eq!(take_executions(), counts(&[("read_it", 1)]));
    assert_eq!(
        reason(&deleted),
        format!("file {} it read was deleted", path.display())
    );
    assert_eq!(run().output(), "(none)");
    assert_eq!(take_executions(), counts(&[]), "still absent: nothing runs");

    write_settled(&path, "three");
    let created = run();
    assert_eq!(created.output(), "three");
    assert_eq!(
        reason(&created),
        format!("file {} it read appeared", path.display())
    );
}

#[test]
fn the_plan_names_the_file_that_changed() {
    let _serial = serial();
    let tmp = temp_store();
    let path = tmp.dir.path().join("config.toml");
    write_settled(&path, "port = 1");
    let runner = Runner::new(&tmp.store);
    runner.run(reading(path.display().to_string())).unwrap();
    let plan = runner.plan(reading(path.display().to_string())).unwrap();
    assert_eq!(plan.entries()[0].action(), Action::Cached);

    write_settled(&path, "port = 2");
    let plan = runner.plan(reading(path.display().to_string())).unwrap();
    assert_eq!(plan.entries()[0].action(), Action::Run);
    let expected = format!("file {} it read changed", path.display());
    assert_eq!(plan.entries()[0].reason(), Some(expected.as_str()));
    assert!(plan.to_string().contains(&expected), "{plan}");
    assert_eq!(
        take_executions(),
        counts(&[("read_it", 1)]),
        "a plan runs nothing"
    );
}

static EDIT_WHILE_RUNNING: AtomicBool = AtomicBool::new(false);

/// Reads a file, and edits it before returning when told to: the edit lands while the
/// station runs.
#[station]
fn read_then_edit(ctx: &Ctx, path: &String) -> Result<usize, std::io::Error> {
    executed("read_then_edit");
    let len = ctx.read(path)?.len();
    if EDIT_WHILE_RUNNING.swap(false, Ordering::SeqCst) {
        std::fs::write(path, "edited while it ran")?;
    }
    Ok(len)
}

/// Names a file for another program (here, itself) without reading it through the context.
#[station]
fn depend_then_edit(ctx: &Ctx, path: &String) -> Result<usize, std::io::Error> {
    executed("depend_then_edit");
    ctx.depend(path)?;
    let len = std::fs::read(path)?.len();
    if EDIT_WHILE_RUNNING.swap(false, Ordering::SeqCst) {
        std::fs::write(path, "edited while it ran")?;
    }
    Ok(len)
}

workflow! {
    fn editing(path: String) -> usize {
        read_then_edit(path)
    }
}

workflow! {
    fn depending(path: String) -> usize {
        depend_then_edit(path)
    }
}

#[test]
fn a_file_edited_while_its_station_runs_is_not_recorded_as_fresh() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    for (name, depend) in [("read_then_edit", false), ("depend_then_edit", true)] {
        let path = tmp.dir.path().join(format!("{name}.txt"));
        write_settled(&path, "before");
        let arg = path.display().to_string();
        let run = || {
            let run = if depend {
                runner.run(depending(arg.clone()))
            } else {
                runner.run(editing(arg.clone()))
            };
            run.unwrap()
        };
        EDIT_WHILE_RUNNING.store(true, Ordering::SeqCst);
        let first = run();
        assert_eq!(*first.output(), "before".len());
        let why = first.report().entries()[0].reason().unwrap().to_owned();
        assert!(
            why.contains(&format!(
                "not recorded: {} changed while the station ran",
                path.display()
            )),
            "{name}: {why}"
        );
        assert_eq!(take_executions(), counts(&[(name, 1)]));
        // Nothing was recorded: the next run reads the edited file.
        assert_eq!(*run().output(), "edited while it ran".len());
        assert_eq!(take_executions(), counts(&[(name, 1)]), "{name}");
        assert_eq!(*run().output(), "edited while it ran".len());
        assert_eq!(take_executions(), counts(&[]), "{name}: recorded at last");
    }
}

/// A station that reads nothing on its own, as every station of a store of version 1.
#[station]
fn shout(text: &String) -> String {
    executed("shout");
    text.to_uppercase()
}

workflow! {
    fn shouting(text: String) -> String {
        shout(text)
    }
}

#[test]
fn a_store_of_the_previous_schema_opens_and_keeps_its_records() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join(".choochoo");
    {
        let store = Store::open(&store_dir).unwrap();
        Runner::new(&store).run(shouting("kept".into())).unwrap();
    }
    assert_eq!(take_executions(), counts(&[("shout", 1)]));
    // The layout of version 1: the records in `store.db`, without a `discovered` column
    // (nor the ledger's columns of version 3).
    records_to_tables(&store_dir, 1);
    let db = rusqlite::Connection::open(store_dir.join("store.db")).unwrap();
    db.execute_batch(
        "ALTER TABLE observations DROP COLUMN cause;
         ALTER TABLE observations DROP COLUMN root;
         ALTER TABLE observations DROP COLUMN attempts;
         ALTER TABLE observations DROP COLUMN recovered;
         ALTER TABLE observations DROP COLUMN failures;
         ALTER TABLE notes DROP COLUMN added_by;",
    )
    .unwrap();
    drop(db);

    let store = Store::open(&store_dir).unwrap();
    let runner = Runner::new(&store);
    assert_eq!(
        runner.run(shouting("kept".into())).unwrap().output(),
        "KEPT"
    );
    assert_eq!(take_executions(), counts(&[]), "its record is still used");
    let db = rusqlite::Connection::open(store_dir.join("store.db")).unwrap();
    let version: String = db
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(version, "4");

    // Migrated, it keeps discovered inputs.
    let path = dir.path().join("notes.txt");
    write_settled(&path, "edited");
    runner.run(reading(path.display().to_string())).unwrap();
    write_settled(&path, "edited again");
    let run = runner.run(reading(path.display().to_string())).unwrap();
    assert_eq!(run.output(), "edited again");
    assert_eq!(take_executions(), counts(&[("read_it", 2)]));
    assert_eq!(
        reason(&run),
        format!("file {} it read changed", path.display())
    );

    // A store of a later version is refused, not misread.
    db.execute(
        "UPDATE meta SET value = '5' WHERE name = 'schema_version'",
        [],
    )
    .unwrap();
    drop(store);
    let error = Store::open(&store_dir).unwrap_err().to_string();
    assert!(
        error.contains("has schema version 5, and this choochoo reads version 4"),
        "{error}"
    );
}

workflow! {
    fn read_and_shout(path: String) -> String {
        let text = read_it(path);
        shout(text)
    }
}

#[test]
fn a_result_with_discovered_inputs_stays_local_and_the_stations_after_it_are_shared() {
    let _serial = serial();
    let fake = crate::fake::Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    write_settled(&path, "shared");
    let run = |store: &Store, write: bool| {
        let remote = choochoo::Remote::new(&fake.url).write(write);
        Runner::new(store)
            .remote(remote)
            .run(read_and_shout(path.display().to_string()))
            .unwrap()
    };
    let writer = temp_store();
    assert_eq!(run(&writer.store, true).output(), "SHARED");
    assert_eq!(take_executions(), counts(&[("read_it", 1), ("shout", 1)]));
    assert_eq!(fake.results(), 1, "only `shout` was uploaded");

    let reader = temp_store();
    let read = run(&reader.store, false);
    assert_eq!(read.output(), "SHARED");
    assert_eq!(
        take_executions(),
        counts(&[("read_it", 1)]),
        "read here, shouted there"
    );
    let shouted = read.report().find("output").next().unwrap();
    assert_eq!(shouted.reason(), Some("from the remote cache"));
}

/// Writes a header for others to read, after `peek` looked at it, and returns the same value
/// whatever it wrote.
#[station]
fn generate(version: &u64, _after: &usize, path: &String) -> Result<u64, std::io::Error> {
    executed("generate");
    std::fs::write(path, format!("#define VERSION {version}\n"))?;
    Ok(0)
}

/// Reads the header (declared only through the context).
#[station]
fn peek(ctx: &Ctx, path: &String) -> Result<usize, std::io::Error> {
    executed("peek");
    Ok(ctx.read(path)?.len())
}

/// Reads the header after `generate`, whose output does not change.
#[station]
fn consume(ctx: &Ctx, _after: &u64, path: &String) -> Result<String, std::io::Error> {
    executed("consume");
    Ok(String::from_utf8_lossy(&ctx.read(path)?).into_owned())
}

workflow! {
    fn generated(version: u64, path: String) -> (usize, String) {
        let early = peek(path);
        let done = generate(version, early, path);
        let late = consume(done, path);
        (early, late)
    }
}

#[test]
fn a_file_written_during_the_run_is_looked_at_again_after_its_writer() {
    let _serial = serial();
    let tmp = temp_store();
    let path = tmp.dir.path().join("version.h");
    write_settled(&path, "#define VERSION 1\n");
    let runner = Runner::new(&tmp.store).jobs(1);
    let run = |version| {
        runner
            .run(generated(version, path.display().to_string()))
            .unwrap()
            .into_output()
    };
    assert_eq!(run(1).1, "#define VERSION 1\n");
    take_executions();
    std::thread::sleep(Duration::from_millis(30));
    // `peek` looks at the header before `generate` writes it; `consume`, whose key does
    // not change, must still see the new header.
    assert_eq!(run(2).1, "#define VERSION 2\n");
    assert_eq!(
        take_executions(),
        counts(&[("generate", 1), ("consume", 1)])
    );
}
