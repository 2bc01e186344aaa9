//! Smoke test of `choochoo-bench` on a 100-step layered workload made by the peer harness's
//! `gen.py`, in both exec modes: a clean build runs every step and `verify.py` accepts the
//! outputs, a second run executes nothing, editing the middle input re-runs exactly its
//! downstream cone, touching it re-runs nothing, and salting one step's command re-runs
//! that step only (its output bytes are the same). Skipped, with a message, without python3.

use benches::spec::Spec;
use std::path::{Path, PathBuf};
use std::process::Command;

const STEPS: usize = 100;

/// `shared/bench`, beside the checkout.
fn harness() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench")
}

fn has_python() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

fn python(script: &str, args: &[&str]) {
    let path = harness().join(script);
    assert!(path.exists(), "{} is missing", path.display());
    let out = Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{script} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn generate(dir: &Path) {
    let nodes = STEPS.to_string();
    let out = dir.to_str().expect("a UTF-8 temporary path");
    python(
        "gen.py",
        &[
            "--nodes",
            &nodes,
            "--shape",
            "layered",
            "--seed",
            "1",
            "--input-bytes",
            "256",
            "--out",
            out,
        ],
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
    let out = Command::new(env!("CARGO_BIN_EXE_choochoo-bench"))
        .args(["--jobs", "2", "--exec", exec])
        .arg(dir)
        .output()
        .expect("choochoo-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "choochoo-bench failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    python(
        "verify.py",
        &[dir.to_str().expect("a UTF-8 temporary path")],
    );
    executed
}

fn spec(dir: &Path) -> Spec {
    Spec::read(&dir.join("graph.json")).expect("graph.json")
}

/// Changes the first byte of `path`, as the harness's "content" phase does.
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

/// Sets a `salt` on the step `id` in `graph.json`, as the harness's "cmd" phase does.
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
    if !has_python() {
        println!("skipped: python3 is not installed, and the workload generator needs it");
        return;
    }
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path();
    generate(dir);
    assert_eq!(build(exec, dir), STEPS, "clean build");
    assert_eq!(build(exec, dir), 0, "no-op");

    let graph = spec(dir);
    let input = &graph.inputs[graph.inputs.len() / 2];
    let cone = graph.cone(input).len();
    assert!(cone > 1, "the middle input should feed several steps");
    edit(&dir.join(input));
    assert_eq!(build(exec, dir), cone, "editing {input}");
    touch(&dir.join(input));
    assert_eq!(build(exec, dir), 0, "touching {input}");

    let step = &graph.steps[graph.steps.len() / 2];
    assert!(!graph.cone(&step.output).is_empty());
    salt(dir, &step.id);
    assert_eq!(build(exec, dir), 1, "salting {}", step.id);
}

#[test]
fn shell_steps_rebuild_exactly_what_changed() {
    scenario("shell");
}

#[test]
fn inproc_steps_rebuild_exactly_what_changed() {
    scenario("inproc");
}
