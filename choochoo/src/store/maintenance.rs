//! The queries of store upkeep ([`Store::fsck`], [`Store::gc`], [`Store::pin`]): every record
//! to check, the records `gc` may remove and the compaction of the record log after, the keys
//! the recent and the pinned runs used, and the pins themselves. What to keep is decided in [`crate::fsck`].

use super::Store;
use super::log::entry::LogRecord;
use crate::error::Error;
use crate::hash::Digest;
use crate::memo::Record;
use rusqlite::OptionalExtension;
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
        self.log.refresh()?;
        let mut out = Vec::new();
        for (profile, key, record) in self.log.records() {
            out.push((
                profile,
                Digest::from_bytes(key),
                record.and_then(LogRecord::decode),
            ));
        }
        Ok(out)
    }

    /// The records that are no node's current one, oldest first.
    pub(crate) fn gc_candidates(&self) -> Result<Vec<Candidate>, Error> {
        self.log.refresh()?;
        let current: HashSet<(String, [u8; 32])> = self
            .log
            .heads(None)
            .into_iter()
            .map(|head| (head.profile, head.key))
            .collect();
        let mut candidates: Vec<Candidate> = self
            .log
            .records()
            .into_iter()
            .filter_map(|(_, _, record)| record.ok())
            .filter(|record| !current.contains(&(record.profile.clone(), record.key)))
            .map(|record| Candidate {
                key: record.key.to_vec(),
                size: record.size.max(0) as u64,
                is_blob: record.inline.is_none(),
                encoding_hash: record.encoding_hash,
                created: record.created_ns,
                station: record.station,
                profile: record.profile,
            })
            .collect();
        candidates.sort_by_key(|c| c.created);
        Ok(candidates)
    }

    /// The size of every stored output, added up.
    pub(crate) fn stored_bytes(&self) -> Result<u64, Error> {
        let records = self.log.records();
        let sizes = records
            .iter()
            .filter_map(|(_, _, record)| record.as_ref().ok());
        Ok(sizes.map(|record| record.size.max(0) as u64).sum())
    }

    /// The blobs the current records name.
    pub(crate) fn named_blobs(&self) -> HashSet<Vec<u8>> {
        let records = self.log.records();
        records
            .into_iter()
            .filter_map(|(_, _, record)| record.ok())
            .filter(|record| record.inline.is_none())
            .map(|record| record.encoding_hash)
            .collect()
    }

    /// Forgets `records` and rewrites the record log without them and without whatever else
    /// is no longer current.
    pub(crate) fn compact_records(
        &self,
        records: &HashSet<(String, [u8; 32])>,
    ) -> Result<(), Error> {
        self.log.compact(&*self.fs, records)
    }

    /// The corrupt entries met reading the record log.
    pub(crate) fn log_problems(&self) -> Vec<String> {
        self.log.problems()
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
