//! Memo records and heads: what a station produced for a key, and the last key each node
//! had, kept in the record log (`store/log/`). A record's encoded output is kept inline when
//! it is small and as a blob otherwise; its blob is durable before the append that commits
//! the record names it.

use super::Store;
use super::columns::digest_column;
use super::discovered::{decode_discovered, encode_discovered};
use super::log::entry::{Entry, LogHead, LogRecord, RecordView};
use super::log::kept::Kept;
use crate::discovered::Discovered;
use crate::error::Error;
use crate::hash::{ALGORITHM, Digest};
use crate::memo::{Head, Record};
use std::collections::HashSet;
use std::path::PathBuf;

/// Encoded outputs up to this size live in the record log; larger ones are blob files.
const INLINE_LIMIT: usize = 16 * 1024;

/// A record ready to commit, with its node's head: its blob, if any, is already durable.
#[derive(Debug)]
pub(crate) struct Prepared {
    entry: Entry,
}

impl Prepared {
    pub(crate) fn node(&self) -> &str {
        self.entry.head().map_or("", |head| head.node.as_str())
    }
}

impl AsRef<Entry> for Prepared {
    fn as_ref(&self) -> &Entry {
        &self.entry
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
    /// The record for `key`, unverified; `Ok(None)` when there is none. It first reads what
    /// other processes recorded since, when it is not known: for a lookup after waiting for
    /// another process's lease.
    pub(crate) fn record(
        &self,
        profile: &str,
        key: &Digest,
    ) -> Result<Option<Result<Record, String>>, Error> {
        self.read_record(profile, key, true)
    }

    /// The record for `key` as this process knows it, unverified: no look at the log for
    /// what other processes recorded since (the lookup after taking the lease does that).
    pub(crate) fn known_record(
        &self,
        profile: &str,
        key: &Digest,
    ) -> Result<Option<Result<Record, String>>, Error> {
        self.read_record(profile, key, false)
    }

    fn read_record(
        &self,
        profile: &str,
        key: &Digest,
        fresh: bool,
    ) -> Result<Option<Result<Record, String>>, Error> {
        if let Some(small) = self.log.small(profile, key.as_bytes()) {
            return Ok(Some(Ok(small.record(*key))));
        }
        if let Some(record) = self
            .log
            .kept(profile, key.as_bytes(), |kept| decode_kept(*key, kept))
        {
            return Ok(Some(record));
        }
        self.log.record(profile, key.as_bytes(), fresh, |record| {
            decode_view(*key, record)
        })
    }

    /// Stores an encoded output (inline or as a blob) and makes its record and the node's
    /// head ready to commit. The blob, if any, is durable before the record names it.
    pub(crate) fn prepare(&self, commit: &Commit<'_>) -> Result<Prepared, Error> {
        let encoded = commit.encoded;
        let encoding_hash = Digest::of(encoded);
        let inline = if encoded.len() <= INLINE_LIMIT {
            Some(encoded.to_vec())
        } else {
            self.write_blob(&encoding_hash, encoded)?;
            None
        };
        let key = *commit.head.key.as_bytes();
        let record = LogRecord {
            profile: commit.profile.to_owned(),
            key,
            station: commit.station.to_owned(),
            algorithm: ALGORITHM.to_owned(),
            output_hash: commit.output_hash.as_bytes().to_vec(),
            encoding_hash: encoding_hash.as_bytes().to_vec(),
            size: encoded.len() as i64,
            inline,
            files: encode_files(commit.files)
                .map_err(|error| Error::encoding("file list", error))?,
            used_dir: commit.used_dir,
            created_ns: crate::stat::now_ns(),
            duration_ns: commit.duration_ns,
            discovered: encode_discovered(commit.discovered)
                .map_err(|error| Error::encoding("discovered inputs", error))?,
        };
        let head = LogHead {
            profile: commit.profile.to_owned(),
            node: commit.node.to_owned(),
            key,
            head: postcard::to_stdvec(commit.head)
                .map_err(|error| Error::encoding("head", error))?,
        };
        Ok(Prepared {
            entry: Entry::Station(record, head),
        })
    }

    /// Commits prepared records and their nodes' heads: one append to the record log, and
    /// one sync.
    pub(crate) fn commit_all(&self, prepared: &[Prepared]) -> Result<(), Error> {
        self.log.append(&*self.fs, prepared)
    }

    /// The node's last head, if any and readable.
    pub(crate) fn head(&self, profile: &str, node: &str) -> Result<Option<Head>, Error> {
        let head = self.log.head(profile, node);
        Ok(head.and_then(|head| Head::decode(&head.head).ok()))
    }

    /// The heads of the items of map `map` (the nodes `map[…]`) in `profile`, by node name.
    pub(crate) fn item_heads(
        &self,
        profile: &str,
        map: &str,
    ) -> Result<Vec<(String, Head)>, Error> {
        let prefix = format!("{map}[");
        let mut heads: Vec<(String, Head)> = self
            .log
            .heads(Some(profile))
            .into_iter()
            .filter(|head| head.node.starts_with(&prefix))
            .filter_map(|head| Some((head.node, Head::decode(&head.head).ok()?)))
            .collect();
        heads.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(heads)
    }

    /// The nodes of `profile` that have a result in the store (a head).
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn nodes_with_results(&self, profile: &str) -> Result<HashSet<String>, Error> {
        let heads = self.log.heads(Some(profile));
        Ok(heads.into_iter().map(|head| head.node).collect())
    }

    /// Removes a record that turned out to be unusable.
    pub(crate) fn forget(&self, profile: &str, key: &Digest) -> Result<(), Error> {
        let entry = Entry::Forget {
            profile: profile.to_owned(),
            key: *key.as_bytes(),
        };
        self.log.append(&*self.fs, &[entry])
    }

    /// Forgets a node: its head and the record it points at.
    pub(crate) fn forget_node(&self, profile: &str, node: &str, key: &Digest) -> Result<(), Error> {
        let entry = Entry::ForgetNode {
            profile: profile.to_owned(),
            node: node.to_owned(),
            key: *key.as_bytes(),
        };
        self.log.append(&*self.fs, &[entry])
    }
}

impl LogRecord {
    /// The record, or what is wrong with it (a miss, not a failure).
    pub(crate) fn decode(self) -> Result<Record, String> {
        let row = RecordRow {
            algorithm: self.algorithm,
            output_hash: self.output_hash,
            encoding_hash: self.encoding_hash,
            size: self.size,
            inline: self.inline,
            files: self.files,
            used_dir: self.used_dir,
        };
        let mut record = row.decode(Digest::from_bytes(self.key))?;
        record.discovered = decode_discovered(self.discovered.as_deref())?;
        Ok(record)
    }
}

/// The record a log entry read in place holds, or what is wrong with it.
fn decode_view(key: Digest, view: &RecordView<'_>) -> Result<Record, String> {
    let mut record = decode_fields(
        key,
        Fields {
            algorithm: view.algorithm,
            output_hash: view.output_hash,
            encoding_hash: view.encoding_hash,
            size: view.size,
            files: view.files,
            used_dir: view.used_dir,
        },
        view.inline.map(<[u8]>::to_vec),
    )?;
    record.discovered = decode_discovered(view.discovered)?;
    Ok(record)
}

/// The record the index kept with its files, or what is wrong with it.
fn decode_kept(key: Digest, kept: &Kept) -> Result<Record, String> {
    let fields = Fields {
        algorithm: ALGORITHM,
        output_hash: kept.output_hash(),
        encoding_hash: kept.encoding_hash(),
        size: kept.inline().len() as i64,
        files: kept.files(),
        used_dir: kept.used_dir(),
    };
    decode_fields(key, fields, Some(kept.inline().to_vec()))
}

/// A record's fields but its output, borrowed.
struct Fields<'a> {
    algorithm: &'a str,
    output_hash: &'a [u8],
    encoding_hash: &'a [u8],
    size: i64,
    files: &'a [u8],
    used_dir: bool,
}

/// The record of these fields, or what is wrong with them; its discovered inputs are in a
/// field of their own, decoded by `decode_discovered`.
fn decode_fields(key: Digest, f: Fields<'_>, inline: Option<Vec<u8>>) -> Result<Record, String> {
    if f.algorithm != ALGORITHM {
        return Err(format!("hashed with {}, not {ALGORITHM}", f.algorithm));
    }
    let files = super::file_list::decode_files(f.files)
        .map_err(|error| format!("unreadable file list: {error}"))?;
    Ok(Record {
        key,
        output_hash: digest_column("an output hash", f.output_hash)?,
        encoding_hash: digest_column("an encoding hash", f.encoding_hash)?,
        size: u64::try_from(f.size).map_err(|_| format!("a negative size, {}", f.size))?,
        inline,
        files,
        used_dir: f.used_dir,
        discovered: Vec::new(),
    })
}

/// The `files` field: each path's raw bytes, so names that are not UTF-8 survive, and its hash.
pub(crate) fn encode_files(files: &[(PathBuf, Digest)]) -> Result<Vec<u8>, postcard::Error> {
    let files: Vec<(&[u8], Digest)> = files
        .iter()
        .map(|(path, digest)| (path.as_os_str().as_encoded_bytes(), *digest))
        .collect();
    postcard::to_stdvec(&files)
}

/// A record's fields as the log holds them, before they are checked.
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
    /// The record, or what is wrong with it; its discovered inputs are in a field of their
    /// own, decoded by `decode_discovered`.
    pub(crate) fn decode(self, key: Digest) -> Result<Record, String> {
        let RecordRow {
            algorithm,
            output_hash,
            encoding_hash,
            size,
            inline,
            files,
            used_dir,
        } = self;
        let fields = Fields {
            algorithm: &algorithm,
            output_hash: &output_hash,
            encoding_hash: &encoding_hash,
            size,
            files: &files,
            used_dir,
        };
        decode_fields(key, fields, inline)
    }
}

impl Head {
    /// Decodes a head as `Store::prepare` encoded it.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Head, postcard::Error> {
        crate::value::bounded::from_bytes(bytes)
    }
}
