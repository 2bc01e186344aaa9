//! A test whose server is missing: locally it skips and says so where `cargo test` shows it;
//! with `CHOOCHOO_REQUIRE_SERVERS=1` (CI) it fails, naming the server and how to install it.

use crate::support::REQUIRE_SERVERS;
use std::process::{Command, Output};

/// The server test the children run, with BuildGrid looked for where it is not.
const TEST: &str = "remote::two_stores_share_results_through_buildgrid";

/// Runs `TEST` alone in a child copy of this binary, output captured as libtest captures it.
fn child(require: bool) -> (Output, String, String) {
    let nowhere = tempfile::tempdir().unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", TEST, "--test-threads=1"])
        .env("CHOOCHOO_BUILDGRID", nowhere.path().join("bin/bgd"))
        .env_remove(REQUIRE_SERVERS);
    if require {
        command.env(REQUIRE_SERVERS, "1");
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

#[test]
fn a_missing_server_is_a_visible_skip_locally_and_a_failure_when_required() {
    let (local, stdout, stderr) = child(false);
    assert!(local.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with(&format!("skipped {TEST}: it needs BuildGrid")))
        .unwrap_or_else(|| panic!("no skip line on standard error: {stderr:?}"));
    assert!(line.contains("bash .ci/buildgrid.sh"), "{line}");

    let (required, stdout, stderr) = child(true);
    assert!(!required.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 failed"), "{stdout}");
    let all = stdout + &stderr;
    assert!(
        all.contains(&format!("{TEST} needs BuildGrid, and there is no `bgd` at")),
        "{all}"
    );
    assert!(all.contains("run `bash .ci/buildgrid.sh`"), "{all}");
    assert!(all.contains("CHOOCHOO_REQUIRE_SERVERS=1 is set"), "{all}");
    assert!(!all.contains("skipped"), "{all}");
}
