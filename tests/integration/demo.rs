//! The talk's demo, end to end through its command line: run twice, replay the last two
//! stations, update the app, fail and resume, clean — asserting exactly what ran each time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The demo example, built next to this test binary by `cargo test`.
fn demo() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("examples").join("demo");
    path.exists().then_some(path)
}

struct Demo {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Demo {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .env("DEMO_DIR", self.dir.path())
            .env_remove("DEMO_FAIL_AT");
        command
    }

    /// Runs `demo run -v` and returns the exit code and the stations that ran.
    fn run(&self, fail_at: Option<&str>) -> (i32, BTreeSet<String>, String) {
        let mut command = self.command(&["run", "-v"]);
        if let Some(station) = fail_at {
            command.env("DEMO_FAIL_AT", station);
        }
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let ran = text
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("ran  deploy."))
            .map(|rest| rest.split([' ', ':']).next().unwrap_or("").to_owned())
            .collect();
        (output.status.code().unwrap_or(-1), ran, text)
    }

    fn state(&self) -> &Path {
        self.dir.path()
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn the_talks_script() {
    let Some(bin) = demo() else {
        return crate::support::skip(
            "the demo example",
            "it is not built next to this test binary",
            "run `cargo test --workspace`, which builds it, or `cargo build -p examples --example demo`",
        );
    };
    let demo = Demo {
        bin,
        dir: tempfile::tempdir().unwrap(),
    };
    let all = [
        "upload", "db", "download", "config", "running", "domain", "route", "notified",
    ];

    let (code, ran, text) = demo.run(None);
    assert_eq!((code, ran), (0, set(&all)), "{text}");

    let (code, ran, text) = demo.run(None);
    assert_eq!(
        (code, ran),
        (0, set(&[])),
        "the second run does nothing: {text}"
    );

    // Replay the last two steps: delete their directories.
    for node in ["deploy.route", "deploy.notified"] {
        std::fs::remove_dir_all(demo.state().join("store/work/default").join(node)).unwrap();
    }
    let (code, ran, text) = demo.run(None);
    assert_eq!((code, ran), (0, set(&["route", "notified"])), "{text}");

    // Update the app: only what depends on it runs again.
    std::fs::write(demo.state().join("app.zip"), b"a new release").unwrap();
    let (code, ran, text) = demo.run(None);
    assert_eq!(
        (code, ran),
        (
            0,
            set(&[
                "upload", "download", "config", "running", "route", "notified"
            ])
        ),
        "{text}"
    );

    // Fail at 90 %, then resume: only the failed station and what it blocked run.
    std::fs::write(demo.state().join("app.zip"), b"another release").unwrap();
    let (code, ran, text) = demo.run(Some("attach_domain"));
    assert_eq!(code, 1, "{text}");
    assert_eq!(
        ran,
        set(&["upload", "download", "config", "running"]),
        "{text}"
    );
    let (code, ran, text) = demo.run(None);
    assert_eq!((code, ran), (0, set(&["route", "notified"])), "{text}");
    let defects = demo.command(&["defects", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&defects.stdout).contains("injected failure"));

    // A database dropped by hand: `plan --check` says why and what would run, changing
    // nothing; the next run recreates exactly it (its output, the path, is the same).
    std::fs::remove_file(demo.state().join("shop.sqlite")).unwrap();
    let plan = demo.command(&["plan", "--check"]).output().unwrap();
    let plan = String::from_utf8_lossy(&plan.stdout).into_owned();
    let missing = format!(
        "database {} is missing",
        demo.state().join("shop.sqlite").display()
    );
    assert!(
        plan.contains(&format!("run  db: check failed: drift: {missing}")),
        "{plan}"
    );
    assert!(plan.contains("may run  config: after `db`"), "{plan}");
    assert!(
        !demo.state().join("shop.sqlite").exists(),
        "plan --check changed the world"
    );
    let (code, ran, text) = demo.run(None);
    assert_eq!((code, ran), (0, set(&["db"])), "{text}");

    // The app answers on its port before clean, and nothing is left after.
    let pid = std::fs::read_to_string(demo.state().join("app.pid")).unwrap();
    assert!(crate::support::running(&pid));
    let clean = demo.command(&["clean", "--yes"]).output().unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(!crate::support::running(&pid), "the app process is gone");
    assert!(
        !demo.state().join("shop.sqlite").exists(),
        "the database is gone"
    );
    let work = demo.state().join("store/work/default");
    let left: Vec<_> = std::fs::read_dir(&work)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter().all(|name| name == ".failed"),
        "no station directory is left: {left:?}"
    );
    assert_eq!(
        std::fs::read_to_string(demo.state().join("routes")).unwrap_or_default(),
        ""
    );
}
