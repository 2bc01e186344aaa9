//! Typed, resumable workflows.
//!
//! Mark plain functions [`#[station]`](station), wire them with [`workflow!`], and run the
//! result with a [`Runner`]: the compiler checks every edge of the graph, independent
//! stations run in parallel, and every station's output is remembered in a [`Store`], so the
//! next run does only the work whose inputs or code changed.
//!
//! # Quick start
//!
//! ```
//! use choochoo::{station, workflow, Runner, Store};
//!
//! /// Splits a text into words.
//! #[station]
//! fn words(text: &str) -> Vec<String> {
//!     text.split_whitespace().map(str::to_owned).collect()
//! }
//!
//! /// Counts them.
//! #[station]
//! fn count(words: &[String]) -> usize {
//!     words.len()
//! }
//!
//! workflow! {
//!     /// Counts the words of `text`.
//!     pub fn word_count(text: String) -> usize {
//!         let w = words(text);
//!         count(w)
//!     }
//! }
//!
//! fn main() -> Result<(), choochoo::Error> {
//!     // A program keeps its store in `.choochoo`; this one takes a directory of its own.
//!     let dir = std::env::temp_dir().join(format!("choochoo-quick-start-{}", std::process::id()));
//!     let store = Store::open(&dir)?;
//!     let run = Runner::new(&store).run(word_count("fail, fix, run again".to_owned()))?;
//!     assert_eq!(*run.output(), 4);
//!     println!("{} words\n{}", run.output(), run.report());
//!
//!     // The functions stay plain functions.
//!     assert_eq!(count(&words(&"one two".to_owned())), 2);
//! #   std::fs::remove_dir_all(&dir).ok();
//!     Ok(())
//! }
//! ```
//!
//! # Stations
//!
//! [`#[station]`](station) goes on a `fn` (or, with the `tokio` feature, an `async fn`: see
//! [async stations](station#async-stations)) whose parameters are an optional `&Ctx`
//! followed by one borrowed input each, and which returns `T` or `Result<T, E>`.
//! Inputs and outputs are [`Value`]s — serde types that are `Send + Sync + 'static` — or
//! [`File`] and [`Dir`], whose identity is their content. The macro keeps the function as
//! written and adds a unit struct named after it in UpperCamelCase (`word_count` →
//! `WordCount`) implementing [`Station`]. Its options (`version`, `name`, `check`, `clean`,
//! `retries`, `backoff`, `timeout`) and what they do are on [its page](station).
//!
//! A station's *code fingerprint* is the hash of its function's tokens (comments and
//! whitespace do not count) and its `version` option. Helpers the body calls are not seen:
//! when one changes in a way that matters, bump `#[station(version = N)]`.
//!
//! # Workflows
//!
//! [`workflow!`] takes a function whose body is `let NAME = station_fn(args);` statements
//! followed by the output: a binding, a call, or a tuple of bindings. An argument is a
//! parameter, an earlier binding, or a literal (a constant input). A binding can only use
//! earlier bindings, so a cycle cannot be written. A workflow can call another `workflow!`
//! function like a station: its stations join the caller's graph as `outer.inner.binding`
//! ([sub-workflows](workflow#sub-workflows)). Its page has the grammar and what is
//! rejected at compile time.
//!
//! # Large graphs
//!
//! `workflow!` expands to [`Graph`] builder calls, which a program can make directly to
//! build a generated graph, still type-checked:
//!
//! ```
//! use choochoo::{station, Graph, Node, Runner, Store};
//!
//! #[station]
//! fn square(x: &u64) -> u64 { x * x }
//!
//! #[station]
//! fn sum(xs: &[u64]) -> u64 { xs.iter().sum() }
//!
//! fn main() -> Result<(), choochoo::Error> {
//!     let mut g = Graph::new();
//!     let xs: Vec<Node<u64>> = (1..=100).map(|x| g.input(x)).collect();
//!     let squares: Vec<Node<u64>> = xs.iter().map(|x| g.add(Square, (x,))).collect();
//!     let total = g.add(Sum, (&squares,)); // a Vec<Node<u64>> feeds an input of type Vec<u64>
//!
//!     let dir = std::env::temp_dir().join(format!("choochoo-large-{}", std::process::id()));
//!     let store = Store::open(&dir)?;
//!     let run = Runner::new(&store).jobs(2).run_graph(&g, total)?;
//!     assert_eq!(*run.output(), 338_350);
//! #   std::fs::remove_dir_all(&dir).ok();
//!     Ok(())
//! }
//! ```
//!
//! Every station added to a graph runs, whether or not the output depends on it.
//!
//! # Running only a target
//!
//! [`Runner::targets`] names stations (as [`Runner::force`] does); a run or a plan of them
//! reaches only those and what they need, and leaves every other station alone: not run,
//! not blocked, not reported, so a failure elsewhere cannot fail it. Its run gives a
//! [`Report`] rather than the workflow's output, whose station it may not reach.
//!
//! # Dynamic fan-out
//!
//! Work found while running — the files a station lists, the shards a query returns — is
//! mapped with `let parts = map(station_fn, list, shared...);` in `workflow!` (or
//! [`Graph::map`]): `list` is a binding of type `Vec<T>`, `station_fn`'s first input is `&T`,
//! and the other arguments are shared by every item. The result is a `Vec<O>` in the list's
//! order. Each item is remembered on its own (its key is the item's content and the shared
//! inputs): adding or changing an item runs that item, reordering or removing items runs none,
//! and after a failed item only it runs again. `map` is reserved in `workflow!` for this.
//!
//! An item is named by what it is: the path of the first [`File`] (or [`Dir`]) in it as
//! given, such as `src/main.c`, else a short hash of its content
//! ([`Graph::map_named_by`] names items by a function). Its directory,
//! `work/<profile>/<map>/<item>/`, is the same from run to run, so an item computed again to
//! the same bytes hands the same value downstream and early cutoff holds across the map.
//! Each item is an [`Entry`] of the report, `map[item]`, and `run -v`, `status --items`,
//! `plan`, the trace, the HTML report, the progress bar, `--force` and `clean` name it.
//!
//! # Running
//!
//! A [`Runner`] starts each station as soon as its inputs are ready, on a thread pool of its
//! own (`jobs(n)`; the global rayon pool is left alone). When a station fails (returns `Err`
//! or panics) its dependents are [`Blocked`](Status::Blocked); stations already running
//! finish, and by default no new ones start ([`Skipped`](Status::Skipped)). With
//! `keep_going(true)` every station that does not depend on the failure still runs. A failed
//! run is an [`Error`] carrying the [`Report`]; every failure is also filed in the store's
//! defect ledger ([`Defect`]).
//!
//! # Resource limits
//!
//! A station that names a resource, `#[station(resources = ["db"])]` (or a node given one
//! with [`Graph::resources`]), holds a unit of it while it runs, and
//! [`Runner::resource`]`("db", 1)` lets at most that many hold it at once: one migration at
//! a time, while the stations that hold nothing keep the pool busy. A station waiting for a
//! unit takes no worker; a resource no runner limits holds nothing back.
//!
//! # Watching
//!
//! [`Runner::watch`] runs a workflow, waits for a change to a file it depends on (its
//! [`File`] and [`Dir`] inputs, and the files its stations discovered), and runs it again,
//! handing each run to a closure until it says to stop or Ctrl-C is pressed; the command
//! line's `run --watch` does the same. A burst of saves is one run.
//!
//! # The guide
//!
//! The [`guide`] explains the rest, topic by topic, with examples:
//!
//! - [how skipping works](guide::skipping): keys, files by content, early cutoff, resume;
//! - [writing stations that change the world](guide::effects): checks that explain and only
//!   look, safe cleans, retries, time limits, child processes ([`Ctx::command`]), kills and
//!   running twice;
//! - [defects](guide::defects): one story per incident: a station's attempts in a run one
//!   observation, a run's failures of one cause one event of one defect, counted over runs;
//! - [the command line](guide::command_line): a one-line `main` gives a program `run`,
//!   `plan`, `status`, `clean`, `graph`, `trace`, `report`, `defects`, `fsck` and `gc`;
//! - [the remote cache](guide::remote_cache): sharing results between machines over the
//!   Bazel Remote Execution API.
//! - [secret inputs](guide::secrets): a [`Secret`] password or token is part of its
//!   stations' keys as a keyed hash and is written nowhere: not in the store, the remote
//!   cache, plans, reports or defects.
//!
//! The pictures come from the library too: [`Diagram`] draws a workflow as DOT, Mermaid or
//! SVG, [`Report::chrome_trace`] writes a run for Perfetto or `chrome://tracing`, and
//! [`Report::html`] writes it as one self-contained page.
//!
//! # Features
//!
//! - `cli` (on by default): the [`cli`] module, a command line for a workflow program.
//! - `remote`: `Runner::remote` and `Remote`, a second-level cache shared by many stores,
//!   over the Bazel Remote Execution API v2 (bazel-remote, BuildBuddy, Buildbarn, NativeLink,
//!   BuildGrid...).
//! - `temporal`: `Runner::temporal` and the command line's `worker` and `run --temporal`:
//!   the stations that must run are sent to workers through a Temporal server, their values
//!   through the remote cache's CAS (implies `remote`).
//! - `serve`: the `serve` module and the command line's `serve`, a local web
//!   dashboard over a store: runs (live while they go) and the defect board.
//! - `watch` (on by default): [`Runner::watch`] and the command line's `run --watch`,
//!   through `notify` (inotify on Linux).
//! - `tokio`: `#[station] async fn`, driven on the caller's Tokio runtime or one the run
//!   starts; a `timeout` drops the future ([async stations](station#async-stations)).
//!
#![cfg_attr(feature = "cli", doc = "[`cli`]: crate::cli")]
#![cfg_attr(
    not(feature = "cli"),
    doc = "[`cli`]: https://docs.rs/choochoo/latest/choochoo/cli/"
)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// First: rustdoc lists `Store`'s methods in the order of the modules that define them, and
// opening a store comes before its defect ledger and its upkeep.
mod store;

mod arity;
#[cfg(feature = "tokio")]
mod asynchronous;
mod capture;
mod checked;
mod child;
mod clean;
mod cleaned;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
mod clock;
#[cfg(feature = "test-util")]
mod crash;
mod defect;
mod depfile;
mod diagram;
mod discovered;
mod error;
mod execution;
#[cfg(feature = "test-util")]
mod faults;
mod file;
mod filter;
mod fs;
mod fsck;
mod gc;
// The store's decoders on plain bytes, for the fuzz targets (`fuzz/`) and the test that
// replays their corpus (`tests/corpus.rs`). Not public API.
#[cfg(any(test, feature = "__fuzz"))]
#[doc(hidden)]
pub mod fuzz;
mod globs;
mod graph;
pub mod guide;
mod hash;
mod html;
mod inputs;
mod lease;
mod memo;
mod named;
mod names;
mod plan;
mod privacy;
mod progress;
#[cfg(feature = "remote")]
mod remote;
mod report;
mod run;
mod secret;
mod select;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod serve;
mod stat;
mod station;
#[cfg(feature = "temporal")]
mod temporal;
mod trace;
mod value;
mod warnings;
mod wiring;
mod workflow;

// Stations, workflows, and running them.
#[doc = include_str!("macros/station.md")]
pub use choochoo_macros::station;
#[doc = include_str!("macros/workflow.md")]
pub use choochoo_macros::workflow;
pub use error::Error;
pub use file::{Dir, File};
pub use graph::Graph;
pub use graph::node::Node;
pub use report::entry::Entry;
pub use report::{Report, Status};
pub use run::{Run, Runner, Targets};
pub use secret::Secret;
pub use station::{Ctx, Station, Transient};
pub use store::Store;
pub use store::interrupted::Interrupted;
pub use workflow::Workflow;

// Before, during and after a run: checks, plans, progress, pictures, cleaning.
pub use checked::Checked;
pub use child::Command;
pub use clean::Undo;
pub use cleaned::Cleaned;
pub use diagram::Diagram;
pub use plan::{Action, Plan, Planned};
pub use progress::{Event, Unit};
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use remote::config::Remote;
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use remote::download::Download;
#[cfg(feature = "temporal")]
#[cfg_attr(docsrs, doc(cfg(feature = "temporal")))]
pub use temporal::Temporal;

// The defect ledger, and keeping a store healthy.
pub use defect::export::ExportFormat;
pub use defect::model::{Decision, Defect, DefectId, DefectStatus, Note, NoteKind, ObservationId};
pub use defect::observation::{FailedAttempt, Observation};
pub use fsck::Fsck;
pub use gc::{Gc, GcPolicy};
pub use hash::{Digest, ParseDigestError};

// The traits in the signatures above. choochoo implements them (for every serde type, for
// tuples, for nodes); a program names them in bounds but does not implement them.
pub use graph::edge::{Args, Wire};
pub use graph::map::Split;
pub use station::Inputs;
pub use value::Value;
pub use workflow::Outputs;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "test-util")]
#[doc(hidden)]
pub mod test_util;
