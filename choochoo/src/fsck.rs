//! Keeping a store healthy: [`Store::fsck`] finds every entry that cannot be trusted (a
//! record that does not decode, a stored output that does not match its hash, a missing or
//! misnamed blob, a blob nothing names, a temp file left by a killed process) and can remove
//! them, and warns about entries others may read; [`Store::gc`] bounds the store's size.
//! Neither ever touches what a run in progress holds: both wait for no run to be active, and
//! blobs younger than an hour are left alone (a running process may be about to name them in
//! a record).

use crate::error::Error;
use crate::hash::Digest;
use crate::store::Store;
use crate::store::maintenance::Candidate;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How old an unnamed blob must be before it counts as garbage.
const BLOB_GRACE: Duration = Duration::from_secs(3600);

/// What [`Store::fsck`] found, and whether it removed it.
#[derive(Clone, Debug, Default)]
pub struct Fsck {
    records: usize,
    blobs: usize,
    problems: Vec<String>,
    warnings: Vec<String>,
    repaired: bool,
    remote_only: usize,
}

impl Fsck {
    /// Each problem, one line each, naming the entry.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// What is sound but should be seen to, one line each: on Unix, the entries of the store
    /// that others may read (the store holds every station's inputs), then how to make it
    /// private again. Warnings are not problems: `fsck(true)` leaves them.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How many files of results are in the remote cache only (left there by
    /// `--remote-download=outputs|minimal`): not problems, their records are sound, and
    /// `choochoo fetch` downloads them.
    pub fn remote_only(&self) -> usize {
        self.remote_only
    }

    /// Whether the problems were removed (`fsck(true)`).
    pub fn repaired(&self) -> bool {
        self.repaired
    }

    /// Whether the store is sound.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Fsck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "checked {} records and {} blobs: {} problems",
            self.records,
            self.blobs,
            self.problems.len()
        )?;
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        if self.remote_only > 0 {
            writeln!(
                f,
                "{} files are in the remote cache only (not a problem; `fetch` downloads them)",
                self.remote_only
            )?;
        }
        if self.repaired && !self.problems.is_empty() {
            writeln!(
                f,
                "removed them; the stations they belonged to will run again"
            )?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}

/// What checking the records found: the (profile, key) of each that cannot be trusted, and
/// the blobs the sound ones name.
struct CheckedRecords {
    bad_keys: Vec<(String, Digest)>,
    named: HashSet<Digest>,
}

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

/// Keeping a store healthy: checking it, bounding its size, and pinning the runs to keep.
///
/// ```
/// use choochoo::{GcPolicy, Store};
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-fsck-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// assert!(store.fsck(false)?.is_clean());
/// let gc = store.gc(&GcPolicy { keep_runs: 3, ..GcPolicy::default() })?;
/// assert_eq!(gc.records(), 0);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
impl Store {
    /// Checks every record and blob; with `repair`, removes what cannot be trusted. Waits for
    /// runs in progress on this store (in any process) to finish first.
    pub fn fsck(&self, repair: bool) -> Result<Fsck, Error> {
        let _exclusive = self.exclusive()?;
        let mut report = Fsck {
            repaired: repair,
            ..Fsck::default()
        };
        let CheckedRecords { bad_keys, named } = self.check_records(&mut report)?;
        let log_problems = self.log_problems();
        report.problems.extend(log_problems.iter().cloned());
        let bad_files = self.check_blobs(&mut report, &named);
        report.warnings = self.open_entries();
        report.remote_only = self
            .remote_files()?
            .keys()
            .filter(|path| !path.exists())
            .count();
        if repair {
            if !bad_keys.is_empty() || !log_problems.is_empty() {
                let bad: HashSet<(String, [u8; 32])> = bad_keys
                    .iter()
                    .map(|(profile, key)| (profile.clone(), *key.as_bytes()))
                    .collect();
                self.compact_records(&bad)?;
            }
            for path in &bad_files {
                std::fs::remove_file(path).map_err(|error| Error::io("remove", path, error))?;
            }
        }
        Ok(report)
    }

    /// Checks every record and its stored output: the records that cannot be trusted, and
    /// the blobs the others name.
    fn check_records(&self, report: &mut Fsck) -> Result<CheckedRecords, Error> {
        let mut bad_keys = Vec::new();
        let mut named = HashSet::new();
        for (profile, key, record) in self.all_records()? {
            report.records += 1;
            let problem = match record {
                Err(problem) => format!("record {key} ({profile}) is unreadable: {problem}"),
                Ok(record) => match self.verify(&record) {
                    Err(problem) => format!("record {key} ({profile}): {problem}"),
                    Ok(()) => {
                        if record.inline.is_none() {
                            named.insert(record.encoding_hash);
                        }
                        continue;
                    }
                },
            };
            report.problems.push(problem);
            bad_keys.push((profile, key));
        }
        Ok(CheckedRecords { bad_keys, named })
    }

    /// Checks every blob file: the ones whose content is not their name, and the old ones no
    /// record names.
    fn check_blobs(&self, report: &mut Fsck, named: &HashSet<Digest>) -> Vec<PathBuf> {
        let mut bad_files = Vec::new();
        for (path, name) in self.blob_files() {
            report.blobs += 1;
            let problem = match name {
                Some(digest) if named.contains(&digest) => continue,
                Some(digest)
                    if std::fs::read(&path).is_ok_and(|bytes| Digest::of(&bytes) != digest) =>
                {
                    format!("blob {} does not match its name", path.display())
                }
                _ if is_old(&path) => format!("blob {} is named by no record", path.display()),
                _ => continue,
            };
            report.problems.push(problem);
            bad_files.push(path);
        }
        bad_files
    }

    /// The entries of the store others may use, and how to make it private again.
    fn open_entries(&self) -> Vec<String> {
        let (listed, count) = crate::privacy::wider_than_private(self.dir());
        if count == 0 {
            return Vec::new();
        }
        let mut lines: Vec<String> = listed
            .iter()
            .map(|(path, mode)| {
                format!("{} has mode {mode:04o}: others may use it", path.display())
            })
            .collect();
        if count > listed.len() {
            lines.push(format!("and {} more entries like it", count - listed.len()));
        }
        lines.push(format!(
            "the store holds every station's inputs; make it private with `chmod -R go-rwx {}`",
            self.dir().display()
        ));
        lines
    }

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

fn is_old(path: &std::path::Path) -> bool {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .is_ok_and(|modified| {
            SystemTime::now()
                .duration_since(modified)
                .is_ok_and(|age| age > BLOB_GRACE)
        })
}
