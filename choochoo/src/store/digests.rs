//! The remote digests: the SHA-256 wire digest of each file content met through the remote
//! cache, by its BLAKE3 identity, so a file the server already has is not read to be hashed
//! again. Nothing depends on the table: a lost row only costs reading a file.

use super::Store;
use crate::error::Error;
use crate::hash::Digest;
use crate::remote::wire::WireDigest;
use rusqlite::{OptionalExtension, params};

impl Store {
    /// The SHA-256 digest of the file content whose BLAKE3 identity is `blake3`, if this
    /// store has met it.
    pub(crate) fn known_sha256(&self, blake3: &Digest) -> Result<Option<WireDigest>, Error> {
        self.with_db("read a digest mapping from", |db| {
            db.prepare_cached("SELECT sha256, size FROM remote_digests WHERE blake3 = ?1")?
                .query_row([blake3.as_bytes()], |row| {
                    Ok(WireDigest {
                        hash: row.get(0)?,
                        size_bytes: row.get(1)?,
                    })
                })
                .optional()
        })
    }

    /// Remembers the SHA-256 digest of a file content (checked before it is remembered).
    pub(crate) fn remember_sha256(
        &self,
        blake3: &Digest,
        sha256: &WireDigest,
    ) -> Result<(), Error> {
        self.with_db("record a digest mapping in", |db| {
            db.prepare_cached(
                "INSERT OR REPLACE INTO remote_digests (blake3, sha256, size) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![blake3.as_bytes(), sha256.hash, sha256.size_bytes])
            .map(drop)
        })
    }
}
