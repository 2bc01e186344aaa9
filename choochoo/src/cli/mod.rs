//! The command line of a workflow program: run it, watch it, re-run it, look at what
//! happened, and share a picture of it, with no code beyond a one-line `main`.
//!
//! ```no_run
//! use choochoo::{station, workflow};
//!
//! #[station]
//! fn greet(name: &str) -> String { format!("Hello, {name}") }
//!
//! workflow! {
//!     fn hello(name: String) -> String { greet(name) }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     choochoo::cli::main(|| hello("choochoo".to_owned()))
//! }
//! ```
//!
//! The closure builds the workflow; it is called again for each graph a command needs, so
//! it should only build. It may also return a graph built with the builder API and its
//! output node, `(graph, output)`.
//!
//! | command | what it does |
//! |---|---|
//! | `run [NAME..] [--jobs N] [--keep-going] [--force ID..] [--force-downstream ID..] [--retries NAME=N].. [--backoff NAME=DURATION].. [--timeout NAME=DURATION].. [--resource NAME=N].. [--remote URL [--remote-instance NAME] [--remote-write] [--remote-ca PATH] [--remote-cert PATH --remote-key PATH] [--remote-header NAME=VALUE].. [--remote-token-file PATH] [--remote-download all\|outputs\|minimal]]` | runs what changed, with progress; `NAME..` runs only those stations and what they need, leaving the others alone; `--retries`, `--backoff` and `--timeout` override a station's attempt policy for this run; `--resource db=1` lets at most one station holding `db` run at once; `--remote` (feature `remote`) shares results through a REAPI cache, over TLS for `grpcs://`; `--remote-download` leaves the files of remote hits in the cache (`outputs`: all but the workflow's outputs; `minimal`: all), fetched when a station that runs needs them |
//! | `run --watch [NAME..] [options of run]` | (feature `watch`, on by default) runs, then runs again each time a file the workflow depends on changes: its `File` and `Dir` inputs and the files its stations discovered (`Ctx::read`, `depend`, `depfile`); a burst of saves is one run, a change during a run one more run after it; each run shows what ran and why; Ctrl-C lets the stations running finish, records them, and exits 130 |
//! | `fetch [ID..] [--remote URL ..]` | downloads the files left in the remote cache only, of the named stations or all (feature `remote`) |
//! | `plan [NAME..] [--format text\|json] [--check]` | what a run would do and why, without doing it (of `NAME..` and what they need, when given); `--check` asks the checks of remembered stations (changing nothing) and shows what drifted and what would run because of it |
//! | `status [--items] [--check]` | each station: cached, stale, drifted (with `--check`), never run or failed, with its last run; a map's items counted in one line, or listed with `--items` |
//! | `clean [ID..] [--only] [--yes] [--dry-run]` | undoes the workflow's effects, the last station first: lists them, then asks on a terminal (`--yes` for scripts; without a terminal it refuses, exit 2); `ID..` cleans the named stations after everything downstream of them, `--only` the named ones alone; `--dry-run` lists and changes nothing |
//! | `graph [--format dot\|mermaid\|svg] [--out FILE]` | the graph, coloured by each station's last status |
//! | `trace [--run ID] [--out FILE]` | a run as Chrome trace-event JSON (Perfetto, `chrome://tracing`) |
//! | `report [--run ID] [--out FILE]` | a run as one self-contained HTML page |
//! | `defects [list\|show ID\|note ID\|fix ID\|merge A B\|export ID]` | the defect ledger; `merge A B` makes B part of A (recorded with who and when, like `fix`) |
//! | `serve [--addr 127.0.0.1:8080] [--allow-writes]` | (feature `serve`) the store in a browser: runs, live while they go, each run's report, and the defect board, where the team adds notes and marks defects mitigated or fixed (with `--allow-writes`); see the `serve` module |
//! | `worker --temporal HOST:PORT [--namespace N] [--task-queue Q] [--name NAME] --remote URL ..` | (feature `temporal`) runs the stations a coordinator sends, until stopped; `run --temporal HOST:PORT [--namespace N] [--task-queue Q] --remote URL ..` is that coordinator: it decides as any run does and sends each station that must run to the workers, values through the remote cache |
//! | `fsck [--repair]` | checks every stored result (exit 1 if one cannot be trusted); `--repair` removes them |
//! | `gc [--keep-runs N] [--max-bytes B] [--dry-run]` | removes results no recent or pinned run used; `--dry-run` lists them |
//! | `pin RUN` / `unpin RUN` | keeps what a run used through `gc` (a release), or lets it go |
//!
//! Every command takes `--store DIR` (default `.choochoo`), `--profile P` (default
//! `default`), `--quiet` and `--verbose`. An `ID` names a station as `--force` does: its
//! binding, its node name in the store (`workflow.binding`), or its function's name; or an
//! item of a map, `map[item]` (`objects[src/main.c]`).
//!
//! While a run goes, a terminal shows an overall bar (stations done of all, ran and cached
//! counted apart, the time left estimated from how long each station took before; a map's
//! items join the total as the map finds its list) and a line per running station or item, with its own bar when it reports
//! [`Ctx::progress`](crate::Ctx::progress). When standard error is not a terminal (a CI
//! log), each event is one plain line instead. At the end of the run, what the stations
//! that ran warned of ([`Ctx::warn`](crate::Ctx::warn)) is printed under each one's name,
//! and an error of several lines (a compiler's) keeps its lines. `--quiet` prints only the
//! summary, the output, the warnings and the errors; `--verbose` adds cached stations,
//! every station's reason, and each line a station warns of or logs
//! ([`Ctx::log`](crate::Ctx::log)) as it does.
//!
//! Exit codes: 0 success, 1 a station (or a clean function) failed, 2 a usage or store
//! error. Errors print their whole chain of causes. `run` reads the store's record log
//! before its first stations start and opens its database (`store.db`) while they run, so
//! a store of another choochoo version is refused then: exit 2, and nothing of the run
//! recorded.

mod args;
mod clean;
mod commands;
mod defect_show;
mod defects;
mod failures;
#[cfg(feature = "remote")]
mod fetch;
mod interrupted;
mod plan;
mod policy;
mod progress_format;
mod progress_view;
#[cfg(feature = "serve")]
mod serve;
mod status;
mod warnings;
#[cfg(feature = "watch")]
mod watch;
#[cfg(feature = "temporal")]
mod worker;

use crate::error::Error;
use crate::workflow::Workflow;
use args::{Args, Command};
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the command line of a workflow program, with the process's arguments, and returns
/// the exit code for `main` to return. `workflow` builds the workflow (or returns a builder
/// graph and its output, `(graph, output)`). See the [module docs](self).
pub fn main<W, F>(workflow: F) -> ExitCode
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    main_with_args(std::env::args_os(), workflow)
}

/// [`main`] with the given arguments instead of the process's (the first is the program's
/// name): for tests, and for programs that read some arguments themselves.
pub fn main_with_args<I, T, W, F>(args: I, workflow: F) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let program = args
        .first()
        .and_then(|arg| std::path::Path::new(arg).file_name())
        .map_or_else(
            || "workflow".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
    let args = match parse(args) {
        Ok(args) => args,
        Err(exit) => return exit,
    };
    let session = Session {
        args: &args,
        program,
        workflow: &workflow,
    };
    let code = match session.dispatch() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", crate::error::chain(&error));
            exit_code(&error)
        }
    };
    // A program may leave through `std::process::exit`, which does not flush.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}

/// The arguments, or the exit code after clap printed help, a version or a usage error.
fn parse(args: Vec<OsString>) -> Result<Args, ExitCode> {
    // clap names the program after the first argument (the binary's file name).
    let parsed = Args::command()
        .try_get_matches_from(args)
        .and_then(|mut matches| Args::from_arg_matches_mut(&mut matches));
    parsed.map_err(|error| {
        // Help and version go to stdout with success; mistakes to stderr with 2.
        let _ = error.print();
        if error.use_stderr() {
            ExitCode::from(USAGE)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// A station or a clean function failed.
const FAILED: u8 = 1;
/// A usage or store error.
const USAGE: u8 = 2;

fn exit_code(error: &Error) -> ExitCode {
    if error.is_station_failure() || error.cleaned().is_some() {
        ExitCode::from(FAILED)
    } else {
        ExitCode::from(USAGE)
    }
}

/// One invocation: the parsed arguments and the workflow's builder.
struct Session<'a, F> {
    args: &'a Args,
    /// The program's name as it was called, to suggest commands.
    program: String,
    workflow: &'a F,
}

impl<W, F> Session<'_, F>
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    fn dispatch(&self) -> Result<ExitCode, Error> {
        match &self.args.command {
            Command::Run(options) => commands::run(self, options),
            Command::Plan {
                format,
                check,
                targets,
            } => plan::plan(self, *format, *check, targets),
            Command::Status { items, check } => status::show(self, *items, *check),
            Command::Clean(options) => clean::run(self, options),
            Command::Graph { format, out } => commands::graph(self, *format, out.as_deref()),
            Command::Trace { run, out } => commands::trace(self, *run, out.as_deref()),
            Command::Report { run, out } => commands::report(self, *run, out),
            Command::Defects { action } => defects::run(self, action.as_ref()),
            #[cfg(feature = "remote")]
            Command::Fetch { ids, remote } => fetch::fetch(self, ids, remote),
            #[cfg(feature = "serve")]
            Command::Serve(options) => serve::run(self, options),
            #[cfg(feature = "temporal")]
            Command::Worker(options) => worker::run(self, options),
            Command::Fsck { repair } => {
                let report = self.store()?.fsck(*repair)?;
                print!("{report}");
                Ok(if report.is_clean() || report.repaired() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            Command::Gc {
                keep_runs,
                max_bytes,
                dry_run,
            } => {
                let policy = crate::gc::GcPolicy {
                    keep_runs: *keep_runs,
                    max_bytes: *max_bytes,
                    dry_run: *dry_run,
                };
                println!("{}", self.store()?.gc(&policy)?);
                Ok(ExitCode::SUCCESS)
            }
            Command::Pin { run } => {
                self.store()?.pin(*run)?;
                println!("pinned run {run}: gc keeps what it used");
                Ok(ExitCode::SUCCESS)
            }
            Command::Unpin { run } => {
                if self.store()?.unpin(*run)? {
                    println!("unpinned run {run}");
                } else {
                    println!("run {run} was not pinned");
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

impl<W, F> Session<'_, F>
where
    F: Fn() -> W,
    W: Workflow,
{
    /// The workflow's name and graph, built without running anything.
    fn graph(&self) -> Result<(String, crate::graph::Graph), Error> {
        let workflow = (self.workflow)();
        let name = workflow.name().to_owned();
        let mut graph = crate::graph::Graph::new();
        workflow.build(&mut graph)?;
        Ok((name, graph))
    }
}

impl<F> Session<'_, F> {
    fn store(&self) -> Result<crate::store::Store, Error> {
        crate::store::Store::open(&self.args.store)
    }

    /// The store for `run`: its database is opened while the run's first stations run.
    fn store_for_run(&self) -> Result<crate::store::Store, Error> {
        crate::store::Store::open_for_run(&self.args.store)
    }

    fn runner<'s>(&self, store: &'s crate::store::Store) -> crate::run::Runner<'s> {
        crate::run::Runner::new(store).profile(&self.args.profile)
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error worth a panic.
fn say(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes `text` to `out`, or to standard output when there is none.
fn emit(text: &str, out: Option<&std::path::Path>) -> Result<(), Error> {
    match out {
        Some(path) => std::fs::write(path, text).map_err(|error| Error::io("write", path, error)),
        None => {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
    }
}
