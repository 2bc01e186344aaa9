//! Child processes a station starts with `Ctx::command`: their output is the station's log,
//! they end with the station's call (a time-out included) and with a killed runner, and a
//! daemon outlives the run.

use crate::support::running;
use choochoo::{Ctx, Runner, Store, station, workflow};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Set in the runner process the SIGKILL test starts: the directory of its world.
const CHILD_DIR: &str = "CHOOCHOO_CHILDREN_DIR";
/// Set with it when the process is the workflow's command line instead: its arguments.
const CHILD_CLI: &str = "CHOOCHOO_CHILDREN_CLI";

fn pid_in(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn wait_for_pid(path: &Path) -> u32 {
    let written = crate::support::wait_until(Duration::from_secs(20), || pid_in(path).is_some());
    assert!(written, "{} was never written", path.display());
    pid_in(path).unwrap()
}

#[station]
fn shout(ctx: &Ctx, code: &u32) -> std::io::Result<u32> {
    let script = format!("echo to stdout; echo to stderr >&2; exit {code}");
    ctx.command("sh").args(["-c", &script]).run()?;
    Ok(*code)
}

workflow! {
    fn shouting(code: u32) -> u32 { shout(code) }
}

#[test]
fn a_childs_output_is_its_stations_log_and_a_failing_exit_names_the_program() {
    let tmp = crate::support::temp_store();
    let runner = Runner::new(&tmp.store);
    assert_eq!(runner.run(shouting(0)).unwrap().into_output(), 0);

    let error = runner.run(shouting(3)).unwrap_err().to_string();
    assert!(error.contains("`sh` exited with status 3"), "{error}");
    let defect = &tmp.store.defects().unwrap()[0];
    let observation = &tmp.store.observations(defect.id()).unwrap()[0];
    let mut log = observation.log_tail().to_vec();
    log.sort();
    assert_eq!(log, ["to stderr", "to stdout"]);
}

#[station]
fn counted(ctx: &Ctx, words: &String) -> std::io::Result<String> {
    let output = ctx
        .command("wc")
        .arg("-w")
        .stdin(std::fs::File::open(words)?)
        .output()?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

workflow! {
    fn counting(words: String) -> String { counted(words) }
}

#[test]
fn output_keeps_stdout_for_the_station_and_stdin_can_be_given() {
    let tmp = crate::support::temp_store();
    let words = tmp.dir.path().join("words");
    std::fs::write(&words, "one two three\n").unwrap();
    let run = Runner::new(&tmp.store).run(counting(words.display().to_string()));
    assert_eq!(run.unwrap().into_output(), "3");
}

/// Starts a shell that records its pid and a grandchild's, then waits for the grandchild.
fn family(ctx: &Ctx, dir: &Path) -> std::io::Result<()> {
    let script = format!(
        "sleep 60 & echo $! > {grandchild}; echo $$ > {child}; wait",
        grandchild = dir.join("grandchild.pid").display(),
        child = dir.join("child.pid").display(),
    );
    ctx.command("sh").args(["-c", &script]).run()
}

#[station(timeout = "500ms")]
fn hangs(ctx: &Ctx, dir: &PathBuf) -> std::io::Result<u32> {
    family(ctx, dir)?;
    Ok(0)
}

workflow! {
    fn hanging(dir: PathBuf) -> u32 { hangs(dir) }
}

#[test]
fn a_timed_out_stations_children_and_their_children_are_gone() {
    let tmp = crate::support::temp_store();
    let dir = tmp.dir.path().to_path_buf();
    let error = Runner::new(&tmp.store)
        .run(hanging(dir.clone()))
        .unwrap_err();
    assert!(error.to_string().contains("timed out"), "{error}");
    let child = wait_for_pid(&dir.join("child.pid"));
    let grandchild = wait_for_pid(&dir.join("grandchild.pid"));
    let gone = crate::support::wait_until(Duration::from_secs(5), || {
        !running(child) && !running(grandchild)
    });
    assert!(
        gone,
        "still running: child {child} {}, grandchild {grandchild} {}",
        running(child),
        running(grandchild)
    );
}

/// Runs a shell that leaves a grandchild holding its stdout behind, and exits.
#[station]
fn leaves(ctx: &Ctx, dir: &PathBuf) -> std::io::Result<u32> {
    let pid = dir.join("left.pid");
    let script = format!("sleep 60 & echo $! > {}; echo leaving", pid.display());
    ctx.command("sh").args(["-c", &script]).run()?;
    Ok(1)
}

workflow! {
    fn leaving(dir: PathBuf) -> u32 { leaves(dir) }
}

#[test]
fn a_child_that_exits_leaving_its_group_holding_the_pipes_returns_and_its_group_ends() {
    let tmp = crate::support::temp_store();
    let dir = tmp.dir.path().to_path_buf();
    let started = std::time::Instant::now();
    let run = Runner::new(&tmp.store).run(leaving(dir.clone())).unwrap();
    // Not the 60 s of the grandchild: the grace period of its group at most, with room.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(*run.output(), 1);
    let left = wait_for_pid(&dir.join("left.pid"));
    let gone = crate::support::wait_until(Duration::from_secs(5), || !running(left));
    assert!(gone, "the grandchild {left} still runs");
}

#[station]
fn serve(ctx: &Ctx, dir: &PathBuf) -> std::io::Result<u32> {
    let script = format!(
        "echo $$ > {}; exec sleep 60",
        dir.join("daemon.pid").display()
    );
    let pid = ctx
        .command("sh")
        .args(["-c", &script])
        .daemon(dir.join("daemon.log"))?;
    // The station's own children end with it, its daemon does not.
    family(ctx, dir)?;
    Ok(pid)
}

workflow! {
    fn serving(dir: PathBuf) -> u32 { serve(dir) }
}

#[test]
fn children_die_with_a_killed_runner_and_a_daemon_outlives_it() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        let dir = PathBuf::from(dir);
        if let Ok(command) = std::env::var(CHILD_CLI) {
            let store = dir.join(".choochoo").display().to_string();
            let args = ["serving", &command, "--store", &store].map(str::to_owned);
            choochoo::cli::main_with_args(args, || serving(dir.clone()));
            return;
        }
        let store = Store::open(dir.join(".choochoo")).unwrap();
        Runner::new(&store).run(serving(dir)).unwrap();
        unreachable!("the runner is killed while its station waits");
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut runner = this_test(tmp.path()).spawn().unwrap();
    let child = wait_for_pid(&tmp.path().join("child.pid"));
    let grandchild = wait_for_pid(&tmp.path().join("grandchild.pid"));
    let daemon = wait_for_pid(&tmp.path().join("daemon.pid"));
    assert!(running(child) && running(grandchild) && running(daemon));

    runner.kill().unwrap();
    runner.wait().unwrap();
    let gone = crate::support::wait_until(Duration::from_secs(5), || !running(child));
    assert!(gone, "the child {child} outlived its SIGKILLed runner");
    let daemon_runs = running(daemon);
    let _ = Command::new("kill").arg(daemon.to_string()).status();
    let _ = Command::new("kill").arg(grandchild.to_string()).status();
    assert!(daemon_runs, "the daemon {daemon} died with the runner");

    // The next open of the store finds the run interrupted, and says so.
    let store = Store::open(tmp.path().join(".choochoo")).unwrap();
    let interrupted = store.interrupted_runs().unwrap();
    assert_eq!(interrupted.len(), 1);
    assert_eq!(
        (interrupted[0].run(), interrupted[0].during()),
        (1, &["serving.output".to_owned()][..])
    );
    let said = interrupted[0].to_string();
    assert!(said.starts_with("run 1 was interrupted at "), "{said}");
    assert!(said.ends_with(" while serving.output ran"), "{said}");
    drop(store);
    for command in ["status", "defects"] {
        let output = this_test(tmp.path())
            .env(CHILD_CLI, command)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(&said),
            "{command} does not say {said:?}:\n{stdout}"
        );
    }
}

/// This test in a process of its own, in the world `dir`.
fn this_test(dir: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "children::children_die_with_a_killed_runner_and_a_daemon_outlives_it",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir);
    command
}
