//! The frame around each entry of the record log, and the log's first bytes.
//!
//! A log starts with its magic (16 bytes: `choochoo-log`, three zeros and its format); then
//! frames, each:
//!
//! | bytes | what |
//! |---|---|
//! | 4 | the body's length, little-endian `u32` |
//! | 8 | the body's check: of those 4 bytes and the body, as the log's [`Format`] says |
//! | n | the body: one entry (`entry.rs`), postcard |
//!
//! A frame whose check does not match its bytes is corrupt, and a frame cut short (a write a
//! crash interrupted) is torn; neither is ever read as an entry. The check guards against
//! torn and damaged bytes, not against someone forging them: what a record names is
//! verified by its content hashes when it is read.

/// How a log's frames are checked; its magic names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Format 1: the first 8 bytes of the BLAKE3 hash. Still read; a store that opens one
    /// rewrites it in the current format.
    Blake3,
    /// Format 2: XXH3-64, little-endian. A tenth of BLAKE3's cost on the short bodies of a
    /// log, where reading a large store's log was a third checking it.
    Xxh3,
}

impl Format {
    /// The format new logs, and every log a store rewrites, are written in.
    pub(crate) const CURRENT: Format = Format::Xxh3;

    /// The first bytes of a log of this format.
    pub(crate) fn magic(self) -> [u8; 16] {
        let mut magic = *b"choochoo-log\0\0\0\0";
        magic[15] = self.number();
        magic
    }

    /// The format whose magic `bytes` are, if any this version reads.
    pub(crate) fn of_magic(bytes: &[u8; 16]) -> Option<Format> {
        [Format::Blake3, Format::Xxh3]
            .into_iter()
            .find(|format| format.magic() == *bytes)
    }

    /// The format's number, as its magic ends.
    pub(crate) fn number(self) -> u8 {
        match self {
            Format::Blake3 => 1,
            Format::Xxh3 => 2,
        }
    }

    /// A frame's check of its length and body.
    fn check(self, length: &[u8; 4], body: &[u8]) -> [u8; 8] {
        match self {
            Format::Blake3 => {
                let mut hasher = blake3::Hasher::new();
                hasher.update(length);
                hasher.update(body);
                let mut check = [0; 8];
                check.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
                check
            }
            Format::Xxh3 => {
                let mut hasher = xxhash_rust::xxh3::Xxh3::new();
                hasher.update(length);
                hasher.update(body);
                hasher.digest().to_le_bytes()
            }
        }
    }
}

/// The length of a log's magic.
pub(crate) const MAGIC_LEN: usize = 16;

/// A frame's length and check, before its body.
pub(crate) const HEADER: usize = 12;

/// No body is longer: a longer length is corrupt.
pub(crate) const LONGEST: usize = 1 << 28;

/// Appends the frame of `body` (an entry of the log, or of the stat file), checked as
/// `format` says, to `out`.
pub(crate) fn write(
    format: Format,
    body: &impl serde::Serialize,
    out: &mut Vec<u8>,
) -> Result<(), postcard::Error> {
    let body = postcard::to_stdvec(body)?;
    let length = u32::try_from(body.len())
        .ok()
        .filter(|&length| length as usize <= LONGEST)
        .ok_or(postcard::Error::SerializeBufferFull)?
        .to_le_bytes();
    out.extend_from_slice(&length);
    out.extend_from_slice(&format.check(&length, &body));
    out.extend_from_slice(&body);
    Ok(())
}

/// What the bytes at a position hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A whole frame whose check matches: its body, and the frame's length.
    Good(&'a [u8], usize),
    /// Fewer bytes than the frame's header or its length says: torn, or a corrupt length.
    Short,
    /// A frame whose check does not match, with the length it claims (`None`: impossible).
    Bad(Option<usize>),
}

/// The frame at the start of `bytes`, checked as `format` says.
pub(crate) fn parse(format: Format, bytes: &[u8]) -> Frame<'_> {
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER>() else {
        return Frame::Short;
    };
    let length_bytes = [header[0], header[1], header[2], header[3]];
    let length = u32::from_le_bytes(length_bytes) as usize;
    if length > LONGEST {
        return Frame::Bad(None);
    }
    let Some(body) = rest.get(..length) else {
        return Frame::Short;
    };
    if header[4..] != format.check(&length_bytes, body) {
        return Frame::Bad(Some(HEADER + length));
    }
    Frame::Good(body, HEADER + length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::entry::{Entry, LogHead, decode};

    fn head() -> Entry {
        Entry::Head(LogHead {
            profile: "default".to_owned(),
            node: "a".to_owned(),
            key: [7; 32],
            head: vec![1, 2, 3],
        })
    }

    #[test]
    fn a_frame_reads_back_and_any_damage_is_seen_in_each_format() {
        for format in [Format::Blake3, Format::Xxh3] {
            let mut bytes = Vec::new();
            write(format, &head(), &mut bytes).unwrap();
            let Frame::Good(body, length) = parse(format, &bytes) else {
                panic!("a good frame");
            };
            assert_eq!(length, bytes.len());
            assert!(matches!(decode(body).unwrap(), Entry::Head(h) if h.node == "a"));
            for cut in 0..bytes.len() {
                assert_eq!(parse(format, &bytes[..cut]), Frame::Short, "cut at {cut}");
            }
            for at in HEADER..bytes.len() {
                let mut damaged = bytes.clone();
                damaged[at] ^= 0x10;
                let found = parse(format, &damaged);
                assert_eq!(found, Frame::Bad(Some(bytes.len())), "byte {at}");
            }
        }
    }

    #[test]
    fn a_frame_of_one_format_is_not_good_in_the_other() {
        let mut bytes = Vec::new();
        write(Format::Blake3, &head(), &mut bytes).unwrap();
        assert_eq!(parse(Format::Xxh3, &bytes), Frame::Bad(Some(bytes.len())));
    }

    #[test]
    fn each_format_is_known_by_its_magic_and_no_other_is() {
        for format in [Format::Blake3, Format::Xxh3] {
            assert_eq!(Format::of_magic(&format.magic()), Some(format));
        }
        assert_eq!(Format::of_magic(b"choochoo-log\0\0\0\x03"), None);
        assert_eq!(&Format::Blake3.magic(), b"choochoo-log\0\0\0\x01");
    }
}
