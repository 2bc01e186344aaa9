//! Content hashes. Every identity in choochoo — a station's key, a value's content, a file's
//! bytes — is a BLAKE3 [`Digest`]. Hashes of structured data go through [`Hasher`], which
//! tags and length-prefixes every field, so different inputs can never concatenate into the
//! same byte stream.

use std::fmt;
use std::str::FromStr;

/// The name of the hash algorithm, stored beside every hash the store keeps.
pub(crate) const ALGORITHM: &str = "blake3";

/// A 32-byte BLAKE3 hash.
///
/// The identity of a station's key, of a value's content and of a file's bytes. It prints as
/// 64 lowercase hexadecimal characters and parses back.
///
/// ```
/// use choochoo::Digest;
///
/// let digest = Digest::of(b"hello");
/// let hex = digest.to_hex();
/// assert_eq!(hex.len(), 64);
/// assert_eq!(hex.parse::<Digest>(), Ok(digest));
/// assert_eq!(digest.to_string(), hex);
/// assert!(Digest::from_hex("not hex").is_err());
/// ```
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The BLAKE3 hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Digest {
        Digest(bytes)
    }

    /// Lowercase hexadecimal, 64 characters.
    pub fn to_hex(&self) -> String {
        let mut hex = String::with_capacity(64);
        self.push_hex(&mut hex, 32);
        hex
    }

    /// Appends the hexadecimal of the first `bytes` bytes (at most 32) to `out`.
    pub(crate) fn push_hex(&self, out: &mut String, bytes: usize) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for byte in &self.0[..bytes.min(32)] {
            out.push(DIGITS[usize::from(byte >> 4)] as char);
            out.push(DIGITS[usize::from(byte & 0xf)] as char);
        }
    }

    /// Parses 64 hexadecimal characters.
    pub fn from_hex(hex: &str) -> Result<Digest, ParseDigestError> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(ParseDigestError(()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| ParseDigestError(()))?;
            out[i] = u8::from_str_radix(text, 16).map_err(|_| ParseDigestError(()))?;
        }
        Ok(Digest(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", &self.to_hex()[..16])
    }
}

impl FromStr for Digest {
    type Err = ParseDigestError;

    fn from_str(s: &str) -> Result<Digest, ParseDigestError> {
        Digest::from_hex(s)
    }
}

/// The error of [`Digest::from_hex`] and of `str::parse::<Digest>`.
///
/// The text is not 64 hexadecimal characters.
///
/// ```
/// use choochoo::Digest;
///
/// let error = "abc".parse::<Digest>().unwrap_err();
/// assert_eq!(error.to_string(), "a digest is 64 hexadecimal characters");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDigestError(());

impl fmt::Display for ParseDigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a digest is 64 hexadecimal characters")
    }
}

impl std::error::Error for ParseDigestError {}

/// Hashes structured data: each field is written as tag length, tag, value length, value.
#[derive(Clone)]
pub(crate) struct Hasher {
    /// What went to BLAKE3 so far, once the buffer first filled.
    inner: Option<blake3::Hasher>,
    /// Small fields gather here and go to BLAKE3 together: one update, not four per field.
    buffer: [u8; BUFFER],
    buffered: usize,
}

/// Bytes gathered before an update: BLAKE3's block size times eight.
const BUFFER: usize = 512;

impl Hasher {
    /// A hasher for one kind of thing; the domain keeps kinds apart (a key never equals a
    /// value hash).
    pub(crate) fn new(domain: &str) -> Hasher {
        let mut hasher = Hasher {
            inner: None,
            buffer: [0; BUFFER],
            buffered: 0,
        };
        hasher.field("domain", domain.as_bytes());
        hasher
    }

    pub(crate) fn field(&mut self, tag: &str, bytes: &[u8]) -> &mut Hasher {
        self.write(&(tag.len() as u64).to_le_bytes());
        self.write(tag.as_bytes());
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
        self
    }

    pub(crate) fn digest(&mut self, tag: &str, digest: &Digest) -> &mut Hasher {
        self.field(tag, &digest.0)
    }

    pub(crate) fn finish(&self) -> Digest {
        Hasher::finished(self.inner.clone(), &self.buffer[..self.buffered])
    }

    /// [`Hasher::finish`] of a hasher not needed after: what it gave BLAKE3 is not copied.
    fn finish_owned(self) -> Digest {
        Hasher::finished(self.inner, &self.buffer[..self.buffered])
    }

    /// The digest of what `inner` took, if anything went to BLAKE3 yet, then of `rest`.
    fn finished(inner: Option<blake3::Hasher>, rest: &[u8]) -> Digest {
        let Some(mut inner) = inner else {
            return Digest::of(rest);
        };
        inner.update(rest);
        Digest(*inner.finalize().as_bytes())
    }

    /// The hasher with what it gathered given to BLAKE3, which compresses every full block
    /// of it: a copy continues from there, and the digest is the same as of the whole.
    fn settled(mut self) -> Hasher {
        let inner = self.inner.get_or_insert_with(blake3::Hasher::new);
        inner.update(&self.buffer[..self.buffered]);
        self.buffered = 0;
        self
    }

    /// The digest of a hasher of `domain` given the fields `start` writes, then those `rest`
    /// writes. The fields of `start` are the same for every hash of the domain that shares
    /// `parts` (a station's name and fingerprint before its inputs): each thread keeps a
    /// hasher that has taken them, and a hash continues from a copy of it, so the full
    /// blocks of those fields are compressed once per thread, not once per hash. `parts`
    /// must hold every byte `start` writes. The copy costs about what BLAKE3 takes for a
    /// block: worth it for a start of three blocks or more (a key's).
    pub(crate) fn shared_start(
        domain: &'static str,
        parts: &[&[u8]],
        start: impl FnOnce(&mut Hasher),
        rest: impl FnOnce(&mut Hasher),
    ) -> Digest {
        STARTS.with_borrow_mut(|starts| {
            let at = starts
                .iter()
                .position(|start| start.domain == domain && same_parts(&start.parts, parts));
            let at = at.unwrap_or_else(|| {
                if starts.len() == KEPT_STARTS {
                    starts.clear();
                }
                let mut hasher = Hasher::new(domain);
                start(&mut hasher);
                starts.push(Start {
                    domain,
                    parts: parts.iter().map(|part| part.to_vec()).collect(),
                    hasher: hasher.settled(),
                });
                starts.len() - 1
            });
            let mut hasher = starts[at].hasher.clone();
            rest(&mut hasher);
            hasher.finish_owned()
        })
    }

    /// The same bytes BLAKE3 would have been given one by one, gathered first.
    fn write(&mut self, bytes: &[u8]) {
        if self.buffered + bytes.len() > BUFFER {
            let inner = self.inner.get_or_insert_with(blake3::Hasher::new);
            inner.update(&self.buffer[..self.buffered]);
            self.buffered = 0;
            if bytes.len() > BUFFER {
                inner.update(bytes);
                return;
            }
        }
        self.buffer[self.buffered..self.buffered + bytes.len()].copy_from_slice(bytes);
        self.buffered += bytes.len();
    }
}

/// How many shared starts a thread keeps: one per kind of station a run meets, usually.
const KEPT_STARTS: usize = 64;

/// A shared start a thread keeps, and what it was made of.
struct Start {
    domain: &'static str,
    parts: Vec<Vec<u8>>,
    hasher: Hasher,
}

thread_local! {
    static STARTS: std::cell::RefCell<Vec<Start>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn same_parts(kept: &[Vec<u8>], parts: &[&[u8]]) -> bool {
    kept.len() == parts.len() && kept.iter().zip(parts).all(|(kept, part)| kept == part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let digest = Digest::of(b"hello");
        assert_eq!(Digest::from_hex(&digest.to_hex()), Ok(digest));
        assert_eq!(digest.to_hex(), blake3::hash(b"hello").to_hex().as_str());
        assert!(Digest::from_hex("zz").is_err());
        assert!(Digest::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn gathered_fields_hash_as_the_same_bytes_given_one_by_one() {
        let long = vec![7u8; 3 * BUFFER];
        let mut plain = blake3::Hasher::new();
        let mut gathered = Hasher::new("t");
        for (tag, bytes) in [
            ("domain", &b"t"[..]),
            ("a", b"x"),
            ("long", &long),
            ("b", b"yz"),
        ] {
            plain.update(&(tag.len() as u64).to_le_bytes());
            plain.update(tag.as_bytes());
            plain.update(&(bytes.len() as u64).to_le_bytes());
            plain.update(bytes);
            if tag != "domain" {
                gathered.field(tag, bytes);
            }
        }
        assert_eq!(gathered.finish().0, *plain.finalize().as_bytes());
    }

    #[test]
    fn a_shared_start_hashes_as_the_whole_and_is_kept_per_parts() {
        let whole = |station: &[u8], input: &[u8]| {
            let mut hasher = Hasher::new("t");
            hasher.field("station", station).field("padding", &[1; 200]);
            hasher.field("input", input).finish()
        };
        let shared = |station: &[u8], input: &[u8]| {
            let start = |hasher: &mut Hasher| {
                hasher.field("station", station).field("padding", &[1; 200]);
            };
            Hasher::shared_start("t", &[station], start, |hasher| {
                hasher.field("input", input);
            })
        };
        for station in [&b"a"[..], b"b", b"a", &[7; 700]] {
            for input in [&b"x"[..], b"y", &[9; 1500]] {
                assert_eq!(shared(station, input), whole(station, input));
            }
        }
        // More kinds than a thread keeps: the starts are made again, the same.
        for n in 0..(2 * KEPT_STARTS as u32) {
            let station = n.to_le_bytes();
            assert_eq!(shared(&station, b"x"), whole(&station, b"x"));
        }
    }

    #[test]
    fn fields_do_not_run_together() {
        let ab_c = Hasher::new("t").field("x", b"ab").field("y", b"c").finish();
        let a_bc = Hasher::new("t").field("x", b"a").field("y", b"bc").finish();
        assert_ne!(ab_c, a_bc);
    }
}
