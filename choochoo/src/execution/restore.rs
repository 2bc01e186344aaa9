//! A remote hit made into a node's value: its manifest decoded, its files written into the
//! station's directory (or, when the download mode leaves them in the remote cache,
//! remembered there by digest), files of other stations checked, and its local and portable
//! content computed.

use super::Execution;
use crate::error::chain;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo::{self, Content};
use crate::remote::wire::{Fetched, Manifest};
use crate::stat::Seen;
use crate::store::publish::Published;
use crate::value::Shared;
use std::path::Path;

impl Execution<'_> {
    /// Turns a download into a value: decodes the manifest, writes the station's files
    /// (each checked against its BLAKE3 digest; names checked like any output name) or
    /// remembers them as in the remote cache only, checks
    /// that files of other stations are here with the same content, and computes the local
    /// and portable content. An `Err` says why the result cannot be used.
    #[allow(
        clippy::type_complexity,
        reason = "a private tuple, named where it is taken apart"
    )]
    pub(super) fn restore(
        &self,
        id: NodeId,
        download: Fetched,
    ) -> Result<(Shared, Content, Vec<u8>, Digest), String> {
        let node = self.graph.node(id);
        let work = self.work_root();
        let manifest: Manifest = crate::value::decode(&download.manifest)
            .map_err(|error| format!("its manifest is unreadable: {error}"))?;
        let value = crate::file::portable(&work, || (node.codec.decode)(&manifest.encoding))
            .map_err(|error| format!("its value does not decode: {}", chain(&error)))?;
        let (encoded, paths) = (node.codec.encode)(&*value).map_err(|error| chain(&error))?;
        if paths.len() != manifest.files.len() {
            return Err("its manifest does not list the files of its value".to_owned());
        }
        let own = self
            .store
            .work_dir(&self.settings.profile, &self.paths[id.index()]);
        let mut files = Vec::with_capacity(paths.len());
        for (path, (relative, digest)) in paths.into_iter().zip(&manifest.files) {
            if crate::names::join(&work, Path::new(relative)).ok().as_ref() != Some(&path) {
                return Err(format!(
                    "its manifest names {relative:?}, not {}",
                    path.display()
                ));
            }
            let seen = match path.starts_with(&own) {
                true => self.restore_file(&download, &path, relative, digest)?,
                false => self.file_of_another(&path, digest)?,
            };
            files.push((path, seen));
        }
        let (portable_encoding, _) = crate::file::portable(&work, || (node.codec.encode)(&*value))
            .map_err(|error| chain(&error))?;
        let portable = memo::portable(
            &portable_encoding,
            files.iter().map(|(_, seen)| &seen.digest),
        );
        let content = memo::content(&encoded, files);
        Ok((value, content, encoded, portable))
    }

    /// One file of the station's own directory: written in place when its bytes came,
    /// checked against its BLAKE3 digest, else remembered as in the remote cache only.
    fn restore_file(
        &self,
        download: &Fetched,
        path: &Path,
        relative: &str,
        digest: &Digest,
    ) -> Result<Seen, String> {
        let (sha256, bytes) = download
            .files
            .get(relative)
            .ok_or_else(|| format!("its file {relative:?} is missing"))?;
        self.remember_sha256(digest, sha256);
        let Some(bytes) = bytes else {
            // An older file left at its place would be taken for a modified output.
            if crate::filter::real(path).is_file() {
                std::fs::remove_file(path)
                    .map_err(|error| format!("cannot remove {}: {error}", path.display()))?;
            }
            self.note_remote(path, digest)?;
            return Ok(Seen {
                digest: *digest,
                state: None,
            });
        };
        if crate::stat::file_digest(&Digest::of(bytes)) != *digest {
            return Err(format!(
                "its file {relative:?} does not match its BLAKE3 digest"
            ));
        }
        self.store
            .publish(path, bytes, Published::File)
            .map_err(|error| error.to_string())?;
        self.file_of_another(path, digest)
    }

    /// A file the value names, which must be here with this content (or in the remote
    /// cache only, with it).
    fn file_of_another(&self, path: &Path, digest: &Digest) -> Result<Seen, String> {
        let seen = self
            .stats
            .hash(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let seen = self.output_seen(path, digest, seen);
        if seen.digest != *digest {
            return Err(format!("{} is not the file it names", path.display()));
        }
        Ok(seen)
    }
}
