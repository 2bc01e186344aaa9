//! A coordinator and two workers: the outputs of a local run, each station executed once in
//! all, and both workers at work.

use crate::buildgrid::BuildGrid;
use crate::program::{self, ARGS, COUNTS};
use crate::server::TemporalServer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the programs of one test run: a directory each, and the counts directory.
pub struct Site {
    dir: tempfile::TempDir,
    pub queue: String,
    /// How many stations each worker runs at once (`worker --jobs`).
    pub worker_jobs: String,
}

/// What a program printed and how it exited.
#[derive(Debug)]
pub struct Output {
    pub pid: u32,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Site {
    pub fn new(queue: &str) -> Site {
        let site = Site {
            dir: tempfile::tempdir().expect("a temporary directory"),
            queue: queue.to_owned(),
            worker_jobs: "8".to_owned(),
        };
        std::fs::create_dir_all(site.counts()).unwrap();
        site
    }

    /// A path under the site.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn counts(&self) -> PathBuf {
        self.dir.path().join("counts")
    }

    /// The program with `args`, in directory `name` of the site.
    fn command(&self, name: &str, args: &[&str]) -> Command {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut argv = vec!["squares"];
        argv.extend_from_slice(args);
        let mut command = Command::new(std::env::current_exe().expect("the test binary"));
        command
            .args([
                "--exact",
                "program::program",
                "--ignored",
                "--nocapture",
                "-q",
            ])
            .env(ARGS, serde_json::to_string(&argv).unwrap())
            .env(COUNTS, self.counts())
            .env_remove("CHOOCHOO_REMOTE")
            .env_remove("CHOOCHOO_TEMPORAL")
            .current_dir(dir)
            .stdin(Stdio::null());
        command
    }

    /// Starts a worker named `name` polling the site's queue, its output in its directory.
    pub fn worker(&self, name: &str, server: &TemporalServer, grid: &BuildGrid) -> Child {
        self.worker_with(name, server, &grid.url, &[])
    }

    /// Starts a worker named `name` with the remote cache at `remote` and the variables
    /// `env`.
    pub fn worker_with(
        &self,
        name: &str,
        server: &TemporalServer,
        remote: &str,
        env: &[(&str, &str)],
    ) -> Child {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let args = [
            "worker",
            "--temporal",
            &server.address,
            "--task-queue",
            &self.queue,
            "--name",
            name,
            "--jobs",
            &self.worker_jobs,
            "--remote",
            remote,
        ];
        let mut command = self.command(name, &args);
        command.envs(env.iter().copied());
        command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start a worker")
    }

    /// What worker `name` printed.
    pub fn worker_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Runs the program in directory `name` to its end, at most five minutes.
    pub fn run(&self, name: &str, args: &[&str]) -> Output {
        let child = self.start(name, args);
        self.finish(name, child)
    }

    /// Runs the program in directory `name` with the variables `env`, at most half an hour.
    pub fn run_with(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self.dir.path().join(format!("{name}.out"));
        let err = self.dir.path().join(format!("{name}.err"));
        let child = self
            .command(name, args)
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(out).unwrap())
            .stderr(std::fs::File::create(err).unwrap())
            .spawn()
            .expect("start the program");
        self.finish_within(name, child, Duration::from_secs(1800))
    }

    /// Starts the program in directory `name`, its output in files beside it.
    pub fn start(&self, name: &str, args: &[&str]) -> Child {
        let out = self.dir.path().join(format!("{name}.out"));
        let err = self.dir.path().join(format!("{name}.err"));
        self.command(name, args)
            .stdout(std::fs::File::create(out).unwrap())
            .stderr(std::fs::File::create(err).unwrap())
            .spawn()
            .expect("start the program")
    }

    /// Waits at most five minutes for the program started in directory `name`.
    pub fn finish(&self, name: &str, child: Child) -> Output {
        self.finish_within(name, child, Duration::from_secs(300))
    }

    /// Waits at most `limit` for the program started in directory `name`.
    pub fn finish_within(&self, name: &str, mut child: Child, limit: Duration) -> Output {
        let pid = child.id();
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                stop(child);
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let read = |ext: &str| {
            std::fs::read_to_string(self.dir.path().join(format!("{name}.{ext}")))
                .unwrap_or_default()
        };
        let stdout = read("out");
        let stdout = match stdout.split_once("running 1 test\n") {
            Some((_, program)) => program.to_owned(),
            None => stdout,
        };
        Output {
            pid,
            code: status.and_then(|status| status.code()),
            stdout,
            stderr: read("err"),
        }
    }

    /// Waits (at most a minute) until the stations executed `at_least` times, or those of
    /// process `pid` when given.
    pub fn wait_executions(&self, pid: Option<u32>, at_least: usize) {
        let done = crate::support::wait_until(Duration::from_secs(60), || {
            let executions = self.executions();
            let count = match pid {
                Some(pid) => executions.get(&pid).map_or(0, Vec::len),
                None => executions.values().map(Vec::len).sum(),
            };
            count >= at_least
        });
        assert!(
            done,
            "fewer than {at_least} executions: {:?}",
            self.executions()
        );
    }

    /// The coordinator's arguments: `run` through the workers.
    pub fn coordinator_args<'a>(
        &'a self,
        server: &'a TemporalServer,
        grid: &'a BuildGrid,
    ) -> Vec<&'a str> {
        vec![
            "run",
            "--jobs",
            "16",
            "--temporal",
            &server.address,
            "--task-queue",
            &self.queue,
            "--remote",
            &grid.url,
        ]
    }

    /// The lines each process appended, by process id.
    pub fn executions(&self) -> BTreeMap<u32, Vec<String>> {
        let mut by_process = BTreeMap::new();
        for entry in std::fs::read_dir(self.counts()).unwrap() {
            let path = entry.unwrap().path();
            let pid = pid_of(&path);
            let text = std::fs::read_to_string(&path).unwrap();
            by_process.insert(pid, text.lines().map(str::to_owned).collect());
        }
        by_process
    }
}

fn pid_of(path: &Path) -> u32 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .expect("a pid")
}

/// The workflow's output: the last line a successful run prints.
pub fn output_of(output: &Output) -> &str {
    output.stdout.lines().last().unwrap_or_default()
}

/// Ends a child this test started.
pub fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn two_workers_run_each_station_once_with_the_outputs_of_a_local_run() {
    let Some(grid) = BuildGrid::start() else {
        return;
    };
    let Some(server) = TemporalServer::start() else {
        return;
    };
    let site = Site::new("two-workers");
    let local = Site::new("local").run("local", &["run"]);
    assert_eq!(local.code, Some(0), "{local:?}");

    let workers = [
        site.worker("w1", &server, &grid),
        site.worker("w2", &server, &grid),
    ];
    let pids: Vec<u32> = workers.iter().map(Child::id).collect();
    let run = site.run("coordinator", &site.coordinator_args(&server, &grid));
    assert_eq!(
        run.code,
        Some(0),
        "{}\nw1: {}\nw2: {}",
        run.stderr,
        site.worker_log("w1"),
        site.worker_log("w2")
    );
    assert_eq!(output_of(&run), output_of(&local), "{run:?}");
    assert!(run.stdout.contains("200 ran"), "{}", run.stdout);

    let executions = site.executions();
    let mut all: Vec<String> = executions.values().flatten().cloned().collect();
    all.sort();
    assert_eq!(
        all,
        program::every_execution(),
        "each station executed exactly once"
    );
    for pid in &pids {
        assert!(
            executions.get(pid).is_some_and(|lines| !lines.is_empty()),
            "worker {pid} did no work: {executions:?}"
        );
    }
    assert!(
        !executions.contains_key(&run.pid),
        "the coordinator ran stations itself"
    );

    // The trace and the report say which worker ran each station.
    let trace = site.run("coordinator", &["trace"]);
    let report = site.run("coordinator", &["report", "--out", "report.html"]);
    assert_eq!(
        (trace.code, report.code),
        (Some(0), Some(0)),
        "{trace:?} {report:?}"
    );
    let page = std::fs::read_to_string(site.path("coordinator/report.html")).unwrap();
    for worker in ["w1", "w2"] {
        let shown = format!("(on worker {worker})");
        assert!(trace.stdout.contains(&shown), "the trace names {worker}");
        assert!(page.contains(&shown), "the report names {worker}");
    }

    // Each of the three keeps the worker apart from the reason: the trace a track per
    // worker, the report a line under the station, status a column.
    let status = site.run("coordinator", &["status"]);
    assert_eq!(status.code, Some(0), "{status:?}");
    let events: serde_json::Value = serde_json::from_str(&trace.stdout).expect("the trace");
    let events = events["traceEvents"].as_array().unwrap();
    for worker in ["w1", "w2"] {
        let track = events
            .iter()
            .find(|e| e["name"] == "thread_name" && e["args"]["name"] == format!("on {worker}"))
            .unwrap_or_else(|| panic!("no track of {worker}: {events:?}"));
        let on_it = events
            .iter()
            .filter(|e| e["ph"] == "X" && e["tid"] == track["tid"])
            .count();
        let by_reason = events
            .iter()
            .filter(|e| e["ph"] == "X")
            .filter(|e| {
                let reason = e["args"]["reason"].as_str().unwrap_or_default();
                reason.contains(&format!("(on worker {worker})"))
            })
            .count();
        assert_eq!(on_it, by_reason, "the track of {worker} has its stations");
        assert!(on_it > 0, "{worker} ran nothing");
        let shown = format!("<small class=\"ran-on\">on {worker}</small>");
        assert!(
            page.contains(&shown),
            "the report shows {worker} under its stations"
        );
        let lines = status.stdout.lines();
        let on = lines.filter(|line| line.ends_with(&format!(", on {worker}")));
        assert_eq!(
            on.count(),
            on_it,
            "status shows {worker}: {}",
            status.stdout
        );
    }

    // Recorded by the coordinator: the next run runs nothing, here or there.
    let again = site.run("coordinator", &site.coordinator_args(&server, &grid));
    assert_eq!(again.code, Some(0), "{again:?}");
    assert_eq!(output_of(&again), output_of(&local));
    let after: usize = site.executions().values().map(Vec::len).sum();
    assert_eq!(after, all.len(), "a cached run executed stations");

    // A forced station runs again, on a worker, rather than taking its old activity.
    let mut forced = site.coordinator_args(&server, &grid);
    forced.extend(["--force", "total"]);
    let forced = site.run("coordinator", &forced);
    assert_eq!(forced.code, Some(0), "{forced:?}");
    assert_eq!(output_of(&forced), output_of(&local));
    assert_eq!(
        crate::retries::count(&site, "total"),
        2,
        "`--force total` ran it once more"
    );
    assert!(
        !site.executions().contains_key(&forced.pid),
        "the coordinator ran the forced station itself"
    );
    workers.into_iter().for_each(stop);
}
