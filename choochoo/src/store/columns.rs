//! How values the store keeps are written in SQLite columns: hashes as 32-byte blobs, paths
//! as their raw bytes (so names that are not UTF-8 survive).

use crate::hash::Digest;
use std::path::PathBuf;

/// A BLAKE3 hash column, which must hold exactly 32 bytes.
pub(super) fn digest_column(what: &str, bytes: &[u8]) -> Result<Digest, String> {
    <[u8; 32]>::try_from(bytes)
        .map(Digest::from_bytes)
        .map_err(|_| format!("{what} of {} bytes, not 32", bytes.len()))
}

#[cfg(unix)]
pub(super) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
pub(super) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}
