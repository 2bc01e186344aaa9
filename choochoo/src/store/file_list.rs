//! A record's file list read as postcard writes a `Vec<(&[u8], Digest)>`: the number of
//! files, then for each its path's length, the path's bytes and its 32-byte content hash,
//! lengths as LEB128 varints. A cached station's lookup reads one on every no-op, and
//! serde's generic path (a varint call per hash byte) took most of the lookup's time; this
//! reader accepts exactly the inputs [`bounded::from_bytes`](crate::value::bounded) accepts
//! for that type, with the same errors, and allocates no more than the input's length
//! allows (a test holds the two equal on written, cut and random inputs).

use super::columns::path_from_bytes;
use super::fields::Fields;
use crate::hash::Digest;
use postcard::Error;
use std::path::PathBuf;

/// The bytes one file takes at least: a one-byte length and its hash.
const LEAST_PER_FILE: usize = 1 + 32;

/// The files of an encoded file list, each with its content hash.
pub(super) fn decode_files(bytes: &[u8]) -> Result<Vec<(PathBuf, Digest)>, Error> {
    let mut reader = Fields { bytes };
    let count = reader.length()?;
    let mut files = Vec::with_capacity(count.min(bytes.len() / LEAST_PER_FILE));
    for _ in 0..count {
        let length = reader.length()?;
        let path = reader.take(length)?.to_vec();
        let digest = <[u8; 32]>::try_from(reader.take(32)?).expect("32 bytes were taken");
        files.push((path_from_bytes(path), Digest::from_bytes(digest)));
    }
    match reader.bytes.is_empty() {
        true => Ok(files),
        false => Err(Error::DeserializeBadEncoding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::encode_files;

    /// What the generic decoder makes of `bytes`.
    fn generic(bytes: &[u8]) -> Result<Vec<(PathBuf, Digest)>, Error> {
        let files: Vec<(Vec<u8>, Digest)> = crate::value::bounded::from_bytes(bytes)?;
        Ok(files
            .into_iter()
            .map(|(path, digest)| (path_from_bytes(path), digest))
            .collect())
    }

    fn same(bytes: &[u8]) {
        assert_eq!(decode_files(bytes), generic(bytes), "on {bytes:?}");
    }

    #[test]
    fn written_lists_read_back_whole_and_cut_ones_fail_as_the_generic_decoder_fails() {
        let long = "d/".repeat(100);
        for count in [0, 1, 2, 5] {
            let files: Vec<(PathBuf, Digest)> = (0..count)
                .map(|at| {
                    let path = PathBuf::from(format!("{long}out/{at}.o"));
                    (path, Digest::of(&[at as u8]))
                })
                .collect();
            let bytes = encode_files(&files).unwrap();
            assert_eq!(decode_files(&bytes).unwrap(), files);
            for cut in 0..bytes.len() {
                same(&bytes[..cut]);
                assert!(decode_files(&bytes[..cut]).is_err());
            }
            let mut longer = bytes.clone();
            longer.push(0);
            same(&longer);
            assert!(decode_files(&longer).is_err());
        }
    }

    #[test]
    fn odd_varints_and_random_bytes_read_as_the_generic_decoder_reads_them() {
        let varints: [&[u8]; 8] = [
            &[0x80, 0x00],
            &[0x81, 0x00, 0x00],
            &[0xff; 10],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            &[0xff; 11],
            &[0x01, 0x80, 0x00],
            &[0x01, 0x00],
        ];
        for bytes in varints {
            same(bytes);
        }
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let length = (state >> 58) as usize + 1;
            let bytes: Vec<u8> = (0..length)
                .map(|at| {
                    let byte = (state >> (at % 8 * 8)) as u8;
                    // Small values keep counts and lengths within the input often enough.
                    if at < 3 { byte % 3 } else { byte }
                })
                .collect();
            same(&bytes);
        }
    }
}
