//! `run --watch`: runs, says what it watches, waits for a change to a file the workflow
//! depends on, says which changed, and runs again, until Ctrl-C. Each run is shown as a
//! plain `run` shows it, with the stations that ran and why.

use super::args::RunOptions;
use super::commands::run_once;
use super::{Session, say};
use crate::error::Error;
use crate::run::watch::Watch;
use crate::store::Store;
use crate::workflow::Workflow;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

/// How a watch ends on Ctrl-C, as a shell reports a program a `SIGINT` ended.
const INTERRUPTED: u8 = 130;

pub(super) fn watch<W, F>(
    s: &Session<'_, F>,
    options: &RunOptions,
    store: &Store,
) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    let profile = &s.args.profile;
    let mut watch = Watch::start()?;
    loop {
        let (_, graph) = s.graph()?;
        watch.look(store, profile, &graph)?;
        run_once(s, options, store)?;
        if Watch::interrupted() {
            return Ok(stopped());
        }
        let during = watch.look(store, profile, &graph)?;
        say(format_args!(
            "watching {} for changes (Ctrl-C stops)",
            paths(watch.len())
        ));
        match watch.next(during)? {
            Some(changed) => say(format_args!("changed: {}", shown(&changed))),
            None => return Ok(stopped()),
        }
    }
}

fn stopped() -> ExitCode {
    say("stopped watching");
    ExitCode::from(INTERRUPTED)
}

/// `1 file or directory`, `12 files and directories`.
fn paths(n: usize) -> String {
    match n {
        1 => "1 file or directory".to_owned(),
        n => format!("{n} files and directories"),
    }
}

/// The changed paths, relative to the working directory where they are under it.
fn shown(changed: &BTreeSet<PathBuf>) -> String {
    let here = std::env::current_dir().unwrap_or_default();
    changed
        .iter()
        .map(|path| {
            path.strip_prefix(&here)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}
