//! Lookups: what the store remembers of a key. A record counts only if everything it names
//! is there and intact — its stored output (verified through the stat cache), each output
//! file with its recorded hash, its directory if it used one — and every input its station
//! discovered while it ran is as it was; else it is stale, and the station runs again. A
//! record found becomes the node's result only once it is used.

use super::Execution;
use crate::error::{Error, chain};
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo::{self, Content, Head, Record};
use crate::stat::Seen;
use std::path::PathBuf;

/// A usable record and the files its output names, as seen now.
pub(crate) struct Found {
    pub(super) record: Record,
    files: Vec<(PathBuf, Seen)>,
}

/// What a lookup found.
pub(super) enum Lookup {
    /// A record exists and everything it names is present and intact.
    Hit(Found),
    /// A record exists but cannot be used, for this reason.
    Stale(String),
    Miss,
}

impl Execution<'_> {
    /// Notes a key as used by this run, so `gc` keeps it.
    pub(super) fn used(&self, key: Digest) {
        self.used.note(key);
    }

    /// Looks a key up again, reading first what other processes recorded since: after
    /// waiting for another process, which may have just recorded the node. A record found is
    /// adopted.
    pub(super) fn look_again(&self, id: NodeId, key: &Digest) -> bool {
        match self.find(&self.paths[id.index()], key, true) {
            Lookup::Hit(found) => {
                self.adopt(id, found);
                true
            }
            Lookup::Stale(_) | Lookup::Miss => false,
        }
    }

    /// Makes a found record the node's result: its content for its dependents' keys. Its
    /// value is read again by its key if a station needs it (most cached nodes' values are
    /// never needed, so nothing more is kept for them).
    pub(crate) fn adopt(&self, id: NodeId, Found { record, files }: Found) {
        let _ = self.contents[id.index()].set(Content {
            digest: record.output_hash,
            files: memo::Files::from(files),
        });
    }

    /// Looks a key up for the node named `path` and checks that what it names is all there
    /// and intact; on a hit, also returns the record and the files its output names, as
    /// seen now. `fresh` first reads what other processes recorded since.
    pub(super) fn find(&self, path: &str, key: &Digest, fresh: bool) -> Lookup {
        let record = match self.record_of(path, key, fresh) {
            Ok(record) => record,
            Err(stale) => return stale.map_or(Lookup::Miss, Lookup::Stale),
        };
        if let Err(problem) = self.verify(&record) {
            self.warn(format!(
                "the record {key} of `{path}` is corrupt ({problem}); running it again"
            ));
            return Lookup::Stale("its stored output was corrupt".to_owned());
        }
        // Each output file is looked at once: the same sight decides staleness and is kept.
        // A file in the remote cache only counts as its recorded content.
        let seen: Vec<(PathBuf, Option<Seen>)> = record
            .files
            .iter()
            .map(|(file, digest)| {
                let seen = self.stats.hash(file).ok();
                let seen = seen.map(|seen| self.output_seen(file, digest, seen));
                (file.clone(), seen)
            })
            .collect();
        let current = |file: &std::path::Path| {
            seen.iter()
                .find(|(path, _)| path == file)
                .and_then(|(_, seen)| seen.clone())
        };
        let remote = |file: &std::path::Path, digest: &Digest| {
            current(file).is_some_and(|seen| seen.state.is_none() && seen.digest == *digest)
                && self.is_remote_only(file, digest)
        };
        if let Some(reason) = memo::stale_output(&record, current, remote) {
            return Lookup::Stale(reason);
        }
        if record.used_dir && !self.store.work_dir(&self.settings.profile, path).exists() {
            return Lookup::Stale("its directory was deleted".to_owned());
        }
        // What its station found to read while it ran counts like its inputs.
        let current = |source: &_| self.checked.current(&self.stats, source);
        if let Some(reason) = crate::discovered::stale(&record.discovered, current) {
            return Lookup::Stale(reason);
        }
        let files = seen
            .into_iter()
            .filter_map(|(path, seen)| Some((path, seen?)))
            .collect();
        Lookup::Hit(Found { record, files })
    }

    /// The record of `key`, or why there is none to use: stale for this reason when the
    /// record is unreadable, else a miss (`None`). A store that cannot be asked is a miss,
    /// and a warning.
    fn record_of(&self, path: &str, key: &Digest, fresh: bool) -> Result<Record, Option<String>> {
        let stored = if fresh {
            self.store.record(&self.settings.profile, key)
        } else {
            self.stored(key)
        };
        match stored {
            Ok(None) => Err(None),
            Ok(Some(Ok(record))) => Ok(record),
            Ok(Some(Err(problem))) => {
                self.warn(format!(
                    "the record {key} of `{path}` is unreadable ({problem}); running it again"
                ));
                Err(Some("its record was unreadable".to_owned()))
            }
            Err(error) => {
                self.warn(format!(
                    "cannot look up `{path}`: {}; running it again",
                    chain(&error)
                ));
                Err(None)
            }
        }
    }

    /// Checks a record's stored output without reading it again when it is a blob file the
    /// stat cache already knows unchanged: a blob's name is its hash, so the digest its file
    /// must have follows from the record. Inline outputs are hashed (they are in memory).
    fn verify(&self, record: &Record) -> Result<(), String> {
        if record.inline.is_some() {
            return self.store.verify(record);
        }
        let path = self.store.blob_path(&record.encoding_hash);
        match self.stats.hash(&path) {
            Ok(seen) if seen.state.is_some_and(|s| s.size == record.size) => {
                if seen.digest == crate::stat::file_digest(&record.encoding_hash) {
                    Ok(())
                } else {
                    Err(format!(
                        "stored output {} does not match its hash",
                        record.encoding_hash
                    ))
                }
            }
            Ok(_) => Err(format!(
                "blob {} is missing or of the wrong size",
                path.display()
            )),
            Err(error) => Err(format!("cannot read blob {}: {error}", path.display())),
        }
    }

    /// The record of `key` as the store knows it (the lookup after taking the lease reads
    /// what other processes recorded since).
    fn stored(&self, key: &Digest) -> Result<Option<Result<Record, String>>, Error> {
        self.store.known_record(&self.settings.profile, key)
    }

    /// A node's head as the run found it.
    pub(super) fn last_head(&self, path: &str) -> Option<Head> {
        self.store.head(&self.settings.profile, path).ok().flatten()
    }
}
