//! Memo records and heads: what a station produced for a key, and the last key each node
//! had. A record's encoded output is kept inline when it is small and as a blob otherwise;
//! its blob is durable before the transaction that commits the record names it.

use super::Store;
use super::columns::{digest_column, path_from_bytes};
use super::discovered::{decode_discovered, encode_discovered};
use crate::discovered::Discovered;
use crate::error::Error;
use crate::fs::Op;
use crate::hash::{ALGORITHM, Digest};
use crate::memo::{Head, Record};
use rusqlite::{OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Encoded outputs up to this size live in `store.db`; larger ones are blob files.
const INLINE_LIMIT: usize = 16 * 1024;

/// A record ready to commit: its blob, if any, is already durable.
#[derive(Debug)]
pub(crate) struct Prepared {
    profile: String,
    key: Digest,
    station: String,
    node: String,
    output_hash: Digest,
    encoding_hash: Digest,
    size: i64,
    inline: Option<Vec<u8>>,
    files: Vec<u8>,
    head: Vec<u8>,
    used_dir: bool,
    discovered: Option<Vec<u8>>,
    duration_ns: i64,
}

impl Prepared {
    pub(crate) fn node(&self) -> &str {
        &self.node
    }
}

/// Everything one finished station leaves in the store.
pub(crate) struct Commit<'a> {
    pub profile: &'a str,
    pub station: &'a str,
    pub node: &'a str,
    pub head: &'a Head,
    pub output_hash: &'a Digest,
    pub encoded: &'a [u8],
    pub files: &'a [(PathBuf, Digest)],
    pub discovered: &'a [Discovered],
    pub used_dir: bool,
    pub duration_ns: i64,
}

impl Store {
    /// Every record of a profile, by key, read in one query: for large graphs, where one
    /// lookup per station would cost more than reading them all.
    pub(crate) fn records_of(
        &self,
        profile: &str,
    ) -> Result<HashMap<Digest, Result<Record, String>>, Error> {
        self.with_db("read the records from", |db| {
            let mut stmt = db.prepare(
                "SELECT algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir, discovered, key FROM records WHERE profile = ?1",
            )?;
            let rows = stmt.query_map([profile], |row| {
                let key: Vec<u8> = row.get(8)?;
                let key = <[u8; 32]>::try_from(key.as_slice()).map(Digest::from_bytes).unwrap_or(Digest::from_bytes([0; 32]));
                Ok((key, decode_record(key, row)?))
            })?;
            rows.collect()
        })
    }

    /// The record for `key`, unverified; `Ok(None)` when there is none.
    pub(crate) fn record(
        &self,
        profile: &str,
        key: &Digest,
    ) -> Result<Option<Result<Record, String>>, Error> {
        self.with_db("read a record from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir, discovered FROM records WHERE profile = ?1 AND key = ?2",
            )?;
            stmt.query_row(params![profile, key.as_bytes()], |row| {
                decode_record(*key, row)
            })
            .optional()
        })
    }

    /// Stores an encoded output (inline or as a blob) and commits its record and the node's
    /// head in one transaction. The blob, if any, is durable before the record names it.
    pub(crate) fn prepare(&self, commit: &Commit<'_>) -> Result<Prepared, Error> {
        let encoded = commit.encoded;
        let encoding_hash = Digest::of(encoded);
        let inline = if encoded.len() <= INLINE_LIMIT {
            Some(encoded.to_vec())
        } else {
            self.write_blob(&encoding_hash, encoded)?;
            None
        };
        Ok(Prepared {
            profile: commit.profile.to_owned(),
            key: commit.head.key,
            station: commit.station.to_owned(),
            node: commit.node.to_owned(),
            output_hash: *commit.output_hash,
            encoding_hash,
            size: encoded.len() as i64,
            inline,
            files: encode_files(commit.files)
                .map_err(|error| Error::encoding("file list", error))?,
            head: postcard::to_stdvec(commit.head)
                .map_err(|error| Error::encoding("head", error))?,
            used_dir: commit.used_dir,
            discovered: encode_discovered(commit.discovered)
                .map_err(|error| Error::encoding("discovered inputs", error))?,
            duration_ns: commit.duration_ns,
        })
    }

    /// Commits prepared records and their nodes' heads, all in one transaction.
    pub(crate) fn commit_all(&self, prepared: &[Prepared]) -> Result<(), Error> {
        if prepared.is_empty() {
            return Ok(());
        }
        let db_path = self.db_path();
        self.with_db("commit records to", |db| {
            let tx = db.transaction()?;
            {
                let mut record = tx.prepare_cached(
                    "INSERT OR REPLACE INTO records (profile, key, station, algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir, created_ns, duration_ns, discovered)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )?;
                let mut head = tx.prepare_cached("INSERT OR REPLACE INTO heads (profile, node, key, head) VALUES (?1, ?2, ?3, ?4)")?;
                let now = crate::stat::now_ns();
                for p in prepared {
                    record.execute(params![
                        p.profile,
                        p.key.as_bytes(),
                        p.station,
                        ALGORITHM,
                        p.output_hash.as_bytes(),
                        p.encoding_hash.as_bytes(),
                        p.size,
                        p.inline,
                        p.files,
                        p.used_dir,
                        now,
                        p.duration_ns,
                        p.discovered
                    ])?;
                    head.execute(params![p.profile, p.node, p.key.as_bytes(), p.head])?;
                }
            }
            // The commit is a publish step too; an injected failure drops (rolls back) it.
            let mut tx = Some(tx);
            let mut committed = Ok(());
            let step = self.fs.run(Op::Commit, &db_path, &mut || {
                if let Some(tx) = tx.take() {
                    committed = tx.commit();
                }
                Ok(())
            });
            committed.map(|()| step)
        })?
        .map_err(|error| Error::io("commit records to", &db_path, error))
    }

    /// The node's last head, if any and readable.
    pub(crate) fn head(&self, profile: &str, node: &str) -> Result<Option<Head>, Error> {
        let bytes: Option<Vec<u8>> = self.with_db("read a head from", |db| {
            db.prepare_cached("SELECT head FROM heads WHERE profile = ?1 AND node = ?2")?
                .query_row(params![profile, node], |row| row.get(0))
                .optional()
        })?;
        Ok(bytes.and_then(|bytes| Head::decode(&bytes).ok()))
    }

    /// Every node's last head in a profile, read in one query (for large graphs).
    pub(crate) fn heads_of(&self, profile: &str) -> Result<HashMap<String, Head>, Error> {
        self.with_db("read the heads from", |db| {
            let mut stmt = db.prepare("SELECT node, head FROM heads WHERE profile = ?1")?;
            let rows = stmt.query_map([profile], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut heads = HashMap::new();
            for row in rows {
                let (node, bytes) = row?;
                if let Ok(head) = Head::decode(&bytes) {
                    heads.insert(node, head);
                }
            }
            Ok(heads)
        })
    }

    /// The heads of the items of map `map` (the nodes `map[…]`) in `profile`, by node name.
    pub(crate) fn item_heads(
        &self,
        profile: &str,
        map: &str,
    ) -> Result<Vec<(String, Head)>, Error> {
        // `map[` up to `map\`: `\` is the character after `[`, so the range is the prefix.
        let (from, to) = (format!("{map}["), format!("{map}\\"));
        self.with_db("read the heads from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT node, head FROM heads WHERE profile = ?1 AND node >= ?2 AND node < ?3 ORDER BY node",
            )?;
            let rows = stmt.query_map(params![profile, from, to], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut heads = Vec::new();
            for row in rows {
                let (node, bytes) = row?;
                if let Ok(head) = Head::decode(&bytes) {
                    heads.push((node, head));
                }
            }
            Ok(heads)
        })
    }

    /// The nodes of `profile` that have a result in the store (a head).
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn nodes_with_results(&self, profile: &str) -> Result<HashSet<String>, Error> {
        self.with_db("read the results from", |db| {
            let mut stmt = db.prepare("SELECT node FROM heads WHERE profile = ?1")?;
            let rows = stmt.query_map([profile], |row| row.get(0))?;
            rows.collect()
        })
    }

    /// Removes a record that turned out to be unusable.
    pub(crate) fn forget(&self, profile: &str, key: &Digest) -> Result<(), Error> {
        self.with_db("remove a record from", |db| {
            db.execute(
                "DELETE FROM records WHERE profile = ?1 AND key = ?2",
                params![profile, key.as_bytes()],
            )
            .map(drop)
        })
    }

    /// Forgets a node: its head and the record it points at.
    pub(crate) fn forget_node(&self, profile: &str, node: &str, key: &Digest) -> Result<(), Error> {
        self.with_db("remove a node from", |db| {
            let tx = db.transaction()?;
            tx.execute(
                "DELETE FROM records WHERE profile = ?1 AND key = ?2",
                params![profile, key.as_bytes()],
            )?;
            tx.execute(
                "DELETE FROM heads WHERE profile = ?1 AND node = ?2",
                params![profile, node],
            )?;
            tx.commit()
        })
    }
}

/// The `files` column: each path's raw bytes, so names that are not UTF-8 survive, and its hash.
pub(crate) fn encode_files(files: &[(PathBuf, Digest)]) -> Result<Vec<u8>, postcard::Error> {
    let files: Vec<(&[u8], Digest)> = files
        .iter()
        .map(|(path, digest)| (path.as_os_str().as_encoded_bytes(), *digest))
        .collect();
    postcard::to_stdvec(&files)
}

/// A record from its row, whose eighth column is `discovered`; `Err` inside when the row is
/// unreadable (a miss, not a failure).
fn decode_record(key: Digest, row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Record, String>> {
    let record = RecordRow::read(row)?.decode(key);
    let discovered: Option<Vec<u8>> = row.get(7)?;
    Ok(record.and_then(|mut record| {
        record.discovered = decode_discovered(discovered.as_deref())?;
        Ok(record)
    }))
}

/// A record's columns as SQLite returns them, before they are checked.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct RecordRow {
    pub algorithm: String,
    pub output_hash: Vec<u8>,
    pub encoding_hash: Vec<u8>,
    pub size: i64,
    pub inline: Option<Vec<u8>>,
    /// postcard: `Vec<(path bytes, Digest)>`.
    pub files: Vec<u8>,
    pub used_dir: bool,
}

impl RecordRow {
    /// Reads `algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir`.
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
        Ok(RecordRow {
            algorithm: row.get(0)?,
            output_hash: row.get(1)?,
            encoding_hash: row.get(2)?,
            size: row.get(3)?,
            inline: row.get(4)?,
            files: row.get(5)?,
            used_dir: row.get(6)?,
        })
    }

    /// The record, or what is wrong with the row; its discovered inputs are in a column of
    /// their own, decoded by `decode_discovered`.
    pub(crate) fn decode(self, key: Digest) -> Result<Record, String> {
        if self.algorithm != ALGORITHM {
            return Err(format!("hashed with {}, not {ALGORITHM}", self.algorithm));
        }
        let files: Vec<(Vec<u8>, Digest)> = crate::value::bounded::from_bytes(&self.files)
            .map_err(|error| format!("unreadable file list: {error}"))?;
        Ok(Record {
            key,
            output_hash: digest_column("an output hash", &self.output_hash)?,
            encoding_hash: digest_column("an encoding hash", &self.encoding_hash)?,
            size: u64::try_from(self.size)
                .map_err(|_| format!("a negative size, {}", self.size))?,
            inline: self.inline,
            files: files
                .into_iter()
                .map(|(path, digest)| (path_from_bytes(path), digest))
                .collect(),
            used_dir: self.used_dir,
            discovered: Vec::new(),
        })
    }
}

impl Head {
    /// Decodes a head as `Store::prepare` encoded it.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Head, postcard::Error> {
        crate::value::bounded::from_bytes(bytes)
    }
}
