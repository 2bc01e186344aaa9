//! One entry of the record log: what one step did to the records and heads, postcard in a
//! frame (`frame.rs`), and the same read in place.

use super::small::Whole;
use serde::{Deserialize, Serialize};

/// A memo record as the log holds it: what a station produced for a key. Its fields are kept
/// as they were written, and checked when it is read (see `RecordRow::decode`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(feature = "test-util"), allow(unreachable_pub))]
pub struct LogRecord {
    /// The profile it belongs to.
    pub profile: String,
    /// Its key: the hash of its station and inputs.
    pub key: [u8; 32],
    /// The station that produced it.
    pub station: String,
    /// The hash algorithm of its hashes.
    pub algorithm: String,
    /// The content hash of its output.
    pub output_hash: Vec<u8>,
    /// The hash of its encoded output: its blob's name.
    pub encoding_hash: Vec<u8>,
    /// The length of its encoded output.
    pub size: i64,
    /// The encoded output when small; `None` when it is a blob.
    pub inline: Option<Vec<u8>>,
    /// postcard of `Vec<(path bytes, Digest)>`: the files its output names.
    pub files: Vec<u8>,
    /// Whether its station left its directory behind.
    pub used_dir: bool,
    /// When it was recorded, in nanoseconds since the epoch.
    pub created_ns: i64,
    /// How long its station ran.
    pub duration_ns: i64,
    /// The inputs its station discovered (see `store/discovered.rs`).
    pub discovered: Option<Vec<u8>>,
}

/// A node's last head: the key it had, and what that key was made of (postcard of `Head`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(feature = "test-util"), allow(unreachable_pub))]
pub struct LogHead {
    /// The profile it belongs to.
    pub profile: String,
    /// The node's name.
    pub node: String,
    /// The key of the node's current record.
    pub key: [u8; 32],
    /// postcard of the head.
    pub head: Vec<u8>,
}

/// One entry: what one step did to the records and heads. A later entry for the same record
/// or head replaces an earlier one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Entry {
    /// A station finished: its record, and its node's head naming it.
    Station(LogRecord, LogHead),
    /// A record alone (a migrated record no head names, or one rewritten).
    Record(LogRecord),
    /// A head alone (a migrated head).
    Head(LogHead),
    /// A record is gone.
    Forget { profile: String, key: [u8; 32] },
    /// A node is gone: its head, and the record it named.
    ForgetNode {
        profile: String,
        node: String,
        key: [u8; 32],
    },
}

impl Entry {
    /// The record this entry holds, if any.
    pub(crate) fn record(&self) -> Option<&LogRecord> {
        match self {
            Entry::Station(record, _) | Entry::Record(record) => Some(record),
            _ => None,
        }
    }

    /// The head this entry holds, if any.
    pub(crate) fn head(&self) -> Option<&LogHead> {
        match self {
            Entry::Station(_, head) | Entry::Head(head) => Some(head),
            _ => None,
        }
    }

    /// The record alone, moved out.
    pub(crate) fn into_record(self) -> Option<LogRecord> {
        match self {
            Entry::Station(record, _) | Entry::Record(record) => Some(record),
            _ => None,
        }
    }
}

impl AsRef<Entry> for Entry {
    fn as_ref(&self) -> &Entry {
        self
    }
}

/// The entry a good frame's body holds; `Err` when it is not one this version reads.
pub(crate) fn decode(body: &[u8]) -> Result<Entry, postcard::Error> {
    view(body).map(View::into_entry)
}

/// The entry a good frame's body holds, read in place (nothing is allocated; `view.rs`).
pub(crate) fn view(body: &[u8]) -> Result<View<'_>, postcard::Error> {
    super::view::read(body)
}

/// An [`Entry`] read in place, its strings and bytes borrowed from the frame (postcard
/// encodes a `&[u8]` as it does a `Vec<u8>`); the variants are the same, in the same order.
/// Its derived reader is the reference `view.rs` is held to.
#[derive(Debug, Deserialize)]
pub(crate) enum View<'a> {
    Station(
        #[serde(borrow)] RecordView<'a>,
        #[serde(borrow)] HeadView<'a>,
    ),
    Record(#[serde(borrow)] RecordView<'a>),
    Head(#[serde(borrow)] HeadView<'a>),
    Forget {
        profile: &'a str,
        key: [u8; 32],
    },
    ForgetNode {
        profile: &'a str,
        node: &'a str,
        key: [u8; 32],
    },
}

/// A [`LogRecord`] read in place.
#[derive(Debug, Deserialize)]
pub(crate) struct RecordView<'a> {
    pub(crate) profile: &'a str,
    pub(crate) key: [u8; 32],
    pub(crate) station: &'a str,
    pub(crate) algorithm: &'a str,
    pub(crate) output_hash: &'a [u8],
    pub(crate) encoding_hash: &'a [u8],
    pub(crate) size: i64,
    pub(crate) inline: Option<&'a [u8]>,
    pub(crate) files: &'a [u8],
    pub(crate) used_dir: bool,
    pub(crate) created_ns: i64,
    pub(crate) duration_ns: i64,
    pub(crate) discovered: Option<&'a [u8]>,
}

/// A [`LogHead`] read in place.
#[derive(Debug, Deserialize)]
pub(crate) struct HeadView<'a> {
    pub(crate) profile: &'a str,
    pub(crate) node: &'a str,
    pub(crate) key: [u8; 32],
    pub(crate) head: &'a [u8],
}

/// What an entry changes in the index: the record and the head it sets, the ones it removes.
#[derive(Debug, Default)]
pub(crate) struct Change<'a> {
    /// A record set: its profile and key, and what the index keeps of it whole.
    pub(crate) record: Option<(&'a str, [u8; 32], Option<Whole>)>,
    /// A head set: its profile and node.
    pub(crate) head: Option<(&'a str, &'a str)>,
    /// A record removed, and its node's head with it when a node is named.
    pub(crate) forget: Option<(&'a str, [u8; 32], Option<&'a str>)>,
}

impl<'a> View<'a> {
    /// What this entry changes in the index.
    pub(crate) fn change(&self) -> Change<'a> {
        let record = |r: &RecordView<'a>| -> Option<(&'a str, [u8; 32], Option<Whole>)> {
            Some((r.profile, r.key, Whole::of(r)))
        };
        let head = |h: &HeadView<'a>| -> Option<(&'a str, &'a str)> { Some((h.profile, h.node)) };
        match self {
            View::Station(r, h) => Change {
                record: record(r),
                head: head(h),
                forget: None,
            },
            View::Record(r) => Change {
                record: record(r),
                ..Change::default()
            },
            View::Head(h) => Change {
                head: head(h),
                ..Change::default()
            },
            View::Forget { profile, key } => Change {
                forget: Some((*profile, *key, None)),
                ..Change::default()
            },
            View::ForgetNode { profile, node, key } => Change {
                forget: Some((*profile, *key, Some(*node))),
                ..Change::default()
            },
        }
    }

    /// The entry, its strings and bytes copied.
    pub(crate) fn into_entry(self) -> Entry {
        match self {
            View::Station(r, h) => Entry::Station(r.to_record(), h.to_head()),
            View::Record(r) => Entry::Record(r.to_record()),
            View::Head(h) => Entry::Head(h.to_head()),
            View::Forget { profile, key } => Entry::Forget {
                profile: profile.to_owned(),
                key,
            },
            View::ForgetNode { profile, node, key } => Entry::ForgetNode {
                profile: profile.to_owned(),
                node: node.to_owned(),
                key,
            },
        }
    }
}

impl RecordView<'_> {
    fn to_record(&self) -> LogRecord {
        LogRecord {
            profile: self.profile.to_owned(),
            key: self.key,
            station: self.station.to_owned(),
            algorithm: self.algorithm.to_owned(),
            output_hash: self.output_hash.to_vec(),
            encoding_hash: self.encoding_hash.to_vec(),
            size: self.size,
            inline: self.inline.map(<[u8]>::to_vec),
            files: self.files.to_vec(),
            used_dir: self.used_dir,
            created_ns: self.created_ns,
            duration_ns: self.duration_ns,
            discovered: self.discovered.map(<[u8]>::to_vec),
        }
    }
}

impl LogRecord {
    /// The record as a view of its fields.
    pub(crate) fn view(&self) -> RecordView<'_> {
        RecordView {
            profile: &self.profile,
            key: self.key,
            station: &self.station,
            algorithm: &self.algorithm,
            output_hash: &self.output_hash,
            encoding_hash: &self.encoding_hash,
            size: self.size,
            inline: self.inline.as_deref(),
            files: &self.files,
            used_dir: self.used_dir,
            created_ns: self.created_ns,
            duration_ns: self.duration_ns,
            discovered: self.discovered.as_deref(),
        }
    }
}

impl HeadView<'_> {
    fn to_head(&self) -> LogHead {
        LogHead {
            profile: self.profile.to_owned(),
            node: self.node.to_owned(),
            key: self.key,
            head: self.head.to_vec(),
        }
    }
}

impl Entry {
    /// What this entry changes in the index.
    pub(crate) fn change(&self) -> Change<'_> {
        let record = self
            .record()
            .map(|r| (r.profile.as_str(), r.key, Whole::of(&r.view())));
        let head = self.head().map(|h| (h.profile.as_str(), h.node.as_str()));
        let forget = match self {
            Entry::Forget { profile, key } => Some((profile.as_str(), *key, None)),
            Entry::ForgetNode { profile, node, key } => {
                Some((profile.as_str(), *key, Some(node.as_str())))
            }
            _ => None,
        };
        Change {
            record,
            head,
            forget,
        }
    }
}
