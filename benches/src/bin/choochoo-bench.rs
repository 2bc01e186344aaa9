//! `choochoo-bench [--jobs N] [--exec shell|inproc] <workdir>`: builds a workload of
//! `choochoo-gen` (or any `graph.json` of the same format) with choochoo, as a side-by-side
//! harness runs it next to make, ninja and the others (`benches/RESULTS.md`, "Running it
//! side by side").
//!
//! Reads `<workdir>/graph.json` and builds one station per step with the typed builder API:
//! a step's deps are its input files (constant [`File`] inputs) and other steps' outputs
//! ([`Node<File>`]s); the spec's command template is one constant input of every station
//! (as a ninja rule is of its edges) and the step's id, output and salt another, so a
//! changed command (a salt, or a new template) changes the step's key. The memo store is
//! `<workdir>/.choochoo`, and all paths are relative to `<workdir>`, which becomes the
//! working directory.
//!
//! - `--exec shell` (the default) runs each step's command with `/bin/sh -c`, as the peers do.
//! - `--exec inproc` computes the same bytes in the station (the SHA-256 hex of the deps'
//!   bytes and a newline) and appends the step's id to `.steps.log` as the command would.
//!
//! Prints `steps_executed=N` (the stations that ran) and exits 0, or 1 with the error.

use benches::spec::{Borrowed, BorrowedStep, Step, Template};
use benches::verify::output_of;
use choochoo::{File, Graph, Node, Report, Runner, Status, Store, station};
use serde::{Deserialize, Serialize};
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

type BoxError = Box<dyn Error + Send + Sync>;

const USAGE: &str = "usage: choochoo-bench [--jobs N] [--exec shell|inproc] <workdir>";

/// How a station computes its step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exec {
    /// Runs the step's shell command.
    Shell,
    /// Hashes the deps in-process.
    Inproc,
}

#[derive(Debug)]
struct Options {
    jobs: usize,
    exec: Exec,
    workdir: PathBuf,
}

/// How every step's command is made: the spec's command template and salt prefix. One
/// constant input of every station, as a ninja rule is of each of its build edges: a changed
/// template changes every step's key, and each step's own input holds only what differs.
#[derive(Debug, Serialize, Deserialize)]
struct Rule {
    command: String,
    salt_prefix: String,
}

/// What a station knows of its own step besides its deps. All of it is part of its key,
/// and with the rule and the deps' paths it makes the step's whole command.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    id: String,
    output: String,
    salt: Option<String>,
}

impl Job {
    /// The step's expanded shell command, salt included, as `deps` name its files.
    fn command(&self, rule: &Rule, deps: &[File]) -> String {
        let step = Step {
            id: self.id.clone(),
            deps: deps
                .iter()
                .map(|dep| dep.path().display().to_string())
                .collect(),
            output: self.output.clone(),
            layer: 0,
            salt: self.salt.clone(),
        };
        Template::new(&rule.command, &rule.salt_prefix).command(&step)
    }
}

/// Runs the step's command in the working directory.
#[station]
fn shell(rule: &Rule, job: &Job, deps: &Vec<File>) -> Result<File, BoxError> {
    let command = job.command(rule, deps);
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&command)
        .status()
        .map_err(|error| format!("cannot start /bin/sh for {}: {error}", job.id))?;
    if !status.success() {
        return Err(format!("{}: `{command}` failed ({status})", job.id).into());
    }
    Ok(File::new(&job.output))
}

/// Writes the SHA-256 hex of the deps' bytes and a newline, and logs the step as run.
#[station]
fn inproc(rule: &Rule, job: &Job, deps: &Vec<File>) -> Result<File, std::io::Error> {
    let _ = rule; // the command's text: part of the key, as it is of a shell step's
    let bytes = deps
        .iter()
        .map(|dep| std::fs::read(dep.path()))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::write(&job.output, output_of(bytes.iter().map(Vec::as_slice)))?;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(".steps.log")?;
    log.write_all(format!("{}\n", job.id).as_bytes())?;
    Ok(File::new(&job.output))
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, BoxError> {
        let mut options = Options {
            jobs: 2,
            exec: Exec::Shell,
            workdir: PathBuf::new(),
        };
        let mut workdir = None;
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match arg.as_str() {
                "--jobs" | "-j" => {
                    options.jobs = value("--jobs")?
                        .parse()
                        .map_err(|_| "--jobs needs a number")?;
                }
                "--exec" => {
                    options.exec = match value("--exec")?.as_str() {
                        "shell" => Exec::Shell,
                        "inproc" => Exec::Inproc,
                        other => return Err(format!("--exec {other}: not shell or inproc").into()),
                    };
                }
                flag if flag.starts_with('-') => {
                    return Err(format!("unknown option {flag}").into());
                }
                _ if workdir.is_some() => return Err("more than one workdir".into()),
                _ => workdir = Some(PathBuf::from(arg)),
            }
        }
        options.workdir = workdir.ok_or("no workdir given")?;
        Ok(options)
    }
}

/// The graph of a spec: one station per step, and the node of the last step.
fn build(spec: &Borrowed<'_>, exec: Exec) -> Result<(Graph, Option<Node<File>>), BoxError> {
    let mut graph = Graph::new();
    let mut files: foldhash::HashMap<&str, Node<File>> = spec
        .inputs
        .iter()
        .map(|input| (&**input, graph.input(File::new(&**input))))
        .collect();
    files.reserve(spec.steps.len());
    let mut last = None;
    let rule = graph.input(Rule {
        command: spec.command_template.to_string(),
        salt_prefix: spec.salt_prefix.to_string(),
    });
    for step in &spec.steps {
        let deps = step
            .deps
            .iter()
            .map(|dep| files.get(&**dep).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                format!(
                    "step {} reads a file that is no input nor earlier output",
                    step.id
                )
            })?;
        let job = graph.input(job_of(step));
        let node = match exec {
            Exec::Shell => graph.add_named(&step.id, Shell, (&rule, &job, &deps)),
            Exec::Inproc => graph.add_named(&step.id, Inproc, (&rule, &job, &deps)),
        };
        files.insert(&step.output, node);
        last = Some(node);
    }
    Ok((graph, last))
}

fn job_of(step: &BorrowedStep<'_>) -> Job {
    Job {
        id: step.id.to_string(),
        output: step.output.to_string(),
        salt: step.salt.as_deref().map(str::to_owned),
    }
}

/// Why a run failed, and how many steps had run when the failure came from a station.
struct Failure {
    executed: Option<usize>,
    error: BoxError,
}

impl<E: Into<BoxError>> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure {
            executed: None,
            error: error.into(),
        }
    }
}

/// Builds every output of the workload; returns how many steps ran.
fn run(options: &Options) -> Result<usize, Failure> {
    std::env::set_current_dir(&options.workdir)
        .map_err(|error| format!("cannot enter {}: {error}", options.workdir.display()))?;
    // The store opens on a thread of its own while the spec is read and the graph built.
    let store = std::thread::spawn(|| Store::open(".choochoo"));
    let path = std::path::Path::new("graph.json");
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let spec = Borrowed::parse(&text, path)?;
    let (graph, last) = build(&spec, options.exec)?;
    // The graph owns all it needs, and peak RSS should be choochoo's, not the spec's: it is
    // freed on a thread of its own while the run starts.
    drop(spec);
    std::thread::spawn(move || drop(text));
    let store = store.join().map_err(|_| "opening the store panicked")??;
    let Some(last) = last else {
        return Ok(0);
    };
    let runner = Runner::new(&store).jobs(options.jobs);
    let result = match runner.run_graph(&graph, last) {
        Ok(run) => {
            let executed = ran(run.report());
            // The process ends next: its graph and report go with it, not freed node by
            // node (as make and ninja end).
            std::mem::forget(run);
            Ok(executed)
        }
        Err(error) => Err(Failure {
            executed: error.report().map(ran),
            error: error.into(),
        }),
    };
    std::mem::forget(graph);
    // So is the store: everything it wrote is durable by now, and closing it would free
    // its tables and close its database only for the process to end.
    std::mem::forget(store);
    result
}

fn ran(report: &Report) -> usize {
    report.count(Status::Ran)
}

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("choochoo-bench: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(executed) => {
            println!("steps_executed={executed}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if let Some(executed) = failure.executed {
                println!("steps_executed={executed}");
            }
            eprintln!("choochoo-bench: {}", failure.error);
            ExitCode::FAILURE
        }
    }
}
