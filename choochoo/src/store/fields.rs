//! Reading postcard's fields by hand, as its derived readers read them: a string or bytes
//! as a length and its bytes, a fixed array as its bytes, an integer as a varint (a signed
//! one zigzagged), a `bool` and an `Option`'s tag as one byte. The store's hottest reads (a
//! log's entries, the stat file's lines, a record's file list) go through this instead of
//! serde's generic path, each held equal to the derived reader by its own tests.

use postcard::Error;

/// What is left of the bytes being read.
pub(crate) struct Fields<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The next `count` bytes.
    pub(crate) fn take(&mut self, count: usize) -> Result<&'a [u8], Error> {
        if count > self.bytes.len() {
            return Err(Error::DeserializeUnexpectedEnd);
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    /// A `[u8; 32]`.
    pub(crate) fn key(&mut self) -> Result<[u8; 32], Error> {
        Ok(<[u8; 32]>::try_from(self.take(32)?).expect("32 bytes were taken"))
    }

    /// A length, as postcard reads a `usize` on a 64-bit target.
    pub(crate) fn length(&mut self) -> Result<usize, Error> {
        usize::try_from(self.varint(10)?).map_err(|_| Error::DeserializeBadVarint)
    }

    /// A `&[u8]`: its length, then its bytes.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let length = self.length()?;
        self.take(length)
    }

    /// A `&str`: its bytes, which must be UTF-8.
    pub(crate) fn str(&mut self) -> Result<&'a str, Error> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Error::DeserializeBadUtf8)
    }

    /// A `u64`.
    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        self.varint(10)
    }

    /// An `i64`: zigzagged.
    pub(crate) fn i64(&mut self) -> Result<i64, Error> {
        let n = self.varint(10)?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// A byte.
    fn byte(&mut self) -> Result<u8, Error> {
        let [byte, rest @ ..] = self.bytes else {
            return Err(Error::DeserializeUnexpectedEnd);
        };
        self.bytes = rest;
        Ok(*byte)
    }

    /// A `bool`.
    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::DeserializeBadBool),
        }
    }

    /// An `Option`'s tag: whether a value follows.
    pub(crate) fn option(&mut self) -> Result<bool, Error> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::DeserializeBadOption),
        }
    }

    /// An enum's variant index: a varint of a `u32`.
    pub(crate) fn variant(&mut self) -> Result<u64, Error> {
        self.varint(5)
    }

    /// A varint of at most `most` bytes (10 for a 64-bit value, 5 for a 32-bit one), whose
    /// last byte carries no more bits than the value has left.
    fn varint(&mut self, most: usize) -> Result<u64, Error> {
        let bytes = self.bytes;
        // Most are one byte: a length, a flag.
        if let [byte @ 0..0x80, rest @ ..] = bytes {
            self.bytes = rest;
            return Ok(u64::from(*byte));
        }
        let last_most = if most == 10 { 1 } else { 0x0f };
        let mut value: u64 = 0;
        let mut at = 0;
        while at < most {
            let Some(&byte) = bytes.get(at) else {
                return Err(Error::DeserializeUnexpectedEnd);
            };
            value |= u64::from(byte & 0x7f) << (7 * at);
            at += 1;
            if byte & 0x80 == 0 {
                if at == most && byte > last_most {
                    return Err(Error::DeserializeBadVarint);
                }
                self.bytes = &bytes[at..];
                return Ok(value);
            }
        }
        Err(Error::DeserializeBadVarint)
    }
}
