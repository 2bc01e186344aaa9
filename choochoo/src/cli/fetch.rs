//! `fetch [ID..]`: downloads the files a run left in the remote cache only
//! (`--remote-download=outputs|minimal`), of the named stations or all of them, each
//! checked against its digests and published in place.

use super::args::RemoteOptions;
use super::{Session, say};
use crate::error::Error;
use crate::remote::Cache;
use crate::workflow::Workflow;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) fn fetch<W, F>(
    s: &Session<'_, F>,
    ids: &[String],
    options: &RemoteOptions,
) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    let store = s.store()?;
    let remote = options.remote().ok_or_else(|| {
        Error::usage("`fetch` needs the remote cache; give --remote URL or set CHOOCHOO_REMOTE")
    })?;
    let dirs = station_dirs(s, &store, ids)?;
    let cache = Cache::new(remote)?;
    let fetched = crate::remote::fetch::under(&cache, &store, &dirs);
    let fetched = fetched.map_err(|why| Error::usage(format!("cannot fetch: {why}")))?;
    say(format!(
        "fetched {} file{} ({} bytes) from the remote cache",
        fetched.files,
        if fetched.files == 1 { "" } else { "s" },
        fetched.bytes
    ));
    Ok(ExitCode::SUCCESS)
}

/// The directories of the stations `ids` name (none: every file).
fn station_dirs<W, F>(
    s: &Session<'_, F>,
    store: &crate::store::Store,
    ids: &[String],
) -> Result<Vec<PathBuf>, Error>
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (_, graph) = s.graph()?;
    let paths = crate::execution::paths::node_paths(&graph)?;
    let mut dirs = Vec::new();
    for id in ids {
        for node in crate::select::matching(&graph, &paths, id)? {
            dirs.push(store.work_dir(&s.args.profile, &paths[node.index()]));
        }
    }
    Ok(dirs)
}
