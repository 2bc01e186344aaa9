//! Blobs: encoded outputs too large to keep inline, one file each at `blobs/ab/abcdef…`,
//! named by the BLAKE3 hash of their bytes and [published](Store::publish) atomically.

use super::Store;
use super::publish::Published;
use crate::error::Error;
use crate::hash::Digest;
use crate::memo::Record;
use std::path::PathBuf;

impl Store {
    /// The encoded output of a record, verified against its hash.
    pub(crate) fn load(&self, record: &Record) -> Result<Vec<u8>, String> {
        let bytes = match &record.inline {
            Some(bytes) => bytes.clone(),
            None => {
                let path = self.blob_path(&record.encoding_hash);
                std::fs::read(&path)
                    .map_err(|error| format!("cannot read blob {}: {error}", path.display()))?
            }
        };
        intact(record, &bytes)?;
        Ok(bytes)
    }

    /// Checks that a record's stored output is present and intact without decoding it.
    pub(crate) fn verify(&self, record: &Record) -> Result<(), String> {
        match &record.inline {
            Some(bytes) => intact(record, bytes),
            None => self.load(record).map(drop),
        }
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.dir.join("blobs").join(&hex[..2]).join(hex)
    }

    /// Writes a blob, unless an intact one is already there.
    pub(super) fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<(), Error> {
        let path = self.blob_path(digest);
        // Already there and intact: nothing to write. A damaged one is replaced, so a run
        // that recomputes a corrupt output also heals the store.
        if std::fs::read(&path).is_ok_and(|stored| stored == bytes) {
            return Ok(());
        }
        self.publish(&path, bytes, Published::Blob)
    }

    /// Every blob file, with the digest its name says (if it is one).
    pub(crate) fn blob_files(&self) -> Vec<(PathBuf, Option<Digest>)> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(self.dir.join("blobs")) else {
            return out;
        };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file
                    .file_name()
                    .to_str()
                    .and_then(|name| Digest::from_hex(name).ok());
                out.push((file.path(), name));
            }
        }
        out
    }
}

/// Whether `bytes` are the output `record` names: its size and its hash.
fn intact(record: &Record, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() as u64 != record.size || Digest::of(bytes) != record.encoding_hash {
        return Err(format!(
            "stored output {} does not match its hash",
            record.encoding_hash
        ));
    }
    Ok(())
}
