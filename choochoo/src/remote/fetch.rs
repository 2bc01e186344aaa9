//! Fetching files that are in the remote cache only: by the SHA-256 digest the store maps
//! each BLAKE3 content to, checked against both, and published in place like any restored
//! file. A run fetches what a station that runs needs; `choochoo fetch` asks for the rest.

use super::Cache;
use crate::error::chain;
use crate::hash::Digest;
use crate::store::Store;
use crate::store::publish::Published;
use std::path::{Path, PathBuf};

/// Files fetched per call to the server, so a large fetch holds a bounded amount in memory.
const PER_CALL: usize = 256;

/// Fetches `files` (each path with its BLAKE3 content), publishes them and forgets that they
/// are in the remote cache only; returns the bytes fetched. An `Err` says which file could
/// not be had and why; the files before it are in place.
pub(crate) fn files(
    cache: &Cache,
    store: &Store,
    files: &[(PathBuf, Digest)],
) -> Result<u64, String> {
    let mut fetched = 0;
    for chunk in files.chunks(PER_CALL) {
        fetched += fetch_chunk(cache, store, chunk)?;
    }
    Ok(fetched)
}

fn fetch_chunk(cache: &Cache, store: &Store, files: &[(PathBuf, Digest)]) -> Result<u64, String> {
    let digests = files
        .iter()
        .map(|(path, blake3)| {
            store
                .known_sha256(blake3)
                .map_err(|error| chain(&error))?
                .ok_or_else(|| {
                    format!(
                        "the store does not know the remote digest of {}",
                        path.display()
                    )
                })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let blobs = cache.blobs(digests.clone())?;
    let mut fetched = 0;
    for ((path, blake3), digest) in files.iter().zip(&digests) {
        let bytes = blobs
            .get(&digest.hash)
            .ok_or_else(|| format!("the server did not send {}", path.display()))?;
        if crate::stat::file_digest(&Digest::of(bytes)) != *blake3 {
            return Err(format!(
                "{} does not match its BLAKE3 digest",
                path.display()
            ));
        }
        store
            .publish(path, bytes, Published::File)
            .map_err(|error| chain(&error))?;
        store.unmark_remote(path).map_err(|error| chain(&error))?;
        fetched += bytes.len() as u64;
    }
    Ok(fetched)
}

/// What `choochoo fetch` did: files fetched and their bytes.
#[derive(Debug, Default)]
pub(crate) struct Fetch {
    pub(crate) files: usize,
    pub(crate) bytes: u64,
}

/// Fetches every file in the remote cache only under one of `under` (every one, when
/// empty). A file found on disk with its content is only forgotten as remote.
pub(crate) fn under(cache: &Cache, store: &Store, under: &[PathBuf]) -> Result<Fetch, String> {
    let remote = store.remote_files().map_err(|error| chain(&error))?;
    let mut wanted: Vec<(PathBuf, Digest)> = remote
        .into_iter()
        .filter(|(path, _)| under.is_empty() || under.iter().any(|dir| path.starts_with(dir)))
        .filter(|(path, digest)| !here(store, path, digest))
        .collect();
    wanted.sort();
    let bytes = files(cache, store, &wanted)?;
    Ok(Fetch {
        files: wanted.len(),
        bytes,
    })
}

/// Whether a file is on disk with this content; if so it is no longer remote only.
fn here(store: &Store, path: &Path, digest: &Digest) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let here = crate::stat::file_digest(&Digest::of(&bytes)) == *digest;
    if here {
        let _ = store.unmark_remote(path);
    }
    here
}
