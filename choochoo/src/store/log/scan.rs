//! Reading a record log front to back, once: each good entry goes to the index, a corrupt one
//! in the middle is stepped over (by its length when the frame after it is good, else to the
//! next good frame), and what follows the last good frame is a torn tail.

use super::entry;
use super::frame::{self, Format, Frame};
use super::index::{Index, Slot};

/// What a scan found besides entries.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// Corrupt or unreadable entries stepped over, each named by its offset.
    pub(crate) problems: Vec<String>,
    /// Where a torn tail starts, when the bytes end in one.
    pub(crate) torn: Option<u64>,
}

/// Indexes the frames of `bytes`, which start at offset `base` of a log of `format`, and
/// moves `index.end` past the last good one.
pub(crate) fn scan(format: Format, bytes: &[u8], base: u64, index: &mut Index) -> Scanned {
    let mut scanned = Scanned::default();
    let mut at = 0;
    while at < bytes.len() {
        let offset = base + at as u64;
        match frame::parse(format, &bytes[at..]) {
            Frame::Good(body, length) => {
                match entry::view(body) {
                    Ok(entry) => index.apply(Slot::new(offset, length), entry.change()),
                    Err(error) => scanned.problems.push(format!(
                        "the log entry at byte {offset} is unreadable: {error}"
                    )),
                }
                at += length;
                index.end = base + at as u64;
            }
            bad => match next_good(format, bytes, at, bad) {
                Some(next) => {
                    scanned.problems.push(format!(
                        "the log entry at byte {offset} is corrupt ({} bytes skipped)",
                        next - at
                    ));
                    at = next;
                }
                None => {
                    scanned.torn = Some(offset);
                    break;
                }
            },
        }
    }
    scanned
}

/// Indexes the good frames at the start of `bytes`, which start at offset `base` of a log of
/// `format`, up to the first that is not whole and readable; how many bytes they take. The
/// common case of [`scan`], for a log read in chunks.
pub(crate) fn scan_good(format: Format, bytes: &[u8], base: u64, index: &mut Index) -> usize {
    let mut at = 0;
    while let Frame::Good(body, length) = frame::parse(format, &bytes[at..]) {
        let Ok(entry) = entry::view(body) else {
            break;
        };
        index.apply(Slot::new(base + at as u64, length), entry.change());
        at += length;
        index.end = base + at as u64;
    }
    at
}

/// Where good frames go on after the bad one at `at`: right after it when its length is
/// trustworthy (a good frame follows), else at the next position where one starts; `None`
/// when none does (the rest is a torn tail).
fn next_good(format: Format, bytes: &[u8], at: usize, bad: Frame<'_>) -> Option<usize> {
    let good = |next: usize| matches!(frame::parse(format, &bytes[next..]), Frame::Good(..));
    if let Frame::Bad(Some(length)) = bad {
        let next = at + length;
        if next < bytes.len() && good(next) {
            return Some(next);
        }
    }
    (at + 1..bytes.len()).find(|&next| good(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::entry::{Entry, LogHead};
    use crate::store::log::frame::{HEADER, write};

    fn log_of(nodes: &[&str]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for (n, node) in nodes.iter().enumerate() {
            starts.push(bytes.len());
            let head = LogHead {
                profile: "default".to_owned(),
                node: (*node).to_owned(),
                key: [n as u8; 32],
                head: vec![0; 40],
            };
            write(Format::CURRENT, &Entry::Head(head), &mut bytes).unwrap();
        }
        (bytes, starts)
    }

    #[test]
    fn a_torn_tail_stops_at_the_last_good_entry() {
        let (bytes, starts) = log_of(&["a", "b", "c"]);
        let mut index = Index::default();
        let scanned = scan(Format::CURRENT, &bytes[..bytes.len() - 3], 16, &mut index);
        assert_eq!(scanned.torn, Some(16 + starts[2] as u64));
        assert_eq!(index.end, 16 + starts[2] as u64);
        assert!(index.head("default", "b").is_some());
        assert!(index.head("default", "c").is_none());
        assert!(scanned.problems.is_empty());
    }

    #[test]
    fn a_corrupt_entry_in_the_middle_is_skipped_by_its_length_or_by_searching() {
        let (bytes, starts) = log_of(&["a", "b", "c"]);
        for damaged_at in [starts[1] + HEADER + 2, starts[1]] {
            let mut damaged = bytes.clone();
            damaged[damaged_at] ^= 0x55;
            let mut index = Index::default();
            let scanned = scan(Format::CURRENT, &damaged, 0, &mut index);
            assert_eq!(scanned.torn, None);
            assert_eq!(scanned.problems.len(), 1, "{:?}", scanned.problems);
            assert!(index.head("default", "a").is_some());
            assert!(index.head("default", "b").is_none());
            assert_eq!(
                index.head("default", "c").map(Slot::offset),
                Some(starts[2] as u64)
            );
            assert_eq!(index.end, bytes.len() as u64);
        }
    }
}
