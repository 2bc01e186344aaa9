//! Smoke test of `choochoo-bench` on a 100-step layered workload made by `choochoo-gen`, in
//! both exec modes: a clean build runs every step and `choochoo-verify` accepts the outputs,
//! a second run executes nothing, editing the middle input re-runs exactly its downstream
//! cone, touching it re-runs nothing, and salting one step's command re-runs that step only
//! (its output bytes are the same). A wrong output is caught by the verifier.

use benches::spec::Spec;
use std::path::Path;
use std::process::{Command, Output};

const STEPS: usize = 100;

/// Runs one of this package's programs and returns what it printed, after checking that it
/// exited as `expect` says.
fn program(exe: &str, args: &[&str], dir: &Path, expect: bool) -> Output {
    let out = Command::new(exe)
        .args(args)
        .arg(dir)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {exe}: {error}"));
    assert_eq!(
        out.status.success(),
        expect,
        "{exe} {args:?} {}: {}\n{}{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn generate(dir: &Path) {
    let nodes = STEPS.to_string();
    let args = [
        "--nodes",
        &nodes,
        "--shape",
        "layered",
        "--seed",
        "1",
        "--input-bytes",
        "256",
        "--out",
    ];
    program(env!("CARGO_BIN_EXE_choochoo-gen"), &args, dir, true);
}

/// Checks every output with `choochoo-verify`.
fn verify(dir: &Path) {
    let out = program(env!("CARGO_BIN_EXE_choochoo-verify"), &[], dir, true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{STEPS} outputs match")),
        "{stdout}"
    );
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// Runs the bench binary on `dir`; returns the executed count it printed, after checking
/// that it agrees with the lines the steps appended to `.steps.log`, and that the outputs
/// are right.
fn build(exec: &str, dir: &Path) -> usize {
    let log = dir.join(".steps.log");
    let before = lines(&log);
    let args = ["--jobs", "2", "--exec", exec];
    let out = program(env!("CARGO_BIN_EXE_choochoo-bench"), &args, dir, true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let executed: usize = stdout
        .lines()
        .find_map(|line| line.strip_prefix("steps_executed="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no steps_executed=N in {stdout:?}"));
    assert_eq!(
        lines(&log) - before,
        executed,
        ".steps.log and the report disagree"
    );
    verify(dir);
    executed
}

fn spec(dir: &Path) -> Spec {
    Spec::read(&dir.join("graph.json")).expect("graph.json")
}

/// Changes the first byte of `path`, as a side-by-side run's "content" phase does.
fn edit(path: &Path) {
    let mut bytes = std::fs::read(path).expect("input");
    bytes[0] = if bytes[0] == b'X' { b'Y' } else { b'X' };
    std::fs::write(path, bytes).expect("edit");
}

/// Rewrites `path` with the bytes it has: a new mtime, the same content.
fn touch(path: &Path) {
    let bytes = std::fs::read(path).expect("input");
    std::fs::write(path, bytes).expect("touch");
}

/// Sets a `salt` on the step `id` in `graph.json`, as a side-by-side run's "cmd" phase does.
fn salt(dir: &Path, id: &str) {
    let path = dir.join("graph.json");
    let text = std::fs::read_to_string(&path).expect("graph.json");
    let mut graph: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let steps = graph["steps"].as_array_mut().expect("steps");
    let step = steps
        .iter_mut()
        .find(|step| step["id"] == id)
        .expect("the step");
    step["salt"] = "v2".into();
    std::fs::write(&path, graph.to_string()).expect("graph.json written");
}

fn scenario(exec: &str) {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path();
    generate(dir);
    assert_eq!(build(exec, dir), STEPS, "clean build");
    assert_eq!(build(exec, dir), 0, "no-op");

    let graph = spec(dir);
    let input = &graph.inputs[graph.inputs.len() / 2];
    let cone = graph.cone(input).len();
    assert_eq!(
        cone, 17,
        "the cone of the layered-100 workload in benches/RESULTS.md"
    );
    edit(&dir.join(input));
    assert_eq!(build(exec, dir), cone, "editing {input}");
    touch(&dir.join(input));
    assert_eq!(build(exec, dir), 0, "touching {input}");

    let step = &graph.steps[graph.steps.len() / 2];
    assert!(!graph.cone(&step.output).is_empty());
    salt(dir, &step.id);
    assert_eq!(build(exec, dir), 1, "salting {}", step.id);

    // The verifier is not fooled by an output the build did not write.
    let last = &graph.steps.last().expect("steps").output;
    std::fs::write(dir.join(last), "0\n").expect("an output overwritten");
    let out = program(env!("CARGO_BIN_EXE_choochoo-verify"), &[], dir, false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{last}: wrong bytes")), "{stdout}");
}

#[test]
fn shell_steps_rebuild_exactly_what_changed() {
    scenario("shell");
}

#[test]
fn inproc_steps_rebuild_exactly_what_changed() {
    scenario("inproc");
}
