//! An entry read in place, field by field (`store/fields.rs`), as postcard writes an
//! [`Entry`](super::entry::Entry):
//! its variant's index, then each field in order — a string or bytes as its length and its
//! bytes, a key as its 32 bytes, an `i64` as a zigzag varint, a `bool` and an `Option`'s tag
//! as one byte. Opening a store reads every entry of its log, and serde's generic path took
//! most of that read; this reader accepts exactly what postcard's derived reader accepts for
//! [`View`], with the same errors (a test holds the two equal on written, cut and random
//! bytes).

use super::entry::{HeadView, RecordView, View};
use crate::store::fields::Fields;
use postcard::Error;

/// The entry `body` holds, all of it: bytes left after it are an error.
pub(crate) fn read(body: &[u8]) -> Result<View<'_>, Error> {
    let mut reader = Fields { bytes: body };
    let view = match reader.variant()? {
        0 => View::Station(record(&mut reader)?, head(&mut reader)?),
        1 => View::Record(record(&mut reader)?),
        2 => View::Head(head(&mut reader)?),
        3 => View::Forget {
            profile: reader.str()?,
            key: reader.key()?,
        },
        4 => View::ForgetNode {
            profile: reader.str()?,
            node: reader.str()?,
            key: reader.key()?,
        },
        _ => return Err(Error::SerdeDeCustom),
    };
    match reader.bytes.is_empty() {
        true => Ok(view),
        false => Err(Error::DeserializeBadEncoding),
    }
}

/// A record's fields, in order.
fn record<'a>(fields: &mut Fields<'a>) -> Result<RecordView<'a>, Error> {
    Ok(RecordView {
        profile: fields.str()?,
        key: fields.key()?,
        station: fields.str()?,
        algorithm: fields.str()?,
        output_hash: fields.bytes()?,
        encoding_hash: fields.bytes()?,
        size: fields.i64()?,
        inline: fields.option()?.then(|| fields.bytes()).transpose()?,
        files: fields.bytes()?,
        used_dir: fields.bool()?,
        created_ns: fields.i64()?,
        duration_ns: fields.i64()?,
        discovered: fields.option()?.then(|| fields.bytes()).transpose()?,
    })
}

/// A head's fields, in order.
fn head<'a>(fields: &mut Fields<'a>) -> Result<HeadView<'a>, Error> {
    Ok(HeadView {
        profile: fields.str()?,
        node: fields.str()?,
        key: fields.key()?,
        head: fields.bytes()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::entry::{Entry, LogHead, LogRecord};

    /// What postcard's derived reader makes of `body`, as the entry read does.
    fn derived(body: &[u8]) -> Result<View<'_>, Error> {
        let (view, rest) = postcard::take_from_bytes(body)?;
        match rest.is_empty() {
            true => Ok(view),
            false => Err(Error::DeserializeBadEncoding),
        }
    }

    fn same(body: &[u8]) {
        let ours = format!("{:?}", read(body));
        assert_eq!(ours, format!("{:?}", derived(body)), "{body:?}");
    }

    fn entries() -> Vec<Entry> {
        let record = |inline: Option<Vec<u8>>, discovered: Option<Vec<u8>>| LogRecord {
            profile: "default".to_owned(),
            key: [7; 32],
            station: "build::compile".to_owned(),
            algorithm: "blake3".to_owned(),
            output_hash: vec![1; 32],
            encoding_hash: vec![2; 32],
            size: -300,
            inline,
            files: vec![1, 3, b'a', b'.', b'o'],
            used_dir: true,
            created_ns: i64::MAX,
            duration_ns: i64::MIN,
            discovered,
        };
        let head = LogHead {
            profile: "release".to_owned(),
            node: "objects[src/ä.c]".to_owned(),
            key: [9; 32],
            head: vec![0; 200],
        };
        vec![
            Entry::Station(record(Some(vec![5; 20]), None), head.clone()),
            Entry::Record(record(None, Some(vec![4; 3]))),
            Entry::Head(head),
            Entry::Forget {
                profile: String::new(),
                key: [0; 32],
            },
            Entry::ForgetNode {
                profile: "p".to_owned(),
                node: "n".to_owned(),
                key: [255; 32],
            },
        ]
    }

    #[test]
    fn written_entries_are_read_as_postcard_reads_them() {
        for entry in entries() {
            let body = postcard::to_stdvec(&entry).unwrap();
            assert!(read(&body).is_ok());
            same(&body);
        }
    }

    #[test]
    fn cut_padded_and_changed_entries_fail_as_postcard_fails() {
        for entry in entries() {
            let body = postcard::to_stdvec(&entry).unwrap();
            for end in 0..body.len() {
                same(&body[..end]);
            }
            let mut padded = body.clone();
            padded.push(0);
            same(&padded);
            for at in 0..body.len() {
                for byte in [0x00, 0x01, 0x02, 0x0f, 0x10, 0x7f, 0x80, 0xc3, 0xff] {
                    let mut changed = body.clone();
                    changed[at] = byte;
                    same(&changed);
                }
            }
        }
    }

    #[test]
    fn random_bytes_fail_as_postcard_fails() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let length = (state % 96) as usize;
            let body: Vec<u8> = (0..length)
                .map(|at| (state.rotate_left(at as u32 * 5) % 7) as u8)
                .collect();
            same(&body);
        }
    }
}
