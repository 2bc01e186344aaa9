//! `worker --temporal HOST:PORT`: the workflow program as a worker, running the stations a
//! coordinator (`run --temporal`) sends through the Temporal server, until it is stopped.

use super::Session;
use super::args::{RemoteOptions, TemporalOptions};
use crate::error::Error;
use crate::remote::Cache;
use crate::temporal::worker::Bench;
use crate::workflow::Workflow;
use std::process::ExitCode;
use std::sync::Arc;

/// The options of `worker`.
#[derive(Debug, clap::Args)]
pub(super) struct WorkerOptions {
    #[command(flatten)]
    pub(super) temporal: TemporalOptions,
    /// This worker's name, shown with each station it ran (default: host name and process id).
    #[arg(long, value_name = "NAME")]
    pub(super) name: Option<String>,
    /// Runs at most N stations at once (default: one per core).
    #[arg(long, short, value_name = "N")]
    pub(super) jobs: Option<usize>,
    #[command(flatten)]
    pub(super) remote: RemoteOptions,
}

pub(super) fn run<W, F>(s: &Session<'_, F>, options: &WorkerOptions) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let temporal = options.temporal.temporal().ok_or_else(|| {
        Error::usage("`worker` needs the Temporal server; give --temporal HOST:PORT")
    })?;
    let remote = options.remote.remote().ok_or_else(|| {
        Error::usage(
            "`worker` needs the remote cache its stations' values travel through; give \
             --remote URL or set CHOOCHOO_REMOTE",
        )
    })?;
    let (_, graph) = s.graph()?;
    let bench = Bench {
        graph,
        store: s.store()?,
        cache: Arc::new(Cache::new(remote)?),
        profile: s.args.profile.clone(),
        instance: options.name.clone().unwrap_or_else(default_name),
        jobs: (options.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
    };
    crate::temporal::worker::serve(bench, &temporal)?;
    Ok(ExitCode::SUCCESS)
}

/// The host's name and this process's id.
fn default_name() -> String {
    format!("{}:{}", crate::run::host_name(), std::process::id())
}
