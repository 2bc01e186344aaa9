//! Bounding a store's size: [`Store::gc`] removes the results no recent or pinned run used,
//! and [`Store::pin`] keeps a run's results through it. Like `fsck`, it waits for no run to
//! be active, so it never removes what a running process holds.

use crate::error::Error;
use crate::hash::Digest;
use crate::store::Store;
use crate::store::maintenance::Candidate;
use std::collections::HashSet;
use std::fmt;

/// What [`Store::gc`] keeps.
#[derive(Clone, Debug)]
pub struct GcPolicy {
    /// Records used or created by the last `keep_runs` runs are kept (the current record of
    /// every node, and what pinned runs used, always are).
    pub keep_runs: usize,
    /// Past this many bytes of stored outputs, the oldest records not current and not
    /// pinned go first, recent or not.
    pub max_bytes: Option<u64>,
    /// List what would go, remove nothing.
    pub dry_run: bool,
}

impl Default for GcPolicy {
    fn default() -> GcPolicy {
        GcPolicy {
            keep_runs: 10,
            max_bytes: None,
            dry_run: false,
        }
    }
}

/// What [`Store::gc`] removed (or would remove, in a dry run).
#[derive(Clone, Debug, Default)]
pub struct Gc {
    records: usize,
    blobs: usize,
    bytes: u64,
    dry_run: bool,
    removed: Vec<String>,
}

impl fmt::Display for Gc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would remove"
        } else {
            "removed"
        };
        if self.dry_run {
            for line in &self.removed {
                writeln!(f, "  {line}")?;
            }
            return write!(f, "{verb} {} records ({} bytes)", self.records, self.bytes);
        }
        write!(
            f,
            "{verb} {} records and {} blobs ({} bytes)",
            self.records, self.blobs, self.bytes
        )
    }
}

impl Gc {
    /// How many records went (or would go).
    pub fn records(&self) -> usize {
        self.records
    }

    /// One line per record that went (or would go), oldest first: its key, station,
    /// profile and size.
    pub fn removed(&self) -> &[String] {
        &self.removed
    }
}

impl Store {
    /// Removes records no recent or pinned run used, and blobs no record names, within
    /// `policy`. What is kept:
    ///
    /// - the current record of every node (a no-op run needs nothing else);
    /// - every record a pinned run used ([`Store::pin`]), whatever the size limit;
    /// - every record one of the last `keep_runs` runs used or created — unless the store is
    ///   over `max_bytes`, when the oldest of these go first until it is not.
    ///
    /// Waits for runs in progress on this store (in any process) to finish first, so it never
    /// removes what a running process holds. With `dry_run`, lists what would go
    /// ([`Gc::removed`]) and removes nothing.
    pub fn gc(&self, policy: &GcPolicy) -> Result<Gc, Error> {
        let _exclusive = self.exclusive()?;
        let candidates = self.to_remove(policy)?;
        let mut gc = Gc {
            dry_run: policy.dry_run,
            ..Gc::default()
        };
        for c in &candidates {
            gc.records += 1;
            gc.bytes += c.size;
            let key = <[u8; 32]>::try_from(c.key.as_slice()).map(Digest::from_bytes);
            gc.removed.push(format!(
                "record {} of `{}` ({}), {} bytes",
                key.map_or_else(|_| "(malformed key)".to_owned(), |key| key.to_string()),
                c.station,
                c.profile,
                c.size
            ));
        }
        if !policy.dry_run {
            gc.blobs = self.remove_records(&candidates)?;
        }
        if !policy.dry_run {
            self.trim_run_keys(policy.keep_runs)?;
        }
        Ok(gc)
    }

    /// Removes `candidates` (the record log rewritten without them and without what else is
    /// no longer current), then the blobs they named that no record left names; how many
    /// blobs went.
    fn remove_records(&self, candidates: &[Candidate]) -> Result<usize, Error> {
        let gone: HashSet<(String, [u8; 32])> = candidates
            .iter()
            .filter_map(|c| {
                Some((
                    c.profile.clone(),
                    <[u8; 32]>::try_from(c.key.as_slice()).ok()?,
                ))
            })
            .collect();
        self.compact_records(&gone)?;
        let named = self.named_blobs();
        let mut blobs = 0;
        for c in candidates
            .iter()
            .filter(|c| c.is_blob && !named.contains(&c.encoding_hash))
        {
            let Ok(hash) = <[u8; 32]>::try_from(c.encoding_hash.as_slice()) else {
                continue;
            };
            if std::fs::remove_file(self.blob_path(&Digest::from_bytes(hash))).is_ok() {
                blobs += 1;
            }
        }
        Ok(blobs)
    }

    /// The records `policy` lets go, oldest first: what no kept run used; past the size
    /// limit, the rest too, but what pinned runs used.
    fn to_remove(&self, policy: &GcPolicy) -> Result<Vec<Candidate>, Error> {
        let since = self.start_of_run(policy.keep_runs)?;
        let recent = self.keys_of_recent_runs(policy.keep_runs)?;
        let pinned = self.keys_of_pinned_runs()?;
        let mut candidates = self.gc_candidates()?;
        let total = self.stored_bytes()?;
        let mut over = policy.max_bytes.map_or(0, |max| total.saturating_sub(max));
        candidates.retain(|c| {
            let id = (c.profile.clone(), c.key.clone());
            if pinned.contains(&id) {
                return false;
            }
            let recent = c.created >= since || recent.contains(&id);
            if recent && over == 0 {
                return false;
            }
            if recent {
                over = over.saturating_sub(c.size);
            }
            true
        });
        Ok(candidates)
    }

    /// Keeps a run's records through [`Store::gc`] until [`Store::unpin`]: a release, a
    /// known-good state to go back to. A run that does not exist is an error.
    pub fn pin(&self, run: i64) -> Result<(), Error> {
        let exists = self.pin_run(run)?;
        if exists {
            Ok(())
        } else {
            Err(Error::usage(format!(
                "there is no run {run} in the store {}",
                self.dir().display()
            )))
        }
    }

    /// Lets `gc` remove a pinned run's records again; `false` if it was not pinned.
    pub fn unpin(&self, run: i64) -> Result<bool, Error> {
        self.unpin_run(run)
    }

    /// The pinned runs, oldest first.
    pub fn pinned(&self) -> Result<Vec<i64>, Error> {
        self.pinned_runs()
    }
}
