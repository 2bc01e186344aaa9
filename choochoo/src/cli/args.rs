//! The command line's grammar, as clap reads it.

use crate::defect::model::DefectId;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A choochoo workflow: run it, watch it, and look at what happened.
#[derive(Debug, Parser)]
#[command(disable_help_subcommand = true, max_term_width = 100)]
pub(super) struct Args {
    /// The store: results, runs and the defect ledger.
    #[arg(long, global = true, value_name = "DIR", default_value = ".choochoo")]
    pub(super) store: PathBuf,

    /// Keeps results apart from other profiles' (staging, production).
    #[arg(long, global = true, value_name = "P", default_value = "default")]
    pub(super) profile: String,

    /// Prints only the summary, the output and errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub(super) quiet: bool,

    /// Also prints cached stations and why each station ran.
    #[arg(long, short, global = true)]
    pub(super) verbose: bool,

    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Runs the workflow: only the stations whose inputs or code changed.
    // Boxed: its options are many times the size of any other command's.
    Run(Box<RunOptions>),
    /// Says what a run would do and why, without running or writing anything.
    Plan {
        /// How to print the plan.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Asks the check of every remembered station (once, changing nothing), to show
        /// what drifted and what would run because of it.
        #[arg(long)]
        check: bool,
        /// Plans only these stations and what they need (all unless given).
        #[arg(value_name = "NAME")]
        targets: Vec<String>,
    },
    /// Shows each station: cached, stale, drifted, never run or failed, with its last run.
    Status {
        /// Lists each item of a map, instead of a line counting them.
        #[arg(long)]
        items: bool,
        /// Asks the check of every remembered station (once, changing nothing): a station
        /// whose world drifted is shown `drifted`, with its check's reason.
        #[arg(long)]
        check: bool,
    },
    /// Undoes the workflow's effects, last station first, and forgets its results; shows
    /// what it will undo and asks first.
    Clean(super::clean::CleanOptions),
    /// Draws the graph, each station coloured by its last status.
    Graph {
        /// The kind of drawing.
        #[arg(long, value_enum, default_value_t = GraphFormat::Svg)]
        format: GraphFormat,
        /// Writes it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Writes a run as Chrome trace-event JSON, for Perfetto or chrome://tracing.
    Trace {
        /// The run (the latest of the profile unless given).
        #[arg(long, value_name = "ID")]
        run: Option<i64>,
        /// Writes it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Writes a run as one self-contained HTML page: graph, timeline, failures, defects.
    Report {
        /// The run (the latest of the profile unless given).
        #[arg(long, value_name = "ID")]
        run: Option<i64>,
        /// Where to write the page.
        #[arg(long, value_name = "FILE", default_value = "report.html")]
        out: PathBuf,
    },
    /// Lists, shows, annotates and exports the recurring failures (defects).
    Defects {
        #[command(subcommand)]
        action: Option<DefectsAction>,
    },
    /// Serves the store in a browser: runs (live while they go) and the defect board.
    #[cfg(feature = "serve")]
    Serve(super::serve::ServeOptions),
    /// Checks every stored result; with `--repair`, removes what cannot be trusted.
    Fsck {
        /// Removes the problems found (their stations run again next time).
        #[arg(long)]
        repair: bool,
    },
    /// Downloads the files that are in the remote cache only (left there by
    /// `--remote-download=outputs|minimal`): of the named stations, or all of them.
    #[cfg(feature = "remote")]
    Fetch {
        /// The stations whose files to fetch, as `--force` takes them (all unless given).
        #[arg(value_name = "ID")]
        ids: Vec<String>,
        #[command(flatten)]
        remote: RemoteOptions,
    },
    /// Runs the stations a coordinator (`run --temporal`) sends through the Temporal
    /// server, until stopped.
    #[cfg(feature = "temporal")]
    Worker(Box<super::worker::WorkerOptions>),
    /// Removes results no recent run used.
    Gc {
        /// Keeps what the last N runs used.
        #[arg(long, value_name = "N", default_value_t = 10)]
        keep_runs: usize,
        /// Past this many bytes of stored outputs, removes the oldest other results first.
        #[arg(long, value_name = "BYTES")]
        max_bytes: Option<u64>,
        /// Lists what would go, removes nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Keeps what a run used through `gc` (a release, a known-good state).
    Pin {
        /// The run's id, as `status` and `trace` show it.
        run: i64,
    },
    /// Lets `gc` remove what a pinned run used.
    Unpin {
        /// The run's id.
        run: i64,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct RunOptions {
    /// Runs again each time a file the workflow depends on changes, until Ctrl-C.
    #[cfg(feature = "watch")]
    #[arg(long)]
    pub(super) watch: bool,
    /// Runs only these stations and what they need, leaving the others alone (all unless
    /// given); a name as `--force` takes it.
    #[arg(value_name = "NAME")]
    pub(super) targets: Vec<String>,
    /// Runs at most N stations at once (default: one per core).
    #[arg(long, short, value_name = "N")]
    pub(super) jobs: Option<usize>,
    /// After a failure, goes on with every station that does not depend on it.
    #[arg(long, short)]
    pub(super) keep_going: bool,
    /// Runs these stations whatever the store says.
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub(super) force: Vec<String>,
    /// Runs these stations and everything downstream of them whatever the store says.
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub(super) force_downstream: Vec<String>,
    /// Tries station NAME again up to N times after a transient failure, in this run only
    /// (repeatable); NAME as `--force` takes it.
    #[arg(long, value_name = "NAME=N", value_parser = super::policy::retries)]
    pub(super) retries: Vec<(String, u32)>,
    /// Waits this long before station NAME's first retry, in this run only (`200ms`, `5s`).
    #[arg(long, value_name = "NAME=DURATION", value_parser = super::policy::duration)]
    pub(super) backoff: Vec<(String, std::time::Duration)>,
    /// Fails an attempt of station NAME that takes longer than this, in this run only
    /// (`30s`, `5m`).
    #[arg(long, value_name = "NAME=DURATION", value_parser = super::policy::duration)]
    pub(super) timeout: Vec<(String, std::time::Duration)>,
    /// Lets at most N stations hold resource NAME at once (repeatable), for the stations
    /// that name it (`#[station(resources = ["db"])]`).
    #[arg(long, value_name = "NAME=N", value_parser = super::policy::units)]
    pub(super) resource: Vec<(String, usize)>,
    /// The remote cache, if any.
    #[cfg(feature = "remote")]
    #[command(flatten)]
    pub(super) remote: RemoteOptions,
    /// The Temporal workers, if any.
    #[cfg(feature = "temporal")]
    #[command(flatten)]
    pub(super) temporal: TemporalOptions,
}

/// Where the Temporal workers are, for `run` and `worker`.
#[cfg(feature = "temporal")]
#[derive(Debug, clap::Args)]
pub(super) struct TemporalOptions {
    /// A Temporal server (`host:port`): the stations that must run are sent to the workers
    /// polling its task queue (`worker`), their values through the remote cache.
    #[arg(long, value_name = "HOST:PORT", env = "CHOOCHOO_TEMPORAL")]
    pub(super) temporal: Option<String>,
    /// The Temporal namespace.
    #[arg(long, value_name = "N", default_value = "default")]
    pub(super) namespace: String,
    /// The task queue the workers poll.
    #[arg(long, value_name = "Q", default_value = "choochoo")]
    pub(super) task_queue: String,
}

#[cfg(feature = "temporal")]
impl TemporalOptions {
    /// The workers the flags name, if any.
    pub(super) fn temporal(&self) -> Option<crate::temporal::Temporal> {
        let address = self
            .temporal
            .as_deref()
            .filter(|address| !address.is_empty())?;
        Some(
            crate::temporal::Temporal::new(address)
                .namespace(&self.namespace)
                .task_queue(&self.task_queue),
        )
    }
}

/// The remote cache's flags, for `run` and `fetch`.
#[cfg(feature = "remote")]
#[derive(Debug, clap::Args)]
pub(super) struct RemoteOptions {
    /// A shared REAPI cache (`grpc://host:port`, or `grpcs://` over TLS) to look results up
    /// in, after the store.
    #[arg(long, value_name = "URL", env = "CHOOCHOO_REMOTE")]
    pub(super) remote: Option<String>,
    /// The remote cache's instance name.
    #[arg(
        long,
        value_name = "NAME",
        env = "CHOOCHOO_REMOTE_INSTANCE",
        default_value = ""
    )]
    pub(super) remote_instance: String,
    /// Uploads the stations that run to the remote cache (trusted writers only, such as CI
    /// on the main branch); `CHOOCHOO_REMOTE_WRITE=1` does the same.
    #[arg(long)]
    pub(super) remote_write: bool,
    /// Trusts the certificate authorities of this PEM file for a `grpcs://` remote cache,
    /// instead of the system's.
    #[arg(long, value_name = "PATH", env = "CHOOCHOO_REMOTE_CA")]
    pub(super) remote_ca: Option<std::path::PathBuf>,
    /// A client certificate (PEM) for a remote cache that asks for one (mutual TLS).
    #[arg(long, value_name = "PATH", env = "CHOOCHOO_REMOTE_CERT")]
    pub(super) remote_cert: Option<std::path::PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "PATH", env = "CHOOCHOO_REMOTE_KEY")]
    pub(super) remote_key: Option<std::path::PathBuf>,
    /// A header sent with every call to the remote cache, `name=value` (repeatable); without
    /// any, those of `CHOOCHOO_REMOTE_HEADERS` (entries separated by commas). Prefer the
    /// variable or a token file for secrets: a command line is seen by every process.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(super) remote_header: Vec<String>,
    /// A file holding a bearer token for the remote cache (`authorization: Bearer`); without
    /// one, `CHOOCHOO_REMOTE_TOKEN` holds the token itself.
    #[arg(long, value_name = "PATH", env = "CHOOCHOO_REMOTE_TOKEN_FILE")]
    pub(super) remote_token_file: Option<std::path::PathBuf>,
    /// Which files of remote hits are downloaded: `all`, only the workflow's `outputs`, or
    /// none at once (`minimal`); a station that runs fetches what it reads.
    #[arg(
        long,
        value_name = "MODE",
        env = "CHOOCHOO_REMOTE_DOWNLOAD",
        default_value = "all",
        value_parser = clap::builder::PossibleValuesParser::new(["all", "outputs", "minimal"])
    )]
    pub(super) remote_download: String,
}

#[cfg(feature = "remote")]
impl RemoteOptions {
    /// The remote cache the flags (and the variables behind them) name, if any.
    pub(super) fn remote(&self) -> Option<crate::remote::config::Remote> {
        let url = self.remote.as_deref().filter(|url| !url.is_empty())?;
        let write = self.remote_write
            || std::env::var("CHOOCHOO_REMOTE_WRITE").is_ok_and(|v| v == "1" || v == "true");
        let mut remote = crate::remote::config::Remote::new(url)
            .instance(&self.remote_instance)
            .write(write)
            .download_from("--remote-download", Some(self.remote_download.clone()))
            .identity_from(self.remote_cert.clone(), self.remote_key.clone());
        if let Some(ca) = &self.remote_ca {
            remote = remote.ca(ca);
        }
        remote = match self.remote_header.as_slice() {
            [] => remote.headers_from_env(),
            headers => remote.header_entries("--remote-header", headers.iter().map(String::as_str)),
        };
        Some(match &self.remote_token_file {
            Some(file) => remote.bearer_token_file(file),
            None => remote.token_from_env(),
        })
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum PlanFormat {
    /// One line per station.
    Text,
    /// One object per station, for scripts.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum GraphFormat {
    /// Graphviz (`dot -Tpng`).
    Dot,
    /// Mermaid (renders in GitHub Markdown).
    Mermaid,
    /// An SVG picture.
    Svg,
}

#[derive(Debug, Subcommand)]
pub(super) enum DefectsAction {
    /// Lists the defects, most recently seen first (the default).
    List,
    /// Shows a defect: how often, where, what it cost, notes, and its latest failures.
    Show {
        /// The defect, as `3` or `#3`.
        id: DefectId,
    },
    /// Adds a note to a defect.
    #[command(group(clap::ArgGroup::new("text").required(true).multiple(true)))]
    Note {
        /// The defect, as `3` or `#3`.
        id: DefectId,
        /// How to identify it and make things work again.
        #[arg(long, value_name = "TEXT", group = "text")]
        remedy: Option<String>,
        /// What to look at or record the next time it happens.
        #[arg(long, value_name = "TEXT", group = "text")]
        next_steps: Option<String>,
    },
    /// Marks a defect fixed; seen again, it reopens as regressed.
    Fix {
        /// The defect, as `3` or `#3`.
        id: DefectId,
    },
    /// Merges defect B into defect A: one cause, which the ledger split in two.
    Merge {
        /// The defect that stays, as `3` or `#3`: it keeps its title and status.
        into: DefectId,
        /// The defect merged into it: its observations, signatures and notes join A, and
        /// its id leads to A.
        from: DefectId,
    },
    /// Writes a defect as a ticket body for the team's tracker.
    Export {
        /// The defect, as `3` or `#3`.
        id: DefectId,
        /// Markdown for a description field, or JSON for scripts.
        #[arg(long, value_enum, default_value_t = ExportAs::Md)]
        format: ExportAs,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum ExportAs {
    /// Markdown.
    Md,
    /// JSON.
    Json,
}
