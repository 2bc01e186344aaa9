//! The index of a record log, built by reading it once from the start: where the current
//! entry of each record and of each node's head is. It keeps offsets, not entries: a lookup
//! reads its entry from the file, so a large store costs a few dozen bytes per record in
//! memory, and a record nothing asks for is never decoded.
//!
//! Heads are found by a 64-bit hash of their node's name; the entry read back names its
//! node, and one of another name (two names of one hash) is no head for the asker.

use super::entry::Change;
use super::kept::Kept;
use super::small::{Small, Whole};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A profile's number in the index: profiles are few, and each record names one.
pub(crate) type ProfileId = u32;

/// Where the current entries are, and how far the log was read.
#[derive(Debug, Default)]
pub(crate) struct Index {
    profiles: Vec<String>,
    records: HashMap<(ProfileId, [u8; 32]), Place, Quick>,
    /// The small records (`small.rs`), by the number a record's place names.
    smalls: Vec<Small>,
    /// The records kept with their files (`kept.rs`), by the number a record's place names
    /// less [`KEPT`].
    kept: Vec<Kept>,
    heads: HashMap<(ProfileId, u64), Slot, Quick>,
    /// The log is indexed up to here: the end of its last good entry.
    pub(crate) end: u64,
}

impl Index {
    /// Applies the change of the entry in `slot`.
    pub(crate) fn apply(&mut self, slot: Slot, change: Change<'_>) {
        if let Some((profile, key, whole)) = change.record {
            let profile = self.intern(profile);
            let whole = match whole {
                Some(Whole::Small(small)) if self.smalls.len() < KEPT as usize => {
                    self.smalls.push(small);
                    (self.smalls.len() - 1) as u32
                }
                Some(Whole::Kept(kept)) if self.kept.len() < (NOT_SMALL - KEPT) as usize => {
                    self.kept.push(kept);
                    KEPT + (self.kept.len() - 1) as u32
                }
                _ => NOT_SMALL,
            };
            self.records.insert((profile, key), Place::new(slot, whole));
        }
        if let Some((profile, node)) = change.head {
            let profile = self.intern(profile);
            self.heads.insert((profile, node_hash(node)), slot);
        }
        if let Some((profile, key, node)) = change.forget
            && let Some(profile) = self.profile(profile)
        {
            self.records.remove(&(profile, key));
            if let Some(node) = node {
                self.heads.remove(&(profile, node_hash(node)));
            }
        }
    }

    /// Where the record of `key` in `profile` is.
    pub(crate) fn record(&self, profile: &str, key: &[u8; 32]) -> Option<Slot> {
        let profile = self.profile(profile)?;
        self.records.get(&(profile, *key)).map(|place| place.slot())
    }

    /// The record of `key` in `profile`, when it is a small one the index keeps.
    pub(crate) fn small(&self, profile: &str, key: &[u8; 32]) -> Option<Small> {
        let profile = self.profile(profile)?;
        let place = self.records.get(&(profile, *key))?;
        self.smalls.get(place.small as usize).copied()
    }

    /// The record of `key` in `profile`, when it is one the index keeps with its files.
    pub(crate) fn kept(&self, profile: &str, key: &[u8; 32]) -> Option<&Kept> {
        let profile = self.profile(profile)?;
        let place = self.records.get(&(profile, *key))?;
        self.kept.get(place.small.checked_sub(KEPT)? as usize)
    }

    /// No longer keeps the record of `key` in `profile` whole: its frame was found damaged,
    /// and its lookups read it.
    pub(crate) fn distrust(&mut self, profile: &str, key: &[u8; 32]) {
        if let Some(profile) = self.profile(profile)
            && let Some(place) = self.records.get_mut(&(profile, *key))
        {
            place.small = NOT_SMALL;
        }
    }

    /// Where the head of `node` in `profile` is (or that of a node whose name has its hash).
    pub(crate) fn head(&self, profile: &str, node: &str) -> Option<Slot> {
        let profile = self.profile(profile)?;
        self.heads.get(&(profile, node_hash(node))).copied()
    }

    /// Where every current record is, with its profile and key.
    pub(crate) fn records(&self) -> impl Iterator<Item = (&str, [u8; 32], Slot)> {
        self.records.iter().map(|((profile, key), place)| {
            (
                self.profiles[*profile as usize].as_str(),
                *key,
                place.slot(),
            )
        })
    }

    /// Where every current head of `profile` is (all profiles' with `None`).
    pub(crate) fn heads<'a>(&'a self, profile: Option<&str>) -> impl Iterator<Item = Slot> + 'a {
        let wanted = profile.map(|profile| self.profile(profile));
        self.heads
            .iter()
            .filter(move |((id, _), _)| wanted.is_none_or(|wanted| wanted == Some(*id)))
            .map(|(_, offset)| *offset)
    }

    fn profile(&self, name: &str) -> Option<ProfileId> {
        let at = self.profiles.iter().position(|known| known == name)?;
        Some(at as ProfileId)
    }

    fn intern(&mut self, name: &str) -> ProfileId {
        match self.profile(name) {
            Some(id) => id,
            None => {
                self.profiles.push(name.to_owned());
                (self.profiles.len() - 1) as ProfileId
            }
        }
    }
}

/// Where a current record is: its frame, and its number among the small records. Its slot
/// is kept as two halves, so that a place and its key take 48 bytes of the table, not 56.
#[derive(Clone, Copy, Debug)]
struct Place {
    slot: [u32; 2],
    small: u32,
}

impl Place {
    fn new(slot: Slot, small: u32) -> Place {
        let slot = [slot.0 as u32, (slot.0 >> 32) as u32];
        Place { slot, small }
    }

    fn slot(self) -> Slot {
        Slot(u64::from(self.slot[1]) << 32 | u64::from(self.slot[0]))
    }
}

/// The number of a record kept neither as a small one nor with its files.
const NOT_SMALL: u32 = u32::MAX;

/// The numbers of records kept with their files start here; below are the small ones.
const KEPT: u32 = 1 << 31;

/// Where an entry's frame is: its offset in the log (the high 40 bits) and its length (the
/// low 24; all ones when it is longer), so that a lookup reads it in one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Slot(u64);

/// The length a slot holds for a frame too long to say.
const LONG: u64 = (1 << 24) - 1;

impl Slot {
    pub(crate) fn new(offset: u64, length: usize) -> Slot {
        Slot(offset << 24 | (length as u64).min(LONG))
    }

    pub(crate) fn offset(self) -> u64 {
        self.0 >> 24
    }

    /// The frame's length, unless it is too long to say.
    pub(crate) fn length(self) -> Option<usize> {
        let length = self.0 & LONG;
        (length != LONG).then_some(length as usize)
    }
}

/// A node name's 64-bit hash (XXH3: it is only ever in memory).
fn node_hash(node: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(node.as_bytes())
}

/// A hasher for keys that are hashes already: it mixes their words, no more.
type Quick = BuildHasherDefault<Mix>;

#[derive(Default)]
pub(crate) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::entry::{Entry, LogHead, LogRecord};

    #[test]
    fn a_place_keeps_its_slot_whole_in_twelve_bytes() {
        assert_eq!(size_of::<((ProfileId, [u8; 32]), Place)>(), 48);
        for (offset, length) in [(0, 0), (1 << 39, 216), ((1 << 40) - 1, 1 << 30)] {
            let slot = Slot::new(offset, length);
            assert_eq!(Place::new(slot, 7).slot(), slot);
        }
    }

    fn record(key: u8) -> LogRecord {
        LogRecord {
            profile: "default".to_owned(),
            key: [key; 32],
            station: "s".to_owned(),
            algorithm: "blake3".to_owned(),
            output_hash: Vec::new(),
            encoding_hash: Vec::new(),
            size: 0,
            inline: None,
            files: Vec::new(),
            used_dir: false,
            created_ns: 0,
            duration_ns: 0,
            discovered: None,
        }
    }

    fn head(node: &str, key: u8) -> LogHead {
        LogHead {
            profile: "default".to_owned(),
            node: node.to_owned(),
            key: [key; 32],
            head: Vec::new(),
        }
    }

    #[test]
    fn later_entries_replace_earlier_and_tombstones_remove() {
        let mut index = Index::default();
        index.apply(
            Slot::new(16, 10),
            Entry::Station(record(1), head("a", 1)).change(),
        );
        index.apply(
            Slot::new(100, 10),
            Entry::Station(record(2), head("a", 2)).change(),
        );
        index.apply(Slot::new(200, 10), Entry::Record(record(1)).change());
        assert_eq!(index.record("default", &[1; 32]), Some(Slot::new(200, 10)));
        assert_eq!(index.head("default", "a"), Some(Slot::new(100, 10)));
        assert_eq!(index.record("other", &[1; 32]), None);
        let forget = Entry::Forget {
            profile: "default".to_owned(),
            key: [1; 32],
        };
        index.apply(Slot::new(300, 10), forget.change());
        assert_eq!(index.record("default", &[1; 32]), None);
        let forget_node = Entry::ForgetNode {
            profile: "default".to_owned(),
            node: "a".to_owned(),
            key: [2; 32],
        };
        index.apply(Slot::new(400, 10), forget_node.change());
        assert_eq!(index.records().count(), 0);
        assert_eq!(index.head("default", "a"), None);
    }

    #[test]
    fn a_record_with_files_is_kept_until_one_that_is_not_replaces_it() {
        let mut index = Index::default();
        let mut with_files = record(1);
        with_files.algorithm = crate::hash::ALGORITHM.to_owned();
        (with_files.output_hash, with_files.encoding_hash) = (vec![2; 32], vec![3; 32]);
        (with_files.inline, with_files.size) = (Some(vec![9; 40]), 40);
        with_files.files = vec![1, 2, 3];
        index.apply(Slot::new(16, 10), Entry::Record(with_files).change());
        let kept = index.kept("default", &[1; 32]).expect("kept");
        assert_eq!(
            (kept.inline(), kept.files()),
            (&[9; 40][..], &[1, 2, 3][..])
        );
        assert_eq!(index.small("default", &[1; 32]), None);
        index.apply(Slot::new(100, 10), Entry::Record(record(1)).change());
        assert_eq!(index.kept("default", &[1; 32]), None);
        assert_eq!(index.record("default", &[1; 32]), Some(Slot::new(100, 10)));
    }
}
