//! Inputs that belong to the process: environment variables, and relative paths, which a
//! program looks up from its working directory. A test cannot change its own environment
//! or working directory safely, so these run a child process (this test binary) with the
//! ones they choose.

use crate::discovered::write_settled;
use crate::support::{executed, take_executions, temp_store};
use choochoo::{Ctx, Runner, Status, Store, station, workflow};
use std::path::Path;

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
    let store = Store::open(store).unwrap();
    let run = Runner::new(&store)
        .run(environment("assets".into()))
        .unwrap();
    println!("\nCHILD {}", summary(&run));
}

/// Runs the child test `entry` with `CHOOCHOO_TEST_CC` set to `cc` (or unset), in the
/// working directory `cwd`: what ran and why.
fn child(entry: &str, store: &Path, cwd: &Path, cc: Option<&str>) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", entry, "--nocapture", "--test-threads=1"])
        .current_dir(cwd)
        .env("CHOOCHOO_TEST_DISCOVERED_STORE", store);
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

/// What ran, the output and the reasons, as the children print them.
fn summary<T: std::fmt::Debug>(run: &choochoo::Run<T>) -> String {
    let ran: Vec<String> = take_executions().keys().map(|s| s.to_string()).collect();
    let reasons: Vec<&str> = run
        .report()
        .with_status(Status::Ran)
        .filter_map(|entry| entry.reason())
        .collect();
    format!(
        "ran={} output={:?} reasons={}",
        ran.join(","),
        run.output(),
        reasons.join("|")
    )
}

#[test]
fn environment_variables_and_directories_it_read_count() {
    let tmp = temp_store();
    let (store, dir) = (tmp.store.dir(), tmp.dir.path().join("assets"));
    std::fs::create_dir(&dir).unwrap();
    write_settled(&dir.join("logo.svg"), "<svg/>");
    let entry = "discovered_process::child_reads_the_environment";
    let ran = |cc| child(entry, store, tmp.dir.path(), cc);
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
        format!("ran=list_dir output=(\"(unset)\", 2) reasons=directory assets it read changed")
    );
    assert_eq!(ran(None), "ran= output=(\"(unset)\", 2) reasons=");
}

/// Reads a file through the context.
#[station]
fn read_here(ctx: &Ctx, path: &String) -> Result<String, std::io::Error> {
    executed("read_here");
    Ok(String::from_utf8_lossy(&ctx.read(path)?).into_owned())
}

workflow! {
    fn relative(path: String) -> String {
        read_here(path)
    }
}

/// The child process of the relative path test: reads `notes.txt` from its working
/// directory.
#[test]
fn child_reads_a_relative_path() {
    let Some(store) = std::env::var_os("CHOOCHOO_TEST_DISCOVERED_STORE") else {
        return;
    };
    let store = Store::open(store).unwrap();
    let run = Runner::new(&store)
        .run(relative("notes.txt".into()))
        .unwrap();
    println!("\nCHILD {}", summary(&run));
}

#[test]
fn a_relative_path_is_looked_up_from_the_working_directory() {
    let tmp = temp_store();
    let (here, there) = (tmp.dir.path().join("here"), tmp.dir.path().join("there"));
    for dir in [&here, &there] {
        std::fs::create_dir(dir).unwrap();
        write_settled(&dir.join("notes.txt"), "same");
    }
    let entry = "discovered_process::child_reads_a_relative_path";
    let ran = |cwd: &Path| child(entry, tmp.store.dir(), cwd, None);
    assert_eq!(
        ran(&here),
        "ran=read_here output=\"same\" reasons=no record"
    );
    assert_eq!(ran(&here), "ran= output=\"same\" reasons=");
    write_settled(&here.join("notes.txt"), "edited");
    assert_eq!(
        ran(&here),
        "ran=read_here output=\"edited\" reasons=file notes.txt it read changed"
    );
    // Another directory: its own `notes.txt` is what the station would read.
    assert_eq!(
        ran(&there),
        "ran=read_here output=\"same\" reasons=file notes.txt it read changed"
    );
    assert_eq!(ran(&there), "ran= output=\"same\" reasons=");
    write_settled(&here.join("notes.txt"), "same");
    assert_eq!(
        ran(&here),
        "ran= output=\"same\" reasons=",
        "the same bytes there"
    );
}
