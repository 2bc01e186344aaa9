//! Files in the remote cache only: the files of results restored from the remote cache
//! without their bytes (`--remote-download=outputs|minimal`), each by its path and BLAKE3
//! content digest. A record naming such a file is still a hit while the file is absent; its
//! bytes are fetched, by the SHA-256 digest `remote_digests` maps it to, when they are
//! needed. A file on disk always wins over its row here.

use super::Store;
use super::columns::{digest_column, path_from_bytes};
use crate::error::Error;
use crate::hash::Digest;
use rusqlite::params;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

impl Store {
    /// Remembers that the file at `path`, of content `blake3`, is in the remote cache only.
    pub(crate) fn mark_remote(&self, path: &Path, blake3: &Digest) -> Result<(), Error> {
        self.with_db("record a file in the remote cache only in", |db| {
            db.prepare_cached("INSERT OR REPLACE INTO remote_files (path, blake3) VALUES (?1, ?2)")?
                .execute(params![
                    path.as_os_str().as_encoded_bytes(),
                    blake3.as_bytes()
                ])
                .map(drop)
        })
    }

    /// Forgets that the file at `path` is in the remote cache only: it is here now.
    pub(crate) fn unmark_remote(&self, path: &Path) -> Result<(), Error> {
        self.with_db("forget a file in the remote cache only in", |db| {
            db.prepare_cached("DELETE FROM remote_files WHERE path = ?1")?
                .execute([path.as_os_str().as_encoded_bytes()])
                .map(drop)
        })
    }

    /// Every file in the remote cache only, with its content digest; a row whose digest is
    /// unreadable is left out (its record is then stale, and its station runs again).
    pub(crate) fn remote_files(&self) -> Result<HashMap<PathBuf, Digest>, Error> {
        self.with_db("read the files in the remote cache only from", |db| {
            let mut statement = db.prepare_cached("SELECT path, blake3 FROM remote_files")?;
            let rows = statement.query_map([], |row| {
                Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut files = HashMap::new();
            for row in rows {
                let (path, digest) = row?;
                if let Ok(digest) = digest_column("a remote file digest", &digest) {
                    files.insert(path_from_bytes(path), digest);
                }
            }
            Ok(files)
        })
    }
}
