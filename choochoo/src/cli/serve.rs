//! `serve`: the store's dashboard in a browser (runs, live while they go, and the defect
//! board), with this workflow's graph on each run's page.

use super::{Session, say};
use crate::diagram::Diagram;
use crate::error::Error;
use crate::serve::Options;
use crate::workflow::Workflow;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(super) struct ServeOptions {
    /// Where to listen; another address than a loopback one lets anyone who can reach it
    /// read the store.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Lets the pages add notes to defects, mark them mitigated or fixed, and merge them
    /// (each recorded with who and when, as `defects note` and `defects fix` do).
    #[arg(long)]
    allow_writes: bool,
}

pub(super) fn run<W, F>(s: &Session<'_, F>, options: &ServeOptions) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let (name, graph) = s.graph()?;
    let diagram = Diagram::from_graph(name, &graph)?;
    let server = crate::serve::start(
        &s.args.store,
        Options::new()
            .addr(options.addr)
            .allow_writes(options.allow_writes)
            .diagram(diagram),
    )?;
    if !server.addr().ip().is_loopback() {
        eprintln!(
            "warning: {} is not a loopback address: anyone who can reach it can read the store",
            server.addr()
        );
    }
    let mode = if options.allow_writes {
        "writes allowed"
    } else {
        "read-only; --allow-writes lets it add notes and mark defects"
    };
    say(format_args!(
        "serving the store {} at {} ({mode}); stop it with Ctrl-C",
        s.args.store.display(),
        server.url()
    ));
    let _ = std::io::Write::flush(&mut std::io::stdout());
    server.wait()?;
    Ok(ExitCode::SUCCESS)
}
