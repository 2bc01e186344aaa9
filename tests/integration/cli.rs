//! The command line, as an operator uses it: the `deploy` example's workflow behind
//! `choochoo::cli`, run as a child process (this test binary, asked to run only
//! [`program`]), through run / plan / status / clean / graph / trace / report / defects,
//! checking what it prints and how it exits. The HTML report is opened in a real headless
//! Chromium.

use choochoo::{Graph, Node, Status, Store, station};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[path = "../../examples/deploy.rs"]
#[allow(
    dead_code,
    reason = "the example's own `main` is not used here; `program` is"
)]
mod deploy;

/// The arguments of the child program, as JSON.
const ARGS: &str = "CHOOCHOO_TEST_CLI_ARGS";
/// `graph`, `map`, `items`, `warnings` or `cleans` makes the child program a builder graph
/// instead of the deploy workflow; `checks`, the shop of `checks.rs`, in `world/` under its
/// working directory; `sub`, the shop of `sub_workflows_shop.rs`, which calls a sub-workflow.
pub(crate) const PROGRAM: &str = "CHOOCHOO_TEST_CLI_PROGRAM";

/// The workflow program the tests run: a one-line `main`, reached through this test.
#[test]
#[ignore = "the program the cli tests run as a child process"]
fn program() {
    let Ok(args) = std::env::var(ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("the arguments as JSON");
    let code = match std::env::var(PROGRAM).as_deref() {
        Ok("graph") => choochoo::cli::main_with_args(args, squares),
        Ok("map") => choochoo::cli::main_with_args(args, mapped),
        Ok("items") => choochoo::cli::main_with_args(args, crate::cli_items::build),
        Ok("warnings") => choochoo::cli::main_with_args(args, crate::cli_warnings::build),
        Ok("cleans") => choochoo::cli::main_with_args(args, crate::cleans_shop::build),
        Ok("sub") => choochoo::cli::main_with_args(args, || {
            crate::sub_workflows_shop::shop(PathBuf::from("world.log"))
        }),
        Ok("checks") => {
            choochoo::cli::main_with_args(args, || crate::checks::shop(PathBuf::from("world")))
        }
        _ => choochoo::cli::main_with_args(args, || deploy::deploy("shop".to_owned())),
    };
    let code = (0..=u8::MAX)
        .find(|n| ExitCode::from(*n) == code)
        .unwrap_or(101);
    std::process::exit(i32::from(code));
}

/// Squares a number.
#[station]
fn square(x: &u64) -> u64 {
    x * x
}

/// Adds numbers up.
#[station]
fn sum(xs: &Vec<u64>) -> u64 {
    xs.iter().sum()
}

/// A builder graph and its output, the other kind of program `cli::main` takes.
fn squares() -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let xs: Vec<Node<u64>> = (1..=10).map(|x| g.input(x)).collect();
    let squares: Vec<Node<u64>> = xs.iter().map(|x| g.add(Square, (x,))).collect();
    let total = g.add(Sum, (&squares,));
    (g, total)
}

/// A station mapped over a list: one station of the graph, run once per item.
fn mapped() -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let list = g.input((1..=50).collect::<Vec<u64>>());
    let squares = g.map(Square, &list, ());
    let total = g.add(Sum, (&squares,));
    (g, total)
}

/// What one invocation printed, and how it exited.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// A working directory with its store (the default `.choochoo`), where the program runs.
pub(crate) struct Site {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl Site {
    pub(crate) fn new() -> Site {
        Site {
            dir: tempfile::tempdir().expect("a temporary directory"),
            env: vec![("DEPLOY_PACE_MS", "1".to_owned())],
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn with(mut self, name: &'static str, value: &str) -> Site {
        self.env.push((name, value.to_owned()));
        self
    }

    /// Runs the program with `args`, with the environment of this site plus `env`.
    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut argv = vec!["deploy"];
        argv.extend_from_slice(args);
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut command = Command::new(exe);
        command
            .args(["--exact", "cli::program", "--ignored", "--nocapture", "-q"])
            .env(ARGS, serde_json::to_string(&argv).unwrap())
            .env_remove("DEPLOY_BROKEN")
            .env_remove(PROGRAM)
            .current_dir(self.path())
            .stdin(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("run the program");
        let stdout = String::from_utf8_lossy(&output.stdout);
        // The test harness announces the test before the program prints anything.
        let stdout = match stdout.split_once("running 1 test\n") {
            Some((_, program)) => program.to_owned(),
            None => stdout.into_owned(),
        };
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs and expects exit code `code`.
    pub(crate) fn expect(&self, code: i32, args: &[&str]) -> Output {
        self.expect_with(code, args, &[])
    }

    pub(crate) fn expect_with(&self, code: i32, args: &[&str], env: &[(&str, &str)]) -> Output {
        let output = self.run_with(args, env);
        assert_eq!(
            output.code,
            code,
            "`{}` exited {} instead of {code}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            output.code,
            output.stdout,
            output.stderr
        );
        output
    }

    fn store(&self) -> Store {
        Store::open(self.path().join(".choochoo")).expect("open the store")
    }
}

const STATIONS: [&str; 6] = [
    "deploy.release",
    "deploy.artifact",
    "deploy.tests",
    "deploy.url",
    "deploy.schema",
    "deploy.output",
];

const BROKEN: (&str, &str) = ("DEPLOY_BROKEN", "upload");

/// The STATE column of `status`, by station.
fn states(status: &str) -> BTreeMap<String, String> {
    status
        .lines()
        .skip(1)
        .filter(|line| line.contains("deploy."))
        .map(|line| {
            let station = line
                .split_whitespace()
                .find(|word| word.starts_with("deploy."))
                .unwrap()
                .to_owned();
            let state = line[..line.find("deploy.").unwrap()].trim().to_owned();
            (station, state)
        })
        .collect()
}

#[test]
fn run_plan_and_status_show_what_runs_and_what_is_cached() {
    let site = Site::new();
    let plan: Value = serde_json::from_str(&site.expect(0, &["plan", "--format", "json"]).stdout)
        .expect("plan --format json prints JSON");
    assert_eq!(plan["workflow"], "deploy");
    assert_eq!(plan["counts"]["cached"], 0);
    assert_eq!(plan["stations"].as_array().unwrap().len(), 6);
    assert_eq!(plan["stations"][0]["node"], "deploy.release");
    assert_eq!(plan["stations"][0]["reason"], "no record");

    let states_before = states(&site.expect(0, &["status"]).stdout);
    assert!(
        states_before.values().all(|state| state == "never run"),
        "{states_before:?}"
    );

    let first = site.expect(0, &["run", "--jobs", "2"]);
    assert!(
        first.stdout.contains("6 stations: 6 ran in "),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("output: \"released https://releases.example.com/shop/1.4.2"),
        "{}",
        first.stdout
    );
    // Not a terminal: one plain line per event, the station's own progress included.
    assert!(
        first.stderr.contains("start    deploy.artifact"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains("working  deploy.artifact 100% (12/12)"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains("working  deploy.url 100% (768.00 KiB/768.00 KiB)"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("[6/6] ran      deploy.output"),
        "{}",
        first.stderr
    );

    let status = site.expect(0, &["status"]).stdout;
    let after = states(&status);
    assert_eq!(after.len(), 6);
    assert!(after.values().all(|state| state == "cached"), "{status}");
    assert!(status.contains("6 stations: 6 cached"), "{status}");

    let second = site.expect(0, &["run", "--quiet"]);
    assert!(
        second.stdout.contains("6 stations: 6 cached in "),
        "{}",
        second.stdout
    );
    assert_eq!(second.stderr, "", "--quiet prints no progress");
    let plan = site.expect(0, &["plan"]).stdout;
    assert!(
        plan.contains("6 stations: 0 to run, 0 may run, 6 cached"),
        "{plan}"
    );

    let forced = site.expect(0, &["run", "--force", "schema", "--verbose"]);
    assert!(
        forced.stdout.contains("ran  deploy.schema"),
        "{}",
        forced.stdout
    );
    assert!(forced.stdout.contains("forced"), "{}", forced.stdout);
    assert!(
        forced.stderr.contains("cached   deploy.release"),
        "--verbose shows cached stations"
    );
    let downstream = site.expect(0, &["run", "--force-downstream", "deploy.tests"]);
    assert!(
        downstream.stdout.contains("6 stations: 2 ran, 4 cached"),
        "{}",
        downstream.stdout
    );
}

#[test]
fn a_failure_exits_1_is_a_defect_and_the_next_run_resumes() {
    let site = Site::new();
    let failed = site.expect_with(1, &["run", "--jobs", "2"], &[BROKEN]);
    assert!(
        failed.stderr.contains(
            "error: station `url` failed: cannot upload shop-1.4.2.tar: \
             connection reset by registry.internal:443; 1 blocked"
        ),
        "the whole chain: {}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("  deploy.url failed after "),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("  deploy.output was blocked"),
        "{}",
        failed.stderr
    );
    assert!(
        failed
            .stderr
            .contains("defect #1 (new): deploy defects show 1"),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    assert!(
        failed.stdout.contains("1 failed, 1 blocked"),
        "{}",
        failed.stdout
    );

    let status = site.expect(0, &["status"]).stdout;
    let states = states(&status);
    assert_eq!(states["deploy.url"], "failed", "{status}");
    assert_eq!(states["deploy.output"], "never run", "{status}");
    assert_eq!(states["deploy.artifact"], "cached", "{status}");
    assert!(
        status.contains("connection reset by registry.internal:443"),
        "{status}"
    );

    let list = site.expect(0, &["defects"]).stdout;
    assert!(list.contains("#1"), "{list}");
    assert!(list.contains("open"), "{list}");
    assert!(list.contains("cannot upload shop-1.4.2.tar"), "{list}");
    let show = site.expect(0, &["defects", "show", "1"]).stdout;
    assert!(
        show.contains("caused by: connection reset by registry.internal:443"),
        "{show}"
    );
    assert!(
        show.contains("| sent 393216 of 786432 bytes; the registry hung up"),
        "{show}"
    );

    site.expect(
        0,
        &["defects", "note", "#1", "--remedy", "restart the registry"],
    );
    assert!(
        site.expect(0, &["defects", "show", "1"])
            .stdout
            .contains("restart the registry")
    );
    site.expect(0, &["defects", "fix", "1"]);
    assert!(
        site.expect(0, &["defects", "list"])
            .stdout
            .contains("fixed")
    );
    let ticket: Value = serde_json::from_str(
        &site
            .expect(0, &["defects", "export", "1", "--format", "json"])
            .stdout,
    )
    .expect("a JSON ticket");
    assert!(ticket.is_object());
    let markdown = site
        .expect(0, &["defects", "export", "1", "--format", "md"])
        .stdout;
    assert!(markdown.starts_with("# Defect #1"), "{markdown}");
    let missing = site.expect(2, &["defects", "show", "99"]);
    assert!(
        missing.stderr.contains("there is no defect #99"),
        "{}",
        missing.stderr
    );

    let again = site.expect_with(1, &["run"], &[BROKEN]);
    assert!(
        again
            .stderr
            .contains("defect #1 (open, seen 2 times, came back after it was marked fixed)"),
        "{}",
        again.stderr
    );
    assert!(
        again
            .stderr
            .contains("How to identify / remedy: restart the registry"),
        "the team's note comes with the failure: {}",
        again.stderr
    );

    let fixed = site.expect(0, &["run"]);
    assert!(
        fixed.stdout.contains("6 stations: 2 ran, 4 cached"),
        "{}",
        fixed.stdout
    );
    assert!(
        fixed.stderr.contains("ran      deploy.url"),
        "{}",
        fixed.stderr
    );
}

#[test]
fn clean_with_names_cleans_only_those_stations() {
    let site = Site::new();
    site.expect(0, &["run"]);
    let cleaned = site.expect(0, &["clean", "--only", "--yes", "url"]).stdout;
    assert!(cleaned.contains("cleaned 1: deploy.url"), "{cleaned}");
    let states = states(&site.expect(0, &["status"]).stdout);
    assert_eq!(states["deploy.url"], "stale");
    assert_eq!(states["deploy.artifact"], "cached");
    assert_eq!(states["deploy.schema"], "cached");

    let again = site.expect(0, &["run"]);
    assert!(
        again.stdout.contains("6 stations: 1 ran, 5 cached"),
        "early cutoff: {}",
        again.stdout
    );

    let all = site.expect(0, &["clean", "--yes"]).stdout;
    assert!(all.contains("cleaned 6"), "{all}");
    let states = crate::cli::states(&site.expect(0, &["status"]).stdout);
    assert!(states.values().all(|state| state != "cached"), "{states:?}");
    let unknown = site.expect(2, &["clean", "nosuch"]);
    assert!(
        unknown.stderr.contains("no station is named `nosuch`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn fsck_gc_and_pins_keep_the_store_in_shape() {
    let site = Site::new();
    site.expect(0, &["run"]);
    let fsck = site.expect(0, &["fsck"]).stdout;
    assert!(fsck.contains("checked 6 records"), "{fsck}");
    assert!(fsck.contains("0 problems"), "{fsck}");
    let run = site
        .store()
        .report(None)
        .unwrap()
        .unwrap()
        .run_id()
        .to_string();
    let pinned = site.expect(0, &["pin", &run]).stdout;
    assert!(pinned.contains(&format!("pinned run {run}")), "{pinned}");
    assert_eq!(site.store().pinned().unwrap().len(), 1);
    let missing = site.expect(2, &["pin", "9999"]);
    assert!(
        missing.stderr.contains("there is no run 9999"),
        "{}",
        missing.stderr
    );
    let dry = site
        .expect(0, &["gc", "--dry-run", "--max-bytes", "0"])
        .stdout;
    assert!(
        dry.contains("would remove 0 records"),
        "current records stay: {dry}"
    );
    let unpinned = site.expect(0, &["unpin", &run]).stdout;
    assert!(
        unpinned.contains(&format!("unpinned run {run}")),
        "{unpinned}"
    );
    assert!(site.store().pinned().unwrap().is_empty());
}

#[test]
fn mistakes_exit_2_with_a_readable_error() {
    let site = Site::new();
    let unknown = site.expect(2, &["frobnicate"]);
    assert!(
        unknown.stderr.contains("unrecognized subcommand"),
        "{}",
        unknown.stderr
    );
    let force = site.expect(2, &["run", "--force", "nosuch"]);
    assert!(
        force
            .stderr
            .starts_with("error: no station is named `nosuch`"),
        "{}",
        force.stderr
    );
    let no_run = site.expect(2, &["trace"]);
    assert!(
        no_run
            .stderr
            .contains("no run of the profile `default` has finished"),
        "{}",
        no_run.stderr
    );
    site.expect(0, &["run"]);
    let missing = site.expect(2, &["report", "--run", "999"]);
    assert!(
        missing.stderr.contains("there is no run 999"),
        "{}",
        missing.stderr
    );
    std::fs::write(site.path().join("not-a-dir"), "").unwrap();
    let store = site.expect(2, &["--store", "not-a-dir", "status"]);
    assert!(
        store
            .stderr
            .starts_with("error: cannot create the store directory"),
        "{}",
        store.stderr
    );
    assert!(
        !store.stderr.contains("Error {"),
        "no Debug dumps: {}",
        store.stderr
    );
    let help = site.expect(0, &["--help"]);
    for command in [
        "run", "plan", "status", "clean", "graph", "trace", "report", "defects",
    ] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
}

#[test]
fn a_builder_graph_is_a_program_too() {
    let site = Site::new().with(PROGRAM, "graph");
    let run = site.expect(0, &["run"]);
    assert!(run.stdout.contains("11 stations: 11 ran"), "{}", run.stdout);
    assert!(run.stdout.contains("output: 385"), "{}", run.stdout);
    let dot = site.expect(0, &["graph", "--format", "dot"]).stdout;
    assert!(dot.starts_with("digraph \"graph\""), "{dot}");
    assert_eq!(dot.matches("-> \"sum-").count(), 10, "{dot}");
}

#[test]
fn a_map_shows_each_of_its_items_as_a_station_of_its_own() {
    let site = Site::new().with(PROGRAM, "map");
    let run = site.expect(0, &["run"]);
    assert!(
        run.stdout
            .contains("2 stations: 2 ran; 50 items: 50 ran in "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("output: 42925"), "{}", run.stdout);
    let starts: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(" start "))
        .collect();
    assert_eq!(
        starts.len(),
        51,
        "one line per item and the sum: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("[52/52] ran      sum-"),
        "the items count into the total: {}",
        run.stderr
    );
}

/// Checks a trace against the trace-event format and returns its events' names (those of
/// stations), one per occurrence.
fn check_trace(trace: &str) -> Vec<String> {
    let trace: Value = serde_json::from_str(trace).expect("the trace is JSON");
    let events = trace["traceEvents"]
        .as_array()
        .expect("a traceEvents array");
    let mut tracks: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    let mut names = Vec::new();
    for event in events {
        let ph = event["ph"].as_str().expect("every event has a phase");
        assert!(event["pid"].is_u64() && event["tid"].is_u64(), "{event}");
        match ph {
            "M" => assert!(event["args"]["name"].is_string(), "{event}"),
            "X" => {
                let (ts, dur) = (
                    event["ts"].as_u64().unwrap(),
                    event["dur"].as_u64().unwrap(),
                );
                tracks
                    .entry(event["tid"].as_u64().unwrap())
                    .or_default()
                    .push((ts, ts + dur));
                assert!(event["args"]["status"].is_string(), "{event}");
                names.push(event["name"].as_str().unwrap().to_owned());
            }
            "i" => {
                assert!(event["ts"].is_u64(), "{event}");
                names.push(event["name"].as_str().unwrap().to_owned());
            }
            other => panic!("unexpected phase {other}: {event}"),
        }
    }
    for (tid, mut spans) in tracks {
        spans.sort();
        // On one track, spans nest: each starts after the one before ended, or inside it.
        let mut open: Vec<(u64, u64)> = Vec::new();
        for (start, end) in spans {
            while open.last().is_some_and(|(_, e)| *e <= start) {
                open.pop();
            }
            if let Some((_, parent_end)) = open.last() {
                assert!(end <= *parent_end, "spans overlap on track {tid}");
            }
            open.push((start, end));
        }
    }
    names
}

#[test]
fn trace_is_trace_event_json_with_every_station_once() {
    let site = Site::new();
    site.expect_with(1, &["run", "--jobs", "2", "--keep-going"], &[BROKEN]);
    let store = site.store();
    let report = store
        .report(None)
        .unwrap()
        .expect("the failed run's report");
    let failed_trace = site.expect(0, &["trace"]).stdout;
    let mut names = check_trace(&failed_trace);
    names.sort();
    let mut expected: Vec<String> = report
        .entries()
        .iter()
        .filter(|e| e.status() != Status::Cached)
        .map(|e| e.node().to_owned())
        .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "every station that did not come from the store, once"
    );
    assert_eq!(names.len(), 6);
    let trace: Value = serde_json::from_str(&failed_trace).unwrap();
    let url = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "deploy.url")
        .unwrap();
    assert_eq!(url["ph"], "X");
    assert_eq!(url["args"]["status"], "failed");
    assert!(
        url["args"]["error"]
            .as_str()
            .unwrap()
            .contains("connection reset")
    );

    site.expect(0, &["run"]);
    let out = site.path().join("trace.json");
    let written = site.expect(0, &["trace", "--out", out.to_str().unwrap()]);
    assert!(
        written.stdout.contains("ui.perfetto.dev"),
        "{}",
        written.stdout
    );
    let mut names = check_trace(&std::fs::read_to_string(&out).unwrap());
    names.sort();
    assert_eq!(
        names,
        ["deploy.output", "deploy.url"],
        "the fixed run ran two stations"
    );
    let first = check_trace(
        &site
            .expect(0, &["trace", "--run", &report.run_id().to_string()])
            .stdout,
    );
    assert_eq!(first.len(), 6, "an earlier run by its id");
}

#[test]
fn graph_draws_every_station_coloured_by_its_last_status() {
    let site = Site::new();
    site.expect_with(1, &["run"], &[BROKEN]);
    let dot = site.expect(0, &["graph", "--format", "dot"]).stdout;
    assert!(dot.starts_with("digraph \"deploy\" {"), "{dot}");
    for station in STATIONS {
        assert!(
            dot.contains(&format!("\"{station}\" [label=")),
            "{station} in {dot}"
        );
    }
    assert!(
        dot.contains("\"deploy.url\" [label=\"url\\nupload\", fillcolor=\"#f4a0a0\""),
        "{dot}"
    );
    assert!(
        dot.contains("\"deploy.artifact\" -> \"deploy.url\";"),
        "{dot}"
    );
    let mermaid = site.expect(0, &["graph", "--format", "mermaid"]).stdout;
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(mermaid.contains("classDef failed"), "{mermaid}");
    let svg = site.expect(0, &["graph"]).stdout;
    assert!(svg.starts_with("<svg "), "{svg}");
    assert!(
        svg.contains("class=\"station failed\" data-node=\"deploy.url\""),
        "{svg}"
    );
    assert!(
        svg.contains("class=\"station blocked\" data-node=\"deploy.output\""),
        "{svg}"
    );
    assert!(
        svg.contains("class=\"station ran\" data-node=\"deploy.artifact\""),
        "{svg}"
    );
}

/// Chromium's name on this machine, if it is installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// The DOM of `page` after Chromium loaded it.
fn dump_dom(chromium: &str, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {:?}",
        output.status
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_html_report_opens_in_a_browser() {
    let site = Site::new();
    site.expect_with(1, &["run"], &[BROKEN]);
    let page: PathBuf = site.path().join("report.html");
    let wrote = site.expect(0, &["report"]);
    assert!(
        wrote.stdout.contains("wrote report.html (run 1)"),
        "{}",
        wrote.stdout
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "self-contained and static");
    assert!(!html.contains("src=\"http"), "nothing to load");

    let Some(chromium) = chromium() else {
        return crate::support::skip(
            "Chromium",
            "neither `chromium` nor `chromium-browser` runs",
            "install it (`apt-get install chromium` on Debian, as .ci/run does)",
        );
    };
    let dom = dump_dom(chromium, &page.canonicalize().unwrap());
    assert!(dom.contains("<section id=\"graph\">"), "{dom}");
    for station in STATIONS {
        assert!(
            dom.contains(&format!("data-node=\"{station}\"")),
            "{station} in the graph"
        );
    }
    assert!(dom.contains("class=\"station failed\" data-node=\"deploy.url\""));
    let failures = &dom[dom
        .find("<section id=\"failures\">")
        .expect("a failures section")..];
    assert!(
        failures.contains("cannot upload shop-1.4.2.tar"),
        "{failures}"
    );
    assert!(
        failures.contains("connection reset by registry.internal:443"),
        "the chain"
    );
    assert!(failures.contains("the registry hung up"), "the log tail");
    assert!(dom.contains("id=\"defect-1\""), "the defect involved");
    assert!(dom.contains("<section id=\"timeline\">"));
    assert!(
        dom.contains("class=\"bar failed\""),
        "the timeline shows the failure"
    );
}

#[test]
fn diagrams_and_traces_come_from_the_library_too() {
    let mut g = Graph::new();
    let xs: Vec<Node<u64>> = (1..=2000).map(|x| g.input(x)).collect();
    let squares: Vec<Node<u64>> = xs.iter().map(|x| g.add(Square, (x,))).collect();
    let total = g.add(Sum, (&squares,));
    let diagram = choochoo::Diagram::of_graph(&g).unwrap();
    assert_eq!(diagram.dot().matches(" -> ").count(), 4000);
    let started = Instant::now();
    let svg = diagram.svg();
    assert!(
        svg.contains("square ×2000"),
        "too many nodes to draw one by one: {svg}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let run = choochoo::Runner::new(&store)
        .jobs(2)
        .run((g, total))
        .unwrap();
    assert_eq!(*run.output(), (1..=2000u64).map(|x| x * x).sum::<u64>());
    let names = check_trace(&run.report().chrome_trace());
    assert_eq!(
        names.len(),
        2001,
        "a live report has every station that ran"
    );
    let html = run.report().html(&store, &diagram).unwrap();
    assert!(html.contains("2001 ran"), "the summary counts them");
}
