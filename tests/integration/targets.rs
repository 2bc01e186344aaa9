//! Running only a target: `Runner::targets` and the command line's `run NAME..` and
//! `plan NAME..` reach the named stations and what they need, and leave every other
//! station alone (not run, not blocked, not reported); a name that matches nothing is a
//! usage error naming the closest names.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Action, Runner, Status, station, workflow};
use std::process::ExitCode;

#[station]
fn fetch(source: &str) -> String {
    executed("fetch");
    format!("{source} fetched")
}

#[station]
fn compile(code: &str) -> String {
    executed("compile");
    format!("{code}, compiled")
}

#[station]
fn lint(code: &str) -> usize {
    executed("lint");
    code.len()
}

#[station]
fn docs(source: &str) -> String {
    executed("docs");
    format!("docs of {source}")
}

/// Fails whenever it runs: a station no target needs.
#[station]
fn flaky(code: &str) -> Result<String, std::io::Error> {
    executed("flaky");
    Err(std::io::Error::other(format!("{code}: the mirror is down")))
}

#[station]
fn ship(binary: &str, warnings: &usize, manual: &str, mirrored: &str) -> String {
    executed("ship");
    format!("{binary} ({warnings}), {manual}, {mirrored}")
}

workflow! {
    fn product(source: String) -> String {
        let code = fetch(source);
        let binary = compile(code);
        let warnings = lint(code);
        let manual = docs(source);
        let mirrored = flaky(code);
        ship(binary, warnings, manual, mirrored)
    }
}

fn labels(report: &choochoo::Report) -> Vec<(&str, Status)> {
    report
        .entries()
        .iter()
        .map(|e| (e.label().unwrap_or(e.node()), e.status()))
        .collect()
}

#[test]
fn only_a_targets_upstream_runs_and_a_failure_elsewhere_does_not_fail_the_run() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store).jobs(2).keep_going(true);
    let report = runner
        .targets(["binary"])
        .run(product("repo".to_owned()))
        .unwrap();
    assert_eq!(
        labels(&report),
        [("code", Status::Ran), ("binary", Status::Ran)]
    );
    assert_eq!(
        take_executions(),
        counts(&[("fetch", 1), ("compile", 1)]),
        "lint, docs, the failing mirror and ship are left alone"
    );

    // Two targets, by binding and by function name: each with its own upstream, once.
    let report = runner
        .targets(["warnings", "docs"])
        .run(product("repo".to_owned()))
        .unwrap();
    assert_eq!(
        labels(&report),
        [
            ("code", Status::Cached),
            ("warnings", Status::Ran),
            ("manual", Status::Ran)
        ]
    );
    assert_eq!(take_executions(), counts(&[("lint", 1), ("docs", 1)]));

    // The whole workflow: what the targets ran is in the store; the failure now counts.
    let error = runner.run(product("repo".to_owned())).unwrap_err();
    let report = error.report().expect("a failed run has a report");
    assert_eq!(report.count(Status::Cached), 4);
    assert_eq!(report.count(Status::Failed), 1);
    assert_eq!(report.count(Status::Blocked), 1);
    assert_eq!(take_executions(), counts(&[("flaky", 1)]));
}

#[test]
fn a_failure_inside_the_targets_cone_fails_the_run_and_blocks_only_inside_it() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store).keep_going(true);
    let error = runner
        .targets(["ship"])
        .run(product("repo".to_owned()))
        .unwrap_err();
    let report = error.report().expect("a failed run has a report");
    assert_eq!(report.entries().len(), 6, "ship needs every station");
    assert_eq!(
        report.find("mirrored").next().unwrap().status(),
        Status::Failed
    );
    assert_eq!(
        report.find("ship").next().unwrap().status(),
        Status::Blocked
    );
    let ran = take_executions();
    assert_eq!(ran.get("flaky"), Some(&1));
    assert_eq!(ran.get("ship"), None);
}

#[test]
fn a_plan_of_a_target_names_only_its_cone() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    runner
        .targets(["code"])
        .run(product("repo".to_owned()))
        .unwrap();
    take_executions();
    let plan = runner
        .targets(["binary"])
        .plan(product("repo".to_owned()))
        .unwrap();
    let planned: Vec<(Option<&str>, Action)> = plan
        .entries()
        .iter()
        .map(|p| (p.label(), p.action()))
        .collect();
    assert_eq!(
        planned,
        [
            (Some("code"), Action::Cached),
            (Some("binary"), Action::Run)
        ]
    );
    assert_eq!(take_executions(), counts(&[]), "a plan runs nothing");
}

#[test]
fn an_unknown_target_is_a_usage_error_naming_close_matches_and_runs_nothing() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let error = runner
        .targets(["binary", "lnt"])
        .run(product("repo".to_owned()))
        .unwrap_err();
    assert!(error.report().is_none(), "nothing ran: {error}");
    let message = error.to_string();
    assert!(
        message
            .starts_with("cannot run the target: no station is named `lnt` (did you mean `lint`?)"),
        "{message}"
    );
    let error = runner
        .targets(["manul"])
        .plan(product("repo".to_owned()))
        .unwrap_err();
    assert!(
        error.to_string().contains("(did you mean `manual`?)"),
        "{error}"
    );
    let error = runner
        .targets(["zzzzzz"])
        .run(product("repo".to_owned()))
        .unwrap_err();
    assert!(!error.to_string().contains("did you mean"), "{error}");
    assert_eq!(take_executions(), counts(&[]));
    assert!(
        tmp.store.report(None).unwrap().is_none(),
        "no run is recorded"
    );
}

fn cli(dir: &std::path::Path, args: &[&str]) -> ExitCode {
    let store = dir.join(".choochoo");
    let mut argv = vec!["product", "--store", store.to_str().unwrap()];
    argv.extend_from_slice(args);
    choochoo::cli::main_with_args(argv, || product("repo".to_owned()))
}

#[test]
fn the_command_line_runs_and_plans_only_the_named_stations() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(cli(dir.path(), &["run", "-q", "binary"]), ExitCode::SUCCESS);
    assert_eq!(take_executions(), counts(&[("fetch", 1), ("compile", 1)]));
    assert_eq!(
        cli(dir.path(), &["plan", "warnings", "binary"]),
        ExitCode::SUCCESS
    );
    assert_eq!(
        cli(dir.path(), &["run", "-q", "binary", "warnings"]),
        ExitCode::SUCCESS
    );
    assert_eq!(take_executions(), counts(&[("lint", 1)]));
    assert_eq!(
        cli(dir.path(), &["run", "-q", "binar"]),
        ExitCode::from(2),
        "an unknown name is a usage error"
    );
    assert_eq!(cli(dir.path(), &["run", "-q", "-k"]), ExitCode::from(1));
    assert_eq!(take_executions(), counts(&[("docs", 1), ("flaky", 1)]));
}
