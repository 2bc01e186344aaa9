//! Files in the remote cache only, in a run: a record naming a file that was restored from
//! the remote cache without its bytes is a hit while the file is absent, its content the
//! digest remembered; the bytes are fetched when a station that runs reads the value (or
//! when the download mode wants them), and when the server cannot give them, the station
//! that made them runs here again, with a warning. See [`crate::remote::download`].

use super::Execution;
use crate::error::chain;
use crate::graph::Kind;
use crate::graph::edge::Edge;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::stat::Seen;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why a station whose files could not be fetched runs again.
const RUNS_AGAIN: &str = "its files are in the remote cache only, which cannot give them";

impl Execution<'_> {
    /// The files in the remote cache only, read from the store at the first need.
    fn with_remote_files<R>(&self, f: impl FnOnce(&mut HashMap<PathBuf, Digest>) -> R) -> R {
        let mut files = self.remote_files.lock().unwrap_or_else(|e| e.into_inner());
        let files = files.get_or_insert_with(|| {
            self.store
                .remote_files()
                .inspect_err(|error| tracing::debug!("{}", chain(error)))
                .unwrap_or_default()
        });
        f(files)
    }

    /// What a file named by a record is, as seen now: an absent file that is in the remote
    /// cache only with the content `recorded` counts as that content.
    pub(super) fn output_seen(&self, path: &Path, recorded: &Digest, seen: Seen) -> Seen {
        if seen.state.is_some() || crate::filter::real(path).is_dir() {
            return seen;
        }
        match self.is_remote_only(path, recorded) {
            true => Seen {
                digest: *recorded,
                state: None,
            },
            false => seen,
        }
    }

    /// Whether the file at `path` is in the remote cache only, with this content.
    pub(super) fn is_remote_only(&self, path: &Path, digest: &Digest) -> bool {
        self.with_remote_files(|files| files.get(path) == Some(digest))
    }

    /// Remembers that a file is in the remote cache only.
    #[cfg_attr(
        not(feature = "remote"),
        allow(dead_code, reason = "only the remote cache leaves files there")
    )]
    pub(super) fn note_remote(&self, path: &Path, digest: &Digest) -> Result<(), String> {
        self.store
            .mark_remote(path, digest)
            .map_err(|error| chain(&error))?;
        self.with_remote_files(|files| files.insert(path.to_owned(), *digest));
        Ok(())
    }

    /// Forgets that a file is in the remote cache only: it is here.
    fn note_here(&self, path: &Path) {
        if self.with_remote_files(|files| files.remove(path)).is_some()
            && let Err(error) = self.store.unmark_remote(path)
        {
            tracing::debug!("{}", chain(&error));
        }
    }

    /// The files of node `id`'s value that are in the remote cache only, with their content.
    pub(super) fn remote_only(&self, id: NodeId) -> Vec<(PathBuf, Digest)> {
        let Some(content) = self.contents[id.index()].get() else {
            return Vec::new();
        };
        content
            .files
            .iter()
            // A path that exists (a directory's, a filtered directory's) is not looked for
            // among them: that reads the store's database, opened beside the first stations.
            .filter(|(path, seen)| seen.state.is_none() && !crate::filter::real(path).exists())
            .filter(|(path, seen)| self.is_remote_only(path, &seen.digest))
            .map(|(path, seen)| (path.clone(), seen.digest))
            .collect()
    }

    /// Brings the files of every input of a station into the store, before it runs.
    pub(super) fn materialize_inputs(&self, inputs: &[Edge]) -> Result<(), String> {
        inputs
            .iter()
            .flat_map(Edge::sources)
            .try_for_each(|source| self.materialize(*source))
    }

    /// Brings the files of node `id`'s value into the store, once per run: fetched from the
    /// remote cache, or else made again by running its station here.
    pub(super) fn materialize(&self, id: NodeId) -> Result<(), String> {
        // A node whose files were all seen here has none in the remote cache only: nothing
        // to fetch, and no cell of the table to make for it.
        let here =
            |content: &crate::memo::Content| content.files.iter().all(|(_, s)| s.state.is_some());
        if self.contents[id.index()].get().is_some_and(here) {
            return Ok(());
        }
        let n = self.graph.nodes.len();
        self.materialized
            .get_or_init(|| (0..n).map(|_| OnceLock::new()).collect())[id.index()]
        .get_or_init(|| {
            let files = self.remote_only(id);
            if files.is_empty() {
                return Ok(());
            }
            match self.fetch_files(&files) {
                Ok(()) => Ok(()),
                Err(why) => self.recompute(id, &why),
            }
        })
        .clone()
    }

    /// Fetches files from the remote cache, each checked against its digests, and
    /// publishes them in place.
    #[cfg(feature = "remote")]
    pub(super) fn fetch_files(&self, files: &[(PathBuf, Digest)]) -> Result<(), String> {
        let cache = self
            .settings
            .remote
            .as_ref()
            .ok_or_else(|| "no remote cache is configured".to_owned())?;
        crate::remote::fetch::files(cache, self.store, files)?;
        self.with_remote_files(|remote| {
            for (path, _) in files {
                remote.remove(path);
            }
        });
        Ok(())
    }

    #[cfg(not(feature = "remote"))]
    pub(super) fn fetch_files(&self, _files: &[(PathBuf, Digest)]) -> Result<(), String> {
        Err("this program is built without the remote cache (feature `remote`)".to_owned())
    }

    /// Runs station `id` again here, its files having no other source, and checks it made
    /// the content its dependents' keys were made of: a station that does not is an error
    /// of this run, never a value handed on (its new record makes the next run right).
    fn recompute(&self, id: NodeId, why: &str) -> Result<(), String> {
        let path = &self.paths[id.index()];
        let Kind::Station { station, inputs } = &self.graph.node(id).kind else {
            return Err(format!("the files of `{path}` cannot be had: {why}"));
        };
        self.warn(format!(
            "the files of `{path}` are in the remote cache only and cannot be fetched ({why}); \
             running it here"
        ));
        self.materialize_inputs(inputs)?;
        let head = self
            .head(id, station.as_ref(), inputs)
            .map_err(|error| chain(&error))?;
        let before = self.contents[id.index()]
            .get()
            .map(|content| content.digest);
        let lease = self.lease(id).map_err(|error| chain(&error))?;
        let (done, outcome) = self.node_call(id, station, inputs, |call| {
            self.call_and_record(call, head, RUNS_AGAIN.into())
        });
        self.release(lease);
        let done = done.ok_or_else(|| {
            let error = outcome.error.unwrap_or_default();
            format!("`{path}` was run again for its files and failed: {error}")
        })?;
        for (file, _) in &done.content.files {
            self.note_here(file);
        }
        if Some(done.content.digest) != before {
            return Err(format!(
                "`{path}` was run again for its files and made other content than the remote \
                 cache's; its new result is recorded, run again"
            ));
        }
        let _ = self.values[id.index()].set(done.value);
        Ok(())
    }

    /// At the end of a run, the files the download mode wants that are still in the remote
    /// cache only: every file for `all`, the outputs' for `outputs`. An output whose files
    /// cannot be fetched is made again here; other files stay where they are, with a warning.
    #[cfg(feature = "remote")]
    pub(super) fn materialize_wanted(&self, outputs: &[NodeId]) {
        use crate::remote::download::Download;
        let Some(cache) = &self.settings.remote else {
            return;
        };
        if self.with_remote_files(|files| files.is_empty()) {
            return;
        }
        match cache.download() {
            Download::Minimal => {}
            Download::Outputs => {
                for id in outputs {
                    if let Err(why) = self.materialize(*id) {
                        self.warn(format!("an output's files are not here: {why}"));
                    }
                }
            }
            Download::All => {
                let files: Vec<(PathBuf, Digest)> = self
                    .graph
                    .ids()
                    .flat_map(|id| self.remote_only(id))
                    .collect();
                if !files.is_empty()
                    && let Err(why) = self.fetch_files(&files)
                {
                    self.warn(format!(
                        "{} files stay in the remote cache only: {why}",
                        files.len()
                    ));
                }
            }
        }
    }
}
