//! A dashboard for a team: a small local web server over a store, showing the runs (a run
//! in flight live, from any process), each run's report, and the defect board, where the
//! team notes what it learned and marks defects mitigated or fixed.
//!
//! ```no_run
//! use choochoo::serve::{self, Options};
//!
//! # fn main() -> Result<(), choochoo::Error> {
//! // Read-only on http://127.0.0.1:8080 until the process is stopped.
//! serve::serve(".choochoo", Options::new())?;
//! # Ok(())
//! # }
//! ```
//!
//! The command line has it as `serve [--addr 127.0.0.1:8080] [--allow-writes]` (features
//! `cli` and `serve`), which also draws each run's graph.
//!
//! # Pages
//!
//! - `/runs`: the latest runs, with their status, counts, duration, profile and host; a run
//!   in flight shows what it has done so far, updated as it goes.
//! - `/runs/ID`: a run's report (the page [`Report::html`](crate::Report::html) writes:
//!   graph, timeline per worker, failures with their error chains and last log lines,
//!   warnings, defects); while the run goes, its progress, live.
//! - `/defects`: the defects by status (open, regressed, mitigated, fixed), sortable by
//!   frequency, last seen and impact, each with a sparkline of the runs it was seen in per
//!   day.
//! - `/defects/ID`: a defect's figures, notes, decisions and observations (the error chain,
//!   logs, inputs, the kept directory's path), its ticket body in Markdown to copy, and
//!   forms to add a note, mark it mitigated or fixed, and merge another defect into it.
//!
//! # Live pages
//!
//! A run in flight writes its journal (`runs/<id>` in the store) as stations start and end.
//! The server reads it every [`watch_every`](Options::watch_every) and sends what changed
//! to the page over one server-sent event stream per page; a finished run's page has none.
//!
//! # Safety
//!
//! - It listens on `127.0.0.1` unless told otherwise, and then answers only requests that
//!   name it by a loopback name (a page of another site cannot reach it through DNS).
//! - It is read-only unless [`allow_writes`](Options::allow_writes): a write is then refused
//!   with a page that says so, and the store is left as it was. Writes go through the same
//!   calls as the command line ([`Store::add_note`](crate::Store::add_note),
//!   [`Store::mark_fixed`](crate::Store::mark_fixed), ...), which record who (the user the
//!   server runs as) and when.
//! - Every write carries a token the server put in its own pages, so a page of another site
//!   cannot post a form to it.
//! - Everything a station, a log or an error says is escaped (control characters shown as
//!   `\u{..}`), and the pages run no script but the server's own (a content security policy
//!   says so to the browser).
//! - It serves the store's runs and ledger and its own style sheet and script, never a file.
//!
//! The pages are plain HTML written by the server, a little JavaScript and a style sheet
//! built into the program: nothing to build, nothing loaded from the network.
//!
//! One file per page or step: `routes.rs` (the addresses, the host check, the headers),
//! `page.rs` (the frame of every page, escaping), `runs.rs`, `run.rs`, `defects.rs`,
//! `defect.rs` and `evidence.rs` (the pages), `sparkline.rs`, `live.rs` (the event
//! streams), `writes.rs`, `form.rs` and `csrf.rs` (the forms and their token).

mod csrf;
mod defect;
mod defects;
mod evidence;
mod form;
mod live;
mod page;
mod routes;
mod run;
mod runs;
mod sparkline;
mod writes;

use crate::diagram::Diagram;
use crate::error::Error;
use crate::store::Store;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How the dashboard is served: where it listens, whether it may write, what it draws.
///
/// ```
/// use choochoo::serve::Options;
/// use std::time::Duration;
///
/// let options = Options::new()
///     .addr("127.0.0.1:9000".parse().unwrap())
///     .allow_writes(true)
///     .watch_every(Duration::from_millis(250));
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    addr: SocketAddr,
    allow_writes: bool,
    diagram: Option<Diagram>,
    watch_every: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl Options {
    /// Read-only on `127.0.0.1:8080`, without a graph, looking at runs in flight twice a
    /// second.
    pub fn new() -> Options {
        Options {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            allow_writes: false,
            diagram: None,
            watch_every: Duration::from_millis(500),
        }
    }

    /// Listens on `addr` (port 0: one the system picks, [`Server::addr`] tells it). An
    /// address other than a loopback one lets anyone who can reach it read the store.
    pub fn addr(mut self, addr: SocketAddr) -> Options {
        self.addr = addr;
        self
    }

    /// Lets the pages add notes, mark defects mitigated or fixed, and merge them.
    pub fn allow_writes(mut self, allow: bool) -> Options {
        self.allow_writes = allow;
        self
    }

    /// The workflow's graph, which each run's page draws coloured by what happened to it
    /// ([`Diagram::of`](crate::Diagram::of)); without one, run pages have no graph.
    pub fn diagram(mut self, diagram: Diagram) -> Options {
        self.diagram = Some(diagram);
        self
    }

    /// How often a live page's stream looks at the store for what changed (at least 10 ms).
    pub fn watch_every(mut self, every: Duration) -> Options {
        self.watch_every = every.max(Duration::from_millis(10));
        self
    }
}

/// A dashboard being served, on threads of its own; dropping it stops it.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its address as a URL, `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process is stopped, or the server fails.
    pub fn wait(mut self) -> Result<(), Error> {
        let runtime = self
            .runtime
            .take()
            .expect("a server keeps its runtime until dropped");
        let ended = runtime.block_on(&mut self.task);
        runtime.shutdown_background();
        match ended {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Error::usage(format!(
                "the dashboard on {} stopped: {error}",
                self.addr
            ))),
            Err(error) => Err(Error::internal(format!("the dashboard stopped: {error}"))),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Serves the dashboard of the store in `store_dir` until the process is stopped: starts
/// it ([`start`]) and waits.
pub fn serve(store_dir: impl AsRef<Path>, options: Options) -> Result<(), Error> {
    start(store_dir, options)?.wait()
}

/// Starts serving the dashboard of the store in `store_dir` and returns once it listens.
/// The store must exist: a directory that is not one is an error, not an empty dashboard.
pub fn start(store_dir: impl AsRef<Path>, options: Options) -> Result<Server, Error> {
    let dir = store_dir.as_ref();
    if !dir.join("store.db").is_file() {
        return Err(Error::usage(format!(
            "there is no store in {}; run the workflow first, or name its store with `--store`",
            dir.display()
        )));
    }
    let store = Store::open(dir)?;
    let listener = std::net::TcpListener::bind(options.addr)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|error| {
            Error::usage(format!(
                "cannot listen on {}: {error}; pick another with `--addr`",
                options.addr
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|error| Error::usage(format!("cannot listen on {}: {error}", options.addr)))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("choochoo-serve")
        .enable_all()
        .build()
        .map_err(|error| {
            Error::internal(format!("cannot start the dashboard's threads: {error}"))
        })?;
    let app = Arc::new(routes::App::new(store, options, addr)?);
    let task = {
        let _entered = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|error| Error::usage(format!("cannot listen on {addr}: {error}")))?;
        runtime.spawn(async move { axum::serve(listener, routes::router(app)).await })
    };
    Ok(Server {
        addr,
        task,
        runtime: Some(runtime),
    })
}
