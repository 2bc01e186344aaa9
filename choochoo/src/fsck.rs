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
