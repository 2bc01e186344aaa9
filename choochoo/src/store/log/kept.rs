//! Records kept whole in the index, file lists and all: a record whose output is inline and
//! that names no discovered input, in at most [`LONGEST`] bytes of output and file list (a
//! step that writes a file or two, the most common record of a build). Its lookup copies it
//! out of the index instead of reading its frame back from the log and checking it again;
//! its output is verified against its encoding hash on the lookup, as a record read from the
//! log is.

use super::entry::RecordView;
use crate::hash::ALGORITHM;

/// A record's output and file list up to this many bytes are kept in the index.
const LONGEST: usize = 512;

/// What the index keeps of a record with files.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Kept {
    output_hash: [u8; 32],
    encoding_hash: [u8; 32],
    used_dir: bool,
    /// How many of `bytes` are the output; the rest are the file list.
    inline: u16,
    bytes: Box<[u8]>,
}

impl Kept {
    /// What the index keeps of the record `view`, when it is one to keep.
    pub(crate) fn of(view: &RecordView<'_>) -> Option<Kept> {
        let inline = view.inline?;
        let keep = view.algorithm == ALGORITHM
            && view.size == inline.len() as i64
            && view.discovered.is_none()
            && inline.len() + view.files.len() <= LONGEST;
        if !keep {
            return None;
        }
        Some(Kept {
            output_hash: view.output_hash.try_into().ok()?,
            encoding_hash: view.encoding_hash.try_into().ok()?,
            used_dir: view.used_dir,
            inline: inline.len() as u16,
            bytes: [inline, view.files].concat().into_boxed_slice(),
        })
    }

    /// The hash of its output's content.
    pub(crate) fn output_hash(&self) -> &[u8; 32] {
        &self.output_hash
    }

    /// The hash of its encoded output, as it was recorded.
    pub(crate) fn encoding_hash(&self) -> &[u8; 32] {
        &self.encoding_hash
    }

    /// Whether its station left its directory behind.
    pub(crate) fn used_dir(&self) -> bool {
        self.used_dir
    }

    /// Its encoded output.
    pub(crate) fn inline(&self) -> &[u8] {
        &self.bytes[..usize::from(self.inline)]
    }

    /// Its file list, as the record holds it (postcard).
    pub(crate) fn files(&self) -> &[u8] {
        &self.bytes[usize::from(self.inline)..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::entry::LogRecord;

    fn record(inline: &[u8], files: &[u8]) -> LogRecord {
        LogRecord {
            profile: "default".to_owned(),
            key: [1; 32],
            station: "s".to_owned(),
            algorithm: ALGORITHM.to_owned(),
            output_hash: vec![2; 32],
            encoding_hash: vec![3; 32],
            size: inline.len() as i64,
            inline: Some(inline.to_vec()),
            files: files.to_vec(),
            used_dir: true,
            created_ns: 0,
            duration_ns: 0,
            discovered: None,
        }
    }

    #[test]
    fn a_record_with_files_is_kept_as_written() {
        let kept = Kept::of(&record(b"output", b"files").view()).expect("kept");
        assert_eq!(kept.inline(), b"output");
        assert_eq!(kept.files(), b"files");
        assert_eq!(
            (kept.output_hash(), kept.encoding_hash(), kept.used_dir()),
            (&[2; 32], &[3; 32], true)
        );
    }

    #[test]
    fn a_blob_a_long_record_or_one_with_discovered_inputs_is_not_kept() {
        let mut blob = record(b"", b"");
        blob.inline = None;
        let mut discovered = record(b"output", b"files");
        discovered.discovered = Some(vec![0]);
        let long = record(&[0; LONGEST], b"files");
        let mut short_hash = record(b"output", b"files");
        short_hash.output_hash = vec![2; 31];
        for record in [blob, discovered, long, short_hash] {
            assert_eq!(Kept::of(&record.view()), None, "{record:?}");
        }
    }
}
