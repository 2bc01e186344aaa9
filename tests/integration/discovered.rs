//! Discovered inputs: files, directories, depfiles and environment variables a station says
//! it read while it ran count like its declared inputs, checked on every lookup.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Action, Ctx, File, Graph, Node, Runner, Status, Store, station, workflow};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
fn write_settled(path: &Path, text: &str) {
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
    let hashed = choochoo::__private::files_hashed(&tmp.store);
    write_settled(&path, "two");
    assert_eq!(run().output(), "two");
    assert_eq!(take_executions(), counts(&[]), "a touch runs nothing");
    assert!(choochoo::__private::files_hashed(&tmp.store) > hashed);

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

/// Compiles one C file with the system's compiler, and records the headers it read from the
/// depfile the compiler wrote.
#[station]
fn compile(ctx: &Ctx, source: &File) -> Result<File, BoxError> {
    executed("compile");
    let object = ctx.output("out.o")?;
    let deps = ctx.output("out.d")?;
    let output = std::process::Command::new("cc")
        .args(["-c", "-MMD", "-MF"])
        .arg(&deps)
        .arg(source.path())
        .arg("-o")
        .arg(&object)
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    ctx.depfile(&deps)?;
    Ok(File::new(object))
}

workflow! {
    fn build_one(source: File) -> File {
        compile(source)
    }
}

/// A small C tree: `main.c` includes `a.h` and `b.h`; `other.h` is included by nothing.
fn c_tree(dir: &Path) -> PathBuf {
    write_settled(&dir.join("a.h"), "#define A 1\n");
    write_settled(&dir.join("b.h"), "#define B 2\n");
    write_settled(&dir.join("other.h"), "#define OTHER 3\n");
    let main = dir.join("main.c");
    write_settled(
        &main,
        "#include \"a.h\"\n#include \"b.h\"\nint main(void) { return A + B - 3; }\n",
    );
    main
}

#[test]
fn a_depfile_from_the_compiler_makes_its_headers_inputs() {
    let _serial = serial();
    let tmp = temp_store();
    let main = c_tree(tmp.dir.path());
    let runner = Runner::new(&tmp.store);
    let build = || runner.run(build_one(File::new(&main))).unwrap();
    build();
    assert_eq!(take_executions(), counts(&[("compile", 1)]));
    build();
    assert_eq!(take_executions(), counts(&[]));

    write_settled(&tmp.dir.path().join("other.h"), "#define OTHER 4\n");
    build();
    assert_eq!(
        take_executions(),
        counts(&[]),
        "a header it does not include"
    );

    write_settled(
        &tmp.dir.path().join("a.h"),
        "#define A 1 /* same value */\n",
    );
    let after = build();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1)]),
        "a header it includes"
    );
    let a = tmp.dir.path().join("a.h");
    assert_eq!(
        after.report().entries()[0].reason(),
        Some(format!("file {} it read changed", a.display()).as_str())
    );

    write_settled(&tmp.dir.path().join("b.h"), "#define B 2\n");
    build();
    assert_eq!(
        take_executions(),
        counts(&[]),
        "b.h rewritten with the same bytes"
    );
}

/// Compiles every source of a list, each on its own, then counts the objects.
#[station]
fn count_objects(objects: &Vec<File>) -> usize {
    executed("count_objects");
    objects.len()
}

workflow! {
    fn build_all(sources: Vec<File>) -> usize {
        let objects = map(compile, sources);
        count_objects(objects)
    }
}

#[test]
fn map_items_carry_their_own_discovered_inputs() {
    let _serial = serial();
    let tmp = temp_store();
    let dir = tmp.dir.path();
    write_settled(&dir.join("shared.h"), "#define SHARED 1\n");
    write_settled(&dir.join("lone.h"), "#define LONE 1\n");
    let sources: Vec<File> = ["x", "y", "z"]
        .iter()
        .map(|name| {
            let include = if *name == "z" { "lone.h" } else { "shared.h" };
            let path = dir.join(format!("{name}.c"));
            let text = format!("#include \"{include}\"\nint {name}(void) {{ return 1; }}\n");
            write_settled(&path, &text);
            File::new(path)
        })
        .collect();
    let runner = Runner::new(&tmp.store).jobs(2);
    let build = || runner.run(build_all(sources.clone())).unwrap();
    assert_eq!(*build().output(), 3);
    assert_eq!(
        take_executions(),
        counts(&[("compile", 3), ("count_objects", 1)])
    );
    build();
    assert_eq!(take_executions(), counts(&[]));

    write_settled(&dir.join("lone.h"), "#define LONE 2\n");
    let run = build();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1)]),
        "only z includes it"
    );
    let objects = run.report().find("objects").next().unwrap();
    let reason = objects.reason().unwrap();
    assert!(
        reason.starts_with(&format!(
            "file {} it read changed",
            dir.join("lone.h").display()
        )) && reason.ends_with("1 of 3 items ran"),
        "{reason}"
    );

    write_settled(&dir.join("shared.h"), "#define SHARED 2\n");
    build();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 2)]),
        "x and y include it"
    );
    build();
    assert_eq!(take_executions(), counts(&[]));
}

/// Reads an environment variable.
#[station]
fn compiler_name(ctx: &Ctx) -> String {
    executed("compiler_name");
    ctx.env("CHOOCHOO_TEST_CC")
        .unwrap_or_else(|| "(unset)".to_owned())
}

/// Lists a directory it was never given.
#[station]
fn list_dir(ctx: &Ctx, dir: &String) -> Result<usize, std::io::Error> {
    executed("list_dir");
    ctx.depend(dir)?;
    Ok(std::fs::read_dir(dir)?.count())
}

workflow! {
    fn environment(dir: String) -> (String, usize) {
        let cc = compiler_name();
        let n = list_dir(dir);
        (cc, n)
    }
}

/// The child process of the environment test: its variables are the parent's choice (a
/// test cannot change its own environment safely).
#[test]
fn child_reads_the_environment() {
    let Some(store) = std::env::var_os("CHOOCHOO_TEST_DISCOVERED_STORE") else {
        return;
    };
    let dir = std::env::var("CHOOCHOO_TEST_DISCOVERED_DIR").unwrap();
    let store = Store::open(store).unwrap();
    let run = Runner::new(&store).run(environment(dir)).unwrap();
    let ran: Vec<String> = take_executions().keys().map(|s| s.to_string()).collect();
    let reasons: Vec<&str> = run
        .report()
        .with_status(Status::Ran)
        .filter_map(|entry| entry.reason())
        .collect();
    println!(
        "\nCHILD ran={} output={:?} reasons={}",
        ran.join(","),
        run.output(),
        reasons.join("|")
    );
}

/// Runs the child with `CHOOCHOO_TEST_CC` set to `cc` (or unset): what ran and why.
fn child(store: &Path, dir: &Path, cc: Option<&str>) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "discovered::child_reads_the_environment",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CHOOCHOO_TEST_DISCOVERED_STORE", store)
        .env("CHOOCHOO_TEST_DISCOVERED_DIR", dir);
    match cc {
        Some(cc) => command.env("CHOOCHOO_TEST_CC", cc),
        None => command.env_remove("CHOOCHOO_TEST_CC"),
    };
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "child failed: {stdout}");
    let line = stdout.lines().find(|line| line.starts_with("CHILD "));
    line.expect("the child printed its result")["CHILD ".len()..].to_owned()
}

#[test]
fn environment_variables_and_directories_it_read_count() {
    let tmp = temp_store();
    let (store, dir) = (tmp.store.dir(), tmp.dir.path().join("assets"));
    std::fs::create_dir(&dir).unwrap();
    write_settled(&dir.join("logo.svg"), "<svg/>");
    let ran = |cc| child(store, &dir, cc);
    assert_eq!(
        ran(Some("gcc")),
        "ran=compiler_name,list_dir output=(\"gcc\", 1) reasons=no record|no record"
    );
    assert_eq!(ran(Some("gcc")), "ran= output=(\"gcc\", 1) reasons=");
    assert_eq!(
        ran(Some("clang")),
        "ran=compiler_name output=(\"clang\", 1) reasons=environment variable CHOOCHOO_TEST_CC it read changed"
    );
    assert_eq!(
        ran(None),
        "ran=compiler_name output=(\"(unset)\", 1) reasons=environment variable CHOOCHOO_TEST_CC it read changed"
    );
    assert_eq!(ran(None), "ran= output=(\"(unset)\", 1) reasons=");

    write_settled(&dir.join("icon.svg"), "<svg/>");
    assert_eq!(
        ran(None),
        format!(
            "ran=list_dir output=(\"(unset)\", 2) reasons=directory {} it read changed",
            dir.display()
        )
    );
    assert_eq!(ran(None), "ran= output=(\"(unset)\", 2) reasons=");
}

/// Reads ten files: two of its own and eight of a shared pool.
#[station]
fn read_ten(ctx: &Ctx, item: &u64, dir: &String) -> Result<u64, std::io::Error> {
    executed("read_ten");
    let mut total = 0;
    for name in ten_inputs(*item) {
        total += ctx.read(Path::new(dir).join(name))?.len() as u64;
    }
    Ok(total)
}

fn ten_inputs(item: u64) -> Vec<String> {
    let own = (0..2).map(|k| format!("own-{item}-{k}"));
    let pool = (0..8).map(|k| format!("pool-{}", (item * 7 + k * 13) % 100));
    own.chain(pool).collect()
}

#[station]
fn sum(parts: &Vec<u64>) -> u64 {
    executed("sum");
    parts.iter().sum()
}

workflow! {
    fn read_many(items: Vec<u64>, dir: String) -> u64 {
        let parts = map(read_ten, items, dir);
        sum(parts)
    }
}

/// 1,000 items (or stations) whose inputs are 10 discovered files each.
fn inputs_of_a_thousand(dir: &Path) {
    for item in 0..1000 {
        for k in 0..2 {
            std::fs::write(dir.join(format!("own-{item}-{k}")), format!("{item}.{k}")).unwrap();
        }
    }
    for k in 0..100 {
        std::fs::write(dir.join(format!("pool-{k}")), format!("pool {k}")).unwrap();
    }
    std::thread::sleep(Duration::from_millis(30));
}

/// A no-op run after a full one, timed, with the files it re-hashed.
fn no_op(store: &Store, run: impl Fn() -> u64) -> (Duration, u64) {
    let hashed = choochoo::__private::files_hashed(store);
    let started = Instant::now();
    run();
    let took = started.elapsed();
    (took, choochoo::__private::files_hashed(store) - hashed)
}

#[test]
fn a_no_op_over_a_thousand_map_items_with_ten_discovered_inputs_rehashes_nothing() {
    let _serial = serial();
    let tmp = temp_store();
    let dir = tmp.dir.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    inputs_of_a_thousand(&dir);
    let runner = Runner::new(&tmp.store).jobs(2);
    let items: Vec<u64> = (0..1000).collect();
    let run = || {
        runner
            .run(read_many(items.clone(), dir.display().to_string()))
            .unwrap()
            .into_output()
    };
    let total = run();
    assert_eq!(take_executions(), counts(&[("read_ten", 1000), ("sum", 1)]));
    let (took, hashed) = no_op(&tmp.store, run);
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(hashed, 0, "a no-op re-hashed {hashed} files");
    println!("no-op over 1,000 map items × 10 discovered inputs: {took:?}, {hashed} files hashed");

    write_settled(&dir.join("pool-42"), "a longer text");
    assert_ne!(run(), total);
    let readers = (0..1000)
        .filter(|&item| ten_inputs(item).contains(&"pool-42".to_owned()))
        .count();
    assert_eq!(
        take_executions(),
        counts(&[("read_ten", readers), ("sum", 1)]),
        "exactly the items that read it"
    );
}

#[test]
fn a_no_op_over_a_thousand_stations_with_ten_discovered_inputs_rehashes_nothing() {
    let _serial = serial();
    let tmp = temp_store();
    let dir = tmp.dir.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    inputs_of_a_thousand(&dir);
    let mut graph = Graph::new();
    let shared = graph.input(dir.display().to_string());
    let parts: Vec<Node<u64>> = (0..1000)
        .map(|item| {
            let item = graph.input(item);
            graph.add(ReadTen, (&item, &shared))
        })
        .collect();
    let total = graph.add(Sum, (&parts,));
    let runner = Runner::new(&tmp.store).jobs(2);
    let run = || runner.run_graph(&graph, total).unwrap().into_output();
    run();
    assert_eq!(take_executions(), counts(&[("read_ten", 1000), ("sum", 1)]));
    let (took, hashed) = no_op(&tmp.store, run);
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(hashed, 0, "a no-op re-hashed {hashed} files");
    println!("no-op over 1,000 stations × 10 discovered inputs: {took:?}, {hashed} files hashed");
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
    // The layout of version 1: no `discovered` column.
    let db = rusqlite::Connection::open(store_dir.join("store.db")).unwrap();
    db.execute_batch(
        "ALTER TABLE records DROP COLUMN discovered;
         UPDATE meta SET value = '1' WHERE name = 'schema_version';",
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
    assert_eq!(version, "2");

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
        "UPDATE meta SET value = '3' WHERE name = 'schema_version'",
        [],
    )
    .unwrap();
    drop(store);
    let error = Store::open(&store_dir).unwrap_err().to_string();
    assert!(
        error.contains("has schema version 3, and this choochoo reads version 2"),
        "{error}"
    );
}
