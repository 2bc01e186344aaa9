//! The queries of store upkeep ([`Store::fsck`], [`Store::gc`], [`Store::pin`]): every record
//! to check, the records `gc` may remove, the keys the recent and the pinned runs used, and
//! the pins themselves. What to keep is decided in [`crate::fsck`].

use super::Store;
use crate::error::Error;
use crate::hash::Digest;
use crate::memo::Record;
use rusqlite::{OptionalExtension, params};
use std::collections::HashSet;

/// A record as stored: its profile, its key, and the record or why it is unreadable.
pub(crate) type Stored = (String, Digest, Result<Record, String>);

/// A record `gc` may remove: no node's current record.
pub(crate) struct Candidate {
    pub(crate) profile: String,
    /// As stored; one of another length is named as malformed and kept.
    pub(crate) key: Vec<u8>,
    pub(crate) station: String,
    pub(crate) size: u64,
    pub(crate) is_blob: bool,
    pub(crate) encoding_hash: Vec<u8>,
    pub(crate) created: i64,
}

/// A record's identity as `gc` compares it: its profile and its key's bytes.
pub(crate) type RecordId = (String, Vec<u8>);

impl Store {
    /// Every record with its profile and key; unreadable ones as errors.
    pub(crate) fn all_records(&self) -> Result<Vec<Stored>, Error> {
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

    /// The records that are no node's current one, oldest first.
    pub(crate) fn gc_candidates(&self) -> Result<Vec<Candidate>, Error> {
        self.with_db("read records from", |db| {
            let mut stmt = db.prepare(
                "SELECT r.profile, r.key, r.size, r.inline_value IS NULL, r.encoding_hash, r.created_ns, r.station FROM records r
                 WHERE NOT EXISTS (SELECT 1 FROM heads h WHERE h.profile = r.profile AND h.key = r.key)
                 ORDER BY r.created_ns",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(Candidate {
                    profile: row.get(0)?,
                    key: row.get(1)?,
                    size: row.get::<_, i64>(2)? as u64,
                    is_blob: row.get(3)?,
                    encoding_hash: row.get(4)?,
                    created: row.get(5)?,
                    station: row.get(6)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    /// The size of every stored output, added up.
    pub(crate) fn stored_bytes(&self) -> Result<u64, Error> {
        let total = self.with_db("measure", |db| {
            db.query_row("SELECT coalesce(sum(size), 0) FROM records", [], |row| {
                row.get::<_, i64>(0)
            })
        })?;
        Ok(total as u64)
    }

    /// Whether some record names the blob `digest`.
    pub(crate) fn blob_named(&self, digest: &Digest) -> Result<bool, Error> {
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
    pub(crate) fn start_of_run(&self, n: usize) -> Result<i64, Error> {
        if n == 0 {
            return Ok(i64::MAX);
        }
        self.with_db("read runs from", |db| {
            db.query_row("SELECT coalesce(min(started_ns), 0) FROM (SELECT started_ns FROM runs ORDER BY id DESC LIMIT ?1)", [n as i64], |row| row.get(0))
        })
    }

    /// The records the last `n` runs used.
    pub(crate) fn keys_of_recent_runs(&self, n: usize) -> Result<HashSet<RecordId>, Error> {
        self.keys_of_runs(
            "SELECT r.keyset FROM run_keys r JOIN (SELECT id FROM runs ORDER BY id DESC LIMIT ?1) n ON r.run = n.id",
            [n as i64],
        )
    }

    /// The records the pinned runs used.
    pub(crate) fn keys_of_pinned_runs(&self) -> Result<HashSet<RecordId>, Error> {
        self.keys_of_runs(
            "SELECT r.keyset FROM run_keys r JOIN pins p ON r.run = p.run",
            [],
        )
    }

    /// The (profile, key) pairs the runs `query` selects used.
    fn keys_of_runs(
        &self,
        query: &str,
        params: impl rusqlite::Params,
    ) -> Result<HashSet<RecordId>, Error> {
        self.with_db("read the runs' keys from", |db| {
            let mut stmt = db.prepare(&format!(
                "SELECT k.profile, k.keys FROM keysets k WHERE k.hash IN ({query})"
            ))?;
            let rows = stmt.query_map(params, |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut keys = HashSet::new();
            for row in rows {
                let (profile, bytes) = row?;
                keys.extend(
                    bytes
                        .chunks_exact(32)
                        .map(|key| (profile.clone(), key.to_vec())),
                );
            }
            Ok(keys)
        })
    }

    /// Drops the key lists of runs that are neither among the last `keep_runs` nor pinned:
    /// they are not needed again.
    pub(crate) fn trim_run_keys(&self, keep_runs: usize) -> Result<(), Error> {
        self.with_db("trim the run key lists in", |db| {
            db.execute(
                "DELETE FROM run_keys WHERE run NOT IN (SELECT run FROM pins)
                 AND run NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?1)",
                [keep_runs as i64],
            )?;
            db.execute(
                "DELETE FROM keysets WHERE hash NOT IN (SELECT keyset FROM run_keys)",
                [],
            )
            .map(drop)
        })
    }

    /// Pins run `run`; `false` when there is no such run.
    pub(crate) fn pin_run(&self, run: i64) -> Result<bool, Error> {
        self.with_db("pin a run in", |db| {
            let exists = db
                .query_row("SELECT 1 FROM runs WHERE id = ?1", [run], |_| Ok(()))
                .optional()?
                .is_some();
            if exists {
                db.execute("INSERT OR IGNORE INTO pins (run) VALUES (?1)", [run])?;
            }
            Ok(exists)
        })
    }

    /// Unpins run `run`; `false` if it was not pinned.
    pub(crate) fn unpin_run(&self, run: i64) -> Result<bool, Error> {
        self.with_db("unpin a run in", |db| {
            db.execute("DELETE FROM pins WHERE run = ?1", [run])
                .map(|n| n > 0)
        })
    }

    /// The pinned runs, oldest first.
    pub(crate) fn pinned_runs(&self) -> Result<Vec<i64>, Error> {
        self.with_db("read the pinned runs from", |db| {
            let mut stmt = db.prepare("SELECT run FROM pins ORDER BY run")?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            rows.collect()
        })
    }
}
