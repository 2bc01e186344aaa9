//! Keeping a store healthy: [`Store::fsck`] finds every entry that cannot be trusted (a
//! record that does not decode, a stored output that does not match its hash, a missing or
//! misnamed blob, a blob nothing names, a temp file left by a killed process) and can remove
//! them; [`Store::gc`] bounds the store's size. Neither ever touches what a run in progress
//! holds: both wait for no run to be active, and blobs younger than an hour are left alone
//! (a running process may be about to name them in a record).

use crate::store::Record;
use crate::{Digest, Error, Store};
use rusqlite::params;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How old an unnamed blob must be before it counts as garbage.
const BLOB_GRACE: Duration = Duration::from_secs(3600);

/// A record as stored: its profile, its key, and the record or why it is unreadable.
type Stored = (String, Digest, Result<Record, String>);

/// What [`Store::fsck`] found, and whether it removed it.
#[derive(Clone, Debug, Default)]
pub struct Fsck {
    records: usize,
    blobs: usize,
    problems: Vec<String>,
    repaired: bool,
}

impl Fsck {
    /// Each problem, one line each, naming the entry.
    pub fn problems(&self) -> &[String] {
        &self.problems
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
        if self.repaired && !self.problems.is_empty() {
            writeln!(
                f,
                "removed them; the stations they belonged to will run again"
            )?;
        }
        Ok(())
    }
}

/// What [`Store::gc`] keeps.
#[derive(Clone, Debug)]
pub struct GcPolicy {
    /// Records used by the last `keep_runs` runs are kept (the current record of every node
    /// always is).
    pub keep_runs: usize,
    /// Past this many bytes of stored outputs, the oldest other records go first.
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
}

impl fmt::Display for Gc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would remove"
        } else {
            "removed"
        };
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
}

impl Store {
    /// Checks every record and blob; with `repair`, removes what cannot be trusted. Waits for
    /// runs in progress on this store (in any process) to finish first.
    pub fn fsck(&self, repair: bool) -> Result<Fsck, Error> {
        let _exclusive = self.exclusive()?;
        let mut report = Fsck {
            repaired: repair,
            ..Fsck::default()
        };
        let mut bad_keys = Vec::new();
        let mut named = HashSet::new();
        for (profile, key, record) in self.all_records()? {
            report.records += 1;
            match record {
                Err(problem) => {
                    report
                        .problems
                        .push(format!("record {key} ({profile}) is unreadable: {problem}"));
                    bad_keys.push((profile, key));
                }
                Ok(record) => {
                    if let Err(problem) = self.verify(&record) {
                        report
                            .problems
                            .push(format!("record {key} ({profile}): {problem}"));
                        bad_keys.push((profile, key));
                    } else if record.inline.is_none() {
                        named.insert(record.encoding_hash);
                    }
                }
            }
        }
        let mut bad_files = Vec::new();
        for (path, name) in self.blob_files() {
            report.blobs += 1;
            match name {
                Some(digest) if named.contains(&digest) => {}
                Some(digest)
                    if std::fs::read(&path).is_ok_and(|bytes| Digest::of(&bytes) != digest) =>
                {
                    report
                        .problems
                        .push(format!("blob {} does not match its name", path.display()));
                    bad_files.push(path);
                }
                _ if is_old(&path) => {
                    report
                        .problems
                        .push(format!("blob {} is named by no record", path.display()));
                    bad_files.push(path);
                }
                _ => {}
            }
        }
        if repair {
            for (profile, key) in &bad_keys {
                self.forget(profile, key)?;
            }
            for path in &bad_files {
                std::fs::remove_file(path).map_err(|error| Error::io("remove", path, error))?;
            }
        }
        Ok(report)
    }

    /// Removes records no recent run used and blobs no record names, within `policy`.
    pub fn gc(&self, policy: &GcPolicy) -> Result<Gc, Error> {
        let _exclusive = self.exclusive()?;
        let since = self.start_of_run(policy.keep_runs)?;
        let mut candidates = self.with_db("read records from", |db| {
            let mut stmt = db.prepare(
                "SELECT r.profile, r.key, r.size, r.inline_value IS NULL, r.encoding_hash, r.created_ns FROM records r
                 WHERE NOT EXISTS (SELECT 1 FROM heads h WHERE h.profile = r.profile AND h.key = r.key)
                 ORDER BY r.created_ns",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?, row.get::<_, i64>(2)?, row.get::<_, bool>(3)?, row.get::<_, Vec<u8>>(4)?, row.get::<_, i64>(5)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let total: u64 = self.with_db("measure", |db| {
            db.query_row("SELECT coalesce(sum(size), 0) FROM records", [], |row| {
                row.get::<_, i64>(0)
            })
        })? as u64;
        let mut over = policy.max_bytes.map_or(0, |max| total.saturating_sub(max));
        // Oldest first: records older than the kept runs go; past the size limit, so do newer ones.
        candidates.retain(|(.., size, _, _, created)| {
            let old = *created < since;
            let keep = !old && over == 0;
            if !keep && !old {
                over = over.saturating_sub(*size as u64);
            }
            !keep
        });
        let mut gc = Gc {
            dry_run: policy.dry_run,
            ..Gc::default()
        };
        for (profile, key, size, is_blob, encoding_hash, _) in &candidates {
            gc.records += 1;
            gc.bytes += *size as u64;
            if policy.dry_run {
                continue;
            }
            let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) else {
                continue;
            };
            self.forget(profile, &Digest::from_bytes(key))?;
            if *is_blob && let Ok(hash) = <[u8; 32]>::try_from(encoding_hash.as_slice()) {
                let digest = Digest::from_bytes(hash);
                if !self.blob_named(&digest)?
                    && std::fs::remove_file(self.blob_path(&digest)).is_ok()
                {
                    gc.blobs += 1;
                }
            }
        }
        Ok(gc)
    }

    /// Every record with its profile and key; unreadable ones as errors.
    fn all_records(&self) -> Result<Vec<Stored>, Error> {
        let keys: Vec<(String, Vec<u8>)> = self.with_db("read records from", |db| {
            let mut stmt = db.prepare("SELECT profile, key FROM records")?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        })?;
        let mut out = Vec::new();
        for (profile, key) in keys {
            let Ok(bytes) = <[u8; 32]>::try_from(key.as_slice()) else {
                continue;
            };
            let key = Digest::from_bytes(bytes);
            if let Some(record) = self.record(&profile, &key)? {
                out.push((profile, key, record));
            }
        }
        Ok(out)
    }

    /// Every blob file, with the digest its name says (if it is one).
    fn blob_files(&self) -> Vec<(PathBuf, Option<Digest>)> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(self.dir().join("blobs")) else {
            return out;
        };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file
                    .file_name()
                    .to_str()
                    .and_then(|name| Digest::from_hex(name).ok());
                out.push((file.path(), name));
            }
        }
        out
    }

    fn blob_named(&self, digest: &Digest) -> Result<bool, Error> {
        self.with_db("read records from", |db| {
            db.query_row(
                "SELECT count(*) FROM records WHERE encoding_hash = ?1 AND inline_value IS NULL",
                params![digest.as_bytes()],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n > 0)
        })
    }

    /// When the `n`-th most recent run started (records created since are kept).
    fn start_of_run(&self, n: usize) -> Result<i64, Error> {
        if n == 0 {
            return Ok(i64::MAX);
        }
        self.with_db("read runs from", |db| {
            db.query_row("SELECT coalesce(min(started_ns), 0) FROM (SELECT started_ns FROM runs ORDER BY id DESC LIMIT ?1)", [n as i64], |row| row.get(0))
        })
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
