//! Small records kept in the index: a record whose output is a few bytes inline and that
//! names no file, no directory and no discovered input (most records of a large graph of
//! small values) is all in its output hash and those bytes. The index keeps them when it
//! reads the record's frame, checked, so a lookup of such a record is a probe of the
//! index, not a read of the log and a second check of its frame.

use super::entry::RecordView;
use super::kept::Kept;
use crate::hash::{ALGORITHM, Digest};
use crate::memo::Record;

/// What the index keeps of a record besides where it is: a small one, or one with files.
#[derive(Debug)]
pub(crate) enum Whole {
    /// A small record (this file).
    Small(Small),
    /// A record with a file list (`kept.rs`).
    Kept(Kept),
}

impl Whole {
    /// What the index keeps of the record `view`, if anything.
    pub(crate) fn of(view: &RecordView<'_>) -> Option<Whole> {
        match Small::of(view) {
            Some(small) => Some(Whole::Small(small)),
            None => Kept::of(view).map(Whole::Kept),
        }
    }
}

/// Outputs up to this many bytes are kept in the index.
const LONGEST: usize = 15;

/// What the index keeps of a small record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Small {
    output_hash: [u8; 32],
    length: u8,
    bytes: [u8; LONGEST],
}

/// The postcard of an empty file list.
const NO_FILES: &[u8] = &[0];

impl Small {
    /// What the index keeps of the record `view`, when it is a small one.
    pub(crate) fn of(view: &RecordView<'_>) -> Option<Small> {
        let inline = view.inline?;
        let simple = view.algorithm == ALGORITHM
            && inline.len() <= LONGEST
            && view.size == inline.len() as i64
            && view.files == NO_FILES
            && !view.used_dir
            && view.discovered.is_none()
            && view.encoding_hash.len() == 32;
        // An output that is not the one its hash names is not kept: its lookup reads the
        // record and finds it corrupt.
        if !simple || Digest::of(inline).as_bytes()[..] != *view.encoding_hash {
            return None;
        }
        let mut small = Small {
            output_hash: view.output_hash.try_into().ok()?,
            length: inline.len() as u8,
            bytes: [0; LONGEST],
        };
        small.bytes[..inline.len()].copy_from_slice(inline);
        Some(small)
    }

    /// The record of `key` it stands for. Its encoding hash is that of its bytes: they were
    /// checked against the hash the record names when the index kept them.
    pub(crate) fn record(&self, key: Digest) -> Record {
        let inline = self.bytes[..usize::from(self.length)].to_vec();
        Record {
            key,
            output_hash: Digest::from_bytes(self.output_hash),
            encoding_hash: Digest::of(&inline),
            size: u64::from(self.length),
            inline: Some(inline),
            files: Vec::new(),
            used_dir: false,
            discovered: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::entry::LogRecord;

    fn record(inline: &[u8]) -> LogRecord {
        LogRecord {
            profile: "default".to_owned(),
            key: [1; 32],
            station: "s".to_owned(),
            algorithm: ALGORITHM.to_owned(),
            output_hash: vec![2; 32],
            encoding_hash: Digest::of(inline).as_bytes().to_vec(),
            size: inline.len() as i64,
            inline: Some(inline.to_vec()),
            files: NO_FILES.to_vec(),
            used_dir: false,
            created_ns: 0,
            duration_ns: 0,
            discovered: None,
        }
    }

    #[test]
    fn a_small_record_is_kept_whole_and_read_back_as_written() {
        let small = Small::of(&record(b"seven").view()).expect("small");
        let read = small.record(Digest::from_bytes([1; 32]));
        assert_eq!(read.output_hash, Digest::from_bytes([2; 32]));
        assert_eq!(read.encoding_hash, Digest::of(b"seven"));
        assert_eq!(
            (read.size, read.inline.as_deref()),
            (5, Some(&b"seven"[..]))
        );
    }

    #[test]
    fn a_record_with_more_than_an_output_or_a_damaged_one_is_not_kept() {
        let mut damaged = record(b"seven");
        damaged.inline = Some(b"sever".to_vec());
        let mut used_dir = record(b"seven");
        used_dir.used_dir = true;
        let mut files = record(b"seven");
        files.files = vec![1, 0];
        let long = record(&[0; LONGEST + 1]);
        for record in [damaged, used_dir, files, long] {
            assert_eq!(Small::of(&record.view()), None, "{record:?}");
        }
    }
}
