//! The decoders of bytes read back from the store, callable on plain bytes: the fuzz targets
//! in `fuzz/` and the test replaying their corpus call these. Each must return an error
//! naming what is malformed, never panic, and allocate at most [`Decoder::allowed`] bytes.
//!
//! A row of several columns (a record, a stat cache entry) arrives as the postcard encoding
//! of its columns, so one byte string covers every column the decoder checks.

use crate::error::Error;
use crate::file::{Dir, File};
use crate::hash::Digest;
use crate::memo::Head;
use crate::store::discovered::decode_discovered;
use crate::store::ledger_rows::{FAILURES_COLUMN, attempts_from_json, input_hashes, json_column};
use crate::store::records::RecordRow;
use crate::store::stats::StatRow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

mod seeds;
use seeds::{
    discovered_seeds, head_seeds, observation_seeds, record_seeds, stat_seeds, value_seeds,
};

/// Bytes allocated at most whatever the input: error messages and fixed-size buffers.
pub const FIXED_BYTES: usize = 4096;

/// A decoder of stored bytes, with a fuzz target of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoder {
    /// A memo record's columns, as `Store::record` reads them.
    Record,
    /// A node's head, as `Store::head` reads it.
    Head,
    /// A stat cache row, as `Store::stats` reads it.
    Stat,
    /// A JSON column of a defect ledger observation, as the ledger reads it: the first byte
    /// picks the `inputs` column (0), the `failures` column (its index, 23: the failed
    /// attempts) or a list of lines (the others), the rest is its text.
    Observation,
    /// A station's output: the first byte picks one of the sample types, the rest is its
    /// encoding, as a run decodes it.
    Value,
    /// A record's `discovered` column: the inputs its station found while it ran.
    Discovered,
}

impl Decoder {
    /// Every decoder.
    pub const ALL: [Decoder; 6] = [
        Decoder::Record,
        Decoder::Head,
        Decoder::Stat,
        Decoder::Observation,
        Decoder::Value,
        Decoder::Discovered,
    ];

    /// The fuzz target's name, which is also its corpus directory's.
    pub fn name(self) -> &'static str {
        match self {
            Decoder::Record => "record",
            Decoder::Head => "head",
            Decoder::Stat => "stat",
            Decoder::Observation => "observation",
            Decoder::Value => "value",
            Decoder::Discovered => "discovered",
        }
    }

    /// Bytes one decode may allocate per input byte at its peak. A length prefix may
    /// preallocate one element per input byte (see `value::bounded`), so the factor is about
    /// the in-memory size of the largest element the decoder's types hold, times the slack
    /// of the collection holding it (a hash table's up to 2.3 buckets per entry).
    pub fn bytes_per_input_byte(self) -> usize {
        match self {
            // Two byte strings and the file list's 56-byte entries.
            Decoder::Record => 96,
            // 24-byte optional strings, one per input byte (a `None`), three times that
            // while the vector holding them grows (old and new buffer): 72.
            Decoder::Head => 80,
            // Two byte strings.
            Decoder::Stat => 8,
            // 48-byte `(String, String)` pairs from at least `["",""],`, 8 bytes, as the
            // vector holding them grows (three times its length while it moves), then the
            // 56-byte `(String, Digest)` pairs made from them.
            Decoder::Observation => 32,
            // `Vec<Dir>`: 72-byte elements, three times that while the vector holding them
            // grows (old and new buffer): 216; `HashMap<String, HashSet<u64>>`'s 72-byte
            // entries plus a control byte, 2.3 times, are less.
            Decoder::Value => 224,
            // 64-byte `(kind, name, Digest)` rows, one per input byte at most, then the
            // 64-byte inputs made from them, one per 34 bytes (a row's smallest encoding).
            Decoder::Discovered => 72,
        }
    }

    /// The most one decode of `len` bytes may allocate at its peak.
    pub fn allowed(self, len: usize) -> usize {
        self.bytes_per_input_byte() * len + FIXED_BYTES
    }

    /// Decodes `bytes`, dropping what was decoded; the error names what was malformed.
    pub fn decode(self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Decoder::Record => {
                let row: RecordRow = framed("record row", bytes)?;
                row.decode(Digest::of(bytes))
                    .map(drop)
                    .map_err(|error| format!("unreadable record: {error}"))
            }
            Decoder::Head => Head::decode(bytes)
                .map(drop)
                .map_err(|error| format!("unreadable head: {error}")),
            Decoder::Stat => {
                let row: StatRow = framed("stat row", bytes)?;
                row.decode()
                    .map(drop)
                    .map_err(|error| format!("unreadable stat cache entry: {error}"))
            }
            Decoder::Observation => {
                let (&column, text) = bytes
                    .split_first()
                    .ok_or("an empty input names no observation column")?;
                let text = std::str::from_utf8(text)
                    .map_err(|error| format!("an observation column that is not UTF-8: {error}"))?;
                let decoded = match usize::from(column) {
                    0 => input_hashes(text).map(drop),
                    FAILURES_COLUMN => attempts_from_json(text).map(drop),
                    column => json_column::<Vec<String>>(column, text).map(drop),
                };
                decoded.map_err(|error| format!("unreadable observation: {error}"))
            }
            Decoder::Value => {
                let (&sample, encoding) = bytes
                    .split_first()
                    .ok_or("an empty input names no sample type")?;
                Sample::decode(sample, encoding)
            }
            Decoder::Discovered => decode_discovered(Some(bytes)).map(drop),
        }
    }

    /// Real encodings made by the crate, to seed the corpus.
    pub fn seeds(self) -> Vec<Vec<u8>> {
        match self {
            Decoder::Record => record_seeds(),
            Decoder::Head => head_seeds(),
            Decoder::Stat => stat_seeds(),
            Decoder::Observation => observation_seeds(),
            Decoder::Value => value_seeds(),
            Decoder::Discovered => discovered_seeds(),
        }
    }
}

/// The columns of a row, from the fuzzer's bytes.
fn framed<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, String> {
    crate::value::bounded::from_bytes(bytes).map_err(|error| format!("unreadable {what}: {error}"))
}

/// The user types the value target decodes, picked by the input's first byte.
#[derive(Clone, Copy, Debug)]
enum Sample {
    Text,
    File,
    Texts,
    Release,
    Tree,
    Files,
    Sets,
    Dirs,
}

impl Sample {
    const ALL: [Sample; 8] = [
        Sample::Text,
        Sample::File,
        Sample::Texts,
        Sample::Release,
        Sample::Tree,
        Sample::Files,
        Sample::Sets,
        Sample::Dirs,
    ];

    fn decode(sample: u8, encoding: &[u8]) -> Result<(), String> {
        let sample = Sample::ALL
            .get(usize::from(sample))
            .ok_or_else(|| format!("no sample type numbered {sample}"))?;
        match sample {
            Sample::Text => value::<String>(encoding),
            Sample::File => value::<File>(encoding),
            Sample::Texts => value::<Vec<String>>(encoding),
            Sample::Release => value::<Release>(encoding),
            Sample::Tree => value::<Tree>(encoding),
            Sample::Files => value::<Vec<(File, Digest)>>(encoding),
            Sample::Sets => value::<HashMap<String, HashSet<u64>>>(encoding),
            Sample::Dirs => value::<Vec<Dir>>(encoding),
        }
    }
}

fn value<T: crate::value::Value>(encoding: &[u8]) -> Result<(), String> {
    crate::value::decode::<T>(encoding)
        .map(drop)
        .map_err(|error| Error::encoding(std::any::type_name::<T>(), error).to_string())
}

#[derive(Serialize, Deserialize)]
struct Release {
    name: String,
    version: (u32, u32, u32),
    artifacts: Vec<File>,
    notes: Option<String>,
    meta: BTreeMap<String, Meta>,
    by_host: HashMap<String, Vec<u64>>,
}

#[derive(Serialize, Deserialize)]
enum Meta {
    Flag,
    Count(i64),
    Ratio(f64),
    Tags(Vec<String>),
    Span { from: u64, to: u64 },
    Dir(Dir),
}

/// A recursive type: its depth is bounded only by the input.
#[derive(Serialize, Deserialize)]
enum Tree {
    Leaf(String),
    Node(Vec<Tree>),
}

#[cfg(test)]
mod tests {
    use super::seeds::encode;
    use super::*;

    #[test]
    fn every_seed_decodes() {
        for decoder in Decoder::ALL {
            for seed in decoder.seeds() {
                assert_eq!(decoder.decode(&seed), Ok(()), "{}", decoder.name());
            }
        }
    }

    #[test]
    fn errors_name_what_is_malformed() {
        let mut row = record_seeds().remove(0);
        row.truncate(row.len() - 3);
        let error = Decoder::Record.decode(&row).unwrap_err();
        assert!(error.starts_with("unreadable record row"), "{error}");
        let error = Decoder::Value
            .decode(&[Sample::Texts as u8, 5])
            .unwrap_err();
        assert!(
            error.contains("alloc::vec::Vec<alloc::string::String>"),
            "{error}"
        );
        let failures = [&[FAILURES_COLUMN as u8][..], br#"[{"attempt":1}]"#].concat();
        let error = Decoder::Observation.decode(&failures).unwrap_err();
        assert!(error.contains("missing field `message`"), "{error}");
        let short = StatRow {
            digest: vec![0; 5],
            ..stat_row()
        };
        let error = Decoder::Stat.decode(&encode(&short)).unwrap_err();
        assert!(
            error.contains("a file digest of 5 bytes, not 32"),
            "{error}"
        );
    }

    fn stat_row() -> StatRow {
        crate::value::bounded::from_bytes(&stat_seeds()[0]).unwrap()
    }
}
