//! Watch mode from the command line, `run --watch`, as a child process with a bounded
//! lifetime: an edit to a declared input and one to a discovered input each run exactly
//! their cone again, a burst of edits is at most two runs, an edit during a run gives one
//! more run after it, and Ctrl-C lets the station running finish and leaves the store
//! consistent. Counters are lines the stations append to `ran.log` in the child's
//! directory.

use choochoo::{Ctx, File, Store, station, workflow};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The arguments of the child program, as JSON.
const ARGS: &str = "CHOOCHOO_TEST_WATCH_ARGS";
/// Long enough for a loaded machine; a child that needs it has failed anyway.
const PATIENCE: Duration = Duration::from_secs(60);
/// How long a slow `words` takes, so that a test can act while it runs.
const SLOW: Duration = Duration::from_millis(1500);

/// One more line in the log of what ran.
fn ran(name: &str) -> std::io::Result<()> {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open("ran.log")?;
    // One write, so lines of stations running at once do not interleave.
    log.write_all(format!("{name}\n").as_bytes())
}

/// Counts the words of the document; slowly when it says `slow`, saying when it starts.
#[station]
fn words(doc: &File) -> std::io::Result<usize> {
    ran("words")?;
    let text = std::fs::read_to_string(doc.path())?;
    if text.contains("slow") {
        std::fs::write("words-started", "")?;
        std::thread::sleep(SLOW);
    }
    Ok(text.split_whitespace().count())
}

/// Reads the template, a discovered input.
#[station]
fn render(ctx: &Ctx) -> std::io::Result<String> {
    ran("render")?;
    Ok(String::from_utf8_lossy(&ctx.read("template.txt")?).into_owned())
}

#[station]
fn combine(count: &usize, page: &str) -> std::io::Result<String> {
    ran("combine")?;
    Ok(format!("{page}: {count} words"))
}

/// Depends on nothing that changes.
#[station]
fn stamp() -> std::io::Result<String> {
    ran("stamp")?;
    Ok("v1".to_owned())
}

workflow! {
    fn page(doc: File) -> (String, String) {
        let count = words(doc);
        let template = render();
        let page = combine(count, template);
        let stamped = stamp();
        (page, stamped)
    }
}

/// The workflow program the watch test runs.
#[test]
#[ignore = "the program the watch test runs as a child process"]
fn program() {
    let Ok(args) = std::env::var(ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("the arguments as JSON");
    let code = choochoo::cli::main_with_args(args, || page(File::new("doc.txt")));
    let code = (0..=u8::MAX)
        .find(|n| ExitCode::from(*n) == code)
        .unwrap_or(101);
    std::process::exit(i32::from(code));
}

/// The child running `run --watch`, killed when dropped, and the lines it prints.
struct Watching {
    child: Child,
    lines: Receiver<String>,
    /// Everything it printed so far, for failure messages.
    printed: String,
    dir: PathBuf,
    /// How many lines of `ran.log` were counted already.
    counted: usize,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watching {
    fn start(dir: &Path) -> Watching {
        let argv = ["page", "run", "--watch", "--jobs", "4"];
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "watch::program",
                "--ignored",
                "--nocapture",
                "-q",
            ])
            .env(ARGS, serde_json::to_string(&argv).unwrap())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .expect("start the program");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Watching {
            child,
            lines,
            printed: String::new(),
            dir: dir.to_path_buf(),
            counted: 0,
        }
    }

    /// Waits for a line that starts with `start`; the lines before it included.
    fn expect(&mut self, start: &str) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.printed += &format!("{line}\n");
                    let found = line.starts_with(start);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(error) => panic!(
                    "no line `{start}..` ({error:?}); printed:\n{}",
                    self.printed
                ),
            }
        }
    }

    /// Waits for the end of a run and for the watch to go on after it; the run's summary.
    fn next_run(&mut self) -> String {
        let lines = self.expect("watching ");
        let summary = lines.iter().rev().find(|line| line.contains(" (run "));
        summary
            .cloned()
            .unwrap_or_else(|| panic!("no summary in {lines:?}"))
    }

    /// The lines `ran.log` gained since the last call, counted by station.
    fn ran(&mut self) -> BTreeMap<String, usize> {
        let log = std::fs::read_to_string(self.dir.join("ran.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let mut counts = BTreeMap::new();
        for name in &lines[self.counted..] {
            *counts.entry((*name).to_owned()).or_default() += 1;
        }
        self.counted = lines.len();
        counts
    }

    /// The lines printed within `wait` from now, without expecting any.
    fn quiet_for(&mut self, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.printed += &format!("{line}\n");
                    seen.push(line);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return seen,
            }
        }
    }

    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for the child to exit; its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the program did not exit; printed:\n{}", self.printed);
    }
}

/// The program's `plan --format json` in `dir`.
fn plan(dir: &Path) -> serde_json::Value {
    let argv = ["page", "plan", "--format", "json"];
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "watch::program",
            "--ignored",
            "--nocapture",
            "-q",
        ])
        .env(ARGS, serde_json::to_string(&argv).unwrap())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run the program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = &stdout[stdout.find('{').expect("a plan")..];
    serde_json::from_str(json).expect("the plan as JSON")
}

fn counts(items: &[(&str, usize)]) -> BTreeMap<String, usize> {
    items.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

/// Waits for `path` to exist.
fn appears(path: &Path) -> bool {
    crate::support::wait_until(PATIENCE, || path.exists())
}

#[test]
fn watch_runs_exactly_the_cone_of_each_change_and_stops_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (doc, template) = (dir.path().join("doc.txt"), dir.path().join("template.txt"));
    std::fs::write(&doc, "one").unwrap();
    std::fs::write(&template, "count").unwrap();
    let mut watching = Watching::start(dir.path());
    let first = watching.next_run();
    assert!(first.starts_with("4 stations: 4 ran"), "{first}");
    let all = [("combine", 1), ("render", 1), ("stamp", 1), ("words", 1)];
    assert_eq!(watching.ran(), counts(&all));

    // A declared input: the words are counted again, and the page made again.
    std::fs::write(&doc, "one two").unwrap();
    let changed = watching.expect("changed: ");
    assert_eq!(changed.last().unwrap(), "changed: doc.txt");
    watching.next_run();
    assert_eq!(watching.ran(), counts(&[("combine", 1), ("words", 1)]));

    // A discovered input, watched since the run that read it.
    std::fs::write(&template, "total").unwrap();
    assert_eq!(
        watching.expect("changed: ").last().unwrap(),
        "changed: template.txt"
    );
    watching.next_run();
    assert_eq!(watching.ran(), counts(&[("combine", 1), ("render", 1)]));

    // Five quick saves: one run, two at most.
    for words in 3..8 {
        std::fs::write(&doc, vec!["w"; words].join(" ")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    watching.next_run();
    let more = watching.quiet_for(Duration::from_secs(2));
    let runs = 1 + more.iter().filter(|line| line.contains(" (run ")).count();
    assert!(
        runs <= 2,
        "{runs} runs for five saves:\n{}",
        watching.printed
    );
    let words = watching.ran()["words"];
    assert!((1..=2).contains(&words), "words ran {words} times");

    // A save while a run goes on: exactly one more run after it.
    let started = dir.path().join("words-started");
    std::fs::write(&doc, "slow one").unwrap();
    assert!(appears(&started));
    std::fs::remove_file(&started).unwrap();
    std::fs::write(&doc, "slow one two").unwrap();
    watching.next_run();
    watching.next_run();
    let more = watching.quiet_for(Duration::from_secs(2));
    assert!(!more.iter().any(|l| l.contains(" (run ")), "{more:?}");
    assert_eq!(watching.ran()["words"], 2, "the run, and one after it");

    // Ctrl-C while `words` runs: it finishes and is recorded, nothing else starts.
    std::fs::remove_file(&started).unwrap();
    std::fs::write(&doc, "slow one two three").unwrap();
    assert!(appears(&started));
    watching.interrupt();
    assert_eq!(watching.exit_code(), Some(130), "{}", watching.printed);
    let last = watching.quiet_for(PATIENCE);
    let stderr = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(
        stderr.contains("error: interrupted: 1 not started"),
        "{stderr}"
    );
    assert_eq!(
        last.last().map(String::as_str),
        Some("stopped watching"),
        "{last:?}"
    );
    assert_eq!(watching.ran(), counts(&[("words", 1)]));
    let store = Store::open(dir.path().join(".choochoo")).unwrap();
    let fsck = store.fsck(false).unwrap();
    assert!(fsck.is_clean(), "{fsck}");
    let plan = plan(dir.path());
    let count = plan["stations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|station| station["label"] == "count")
        .unwrap();
    assert_eq!(
        count["action"], "cached",
        "the interrupted station was recorded"
    );
}

#[station]
fn shout(doc: &File) -> std::io::Result<String> {
    crate::support::executed("shout");
    Ok(std::fs::read_to_string(doc.path())?.to_uppercase())
}

workflow! {
    fn loud(doc: File) -> String { shout(doc) }
}

#[test]
fn runner_watch_hands_each_run_to_on_run_until_it_breaks() {
    let _serial = crate::support::serial();
    let tmp = crate::support::temp_store();
    let doc = tmp.dir.path().join("doc.txt");
    std::fs::write(&doc, "one").unwrap();
    let mut outputs = Vec::new();
    choochoo::Runner::new(&tmp.store)
        .watch(
            || loud(File::new(doc.clone())),
            |result| {
                let run = result.expect("the run");
                outputs.push((
                    run.output().clone(),
                    run.report().entries()[0].reason().map(str::to_owned),
                ));
                if outputs.len() == 2 {
                    return std::ops::ControlFlow::Break(());
                }
                // Saved while the watch has not looked yet: seen, and run at once.
                std::fs::write(&doc, "two").unwrap();
                std::ops::ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert_eq!(
        outputs,
        [
            ("ONE".to_owned(), Some("no record".to_owned())),
            ("TWO".to_owned(), Some("input `doc` changed".to_owned()))
        ]
    );
    assert_eq!(
        crate::support::take_executions(),
        crate::support::counts(&[("shout", 2)])
    );
}
