//! The remote cache in a run: a station missing from the local store is looked up remotely
//! before it runs, and a station that ran is uploaded (when writes are on). See
//! [`crate::remote`] for the protocol and the portable form of values.

use super::{Execution, Outcome};
use crate::error::{Error, chain};
use crate::graph::Kind;
use crate::graph::edge::Edge;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo::{self, Content, Head};
use crate::remote::download::Download;
use crate::remote::wire::{self, Blob, Manifest, Source, WireDigest};
use crate::remote::{Cache, Pending};
use crate::report::Status;
use crate::stat::Seen;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A run's use of the remote cache.
pub(crate) struct Remote {
    cache: Arc<Cache>,
    /// Each node's portable content digest, once known.
    portable: Vec<OnceLock<Digest>>,
    /// Lookups started before their station's turn.
    pending: Mutex<HashMap<NodeId, Pending>>,
    /// The workflow's outputs, by node index: what `outputs` downloads.
    wanted: Vec<bool>,
}

impl Remote {
    pub(crate) fn new(cache: Arc<Cache>, nodes: usize) -> Remote {
        Remote {
            cache,
            portable: (0..nodes).map(|_| OnceLock::new()).collect(),
            pending: Mutex::default(),
            wanted: vec![false; nodes],
        }
    }
}

impl Execution<'_> {
    fn remote_cache(&self) -> Option<&Remote> {
        self.remote.as_ref()
    }

    /// Names the workflow's outputs, whose files `--remote-download=outputs` downloads.
    pub(crate) fn want(&mut self, outputs: &[NodeId]) {
        if let Some(remote) = &mut self.remote {
            for id in outputs {
                remote.wanted[id.index()] = true;
            }
        }
    }

    /// Whether a remote hit of node `id` comes with its files' bytes.
    fn wants_bytes(&self, remote: &Remote, id: NodeId) -> bool {
        match remote.cache.download() {
            Download::All => true,
            Download::Outputs => remote.wanted[id.index()],
            Download::Minimal => false,
        }
    }

    /// The store's `work/` directory: paths under it travel relative to it.
    pub(super) fn work_root(&self) -> PathBuf {
        self.store.dir().join("work")
    }

    /// Whether a station may take a remote result: not one that changes the world outside
    /// the store (a check or a clean), and not a map (its items are remembered locally).
    fn shareable(&self, id: NodeId, station: &dyn ErasedStation) -> bool {
        !station.has_check() && !station.has_clean() && self.graph.node(id).map().is_none()
    }

    /// Starts the remote lookups of the stations ready at the start that the local store
    /// does not have, all at once, so a cold store against a warm remote costs round trips
    /// in parallel rather than one after the other.
    pub(super) fn prefetch(&self, ready: &[NodeId]) {
        let Some(remote) = self.remote_cache() else {
            return;
        };
        for &id in ready {
            let Kind::Station { station, inputs } = &self.graph.node(id).kind else {
                continue;
            };
            if self.is_forced(id) || !self.shareable(id, station.as_ref()) {
                continue;
            }
            let Ok(head) = self.head(id, station.as_ref(), inputs) else {
                continue;
            };
            // Only a probe: the record becomes the node's result in `decide`, if it is used.
            let local = self.find(&self.paths[id.index()], &head.key, false);
            if !matches!(local, super::lookup::Lookup::Miss) {
                continue;
            }
            let Ok(action) = self.action(id, station.as_ref(), inputs) else {
                continue;
            };
            let bytes = self.wants_bytes(remote, id);
            if let Some(pending) = remote.cache.lookup(&self.paths[id.index()], action, bytes) {
                remote
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, pending);
            }
        }
    }

    /// A station's result from the remote cache, verified, written into its directory and
    /// recorded locally; `None` when there is none to use.
    pub(super) fn fetch_remote(
        &self,
        id: NodeId,
        station: &dyn ErasedStation,
        inputs: &[Edge],
        mut head: Head,
    ) -> Option<Outcome> {
        let remote = self.remote_cache()?;
        if !self.shareable(id, station) {
            return None;
        }
        let path = &self.paths[id.index()];
        let pending = remote
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        let pending = match pending {
            Some(pending) => pending,
            None => {
                let action = self.action(id, station, inputs).ok()?;
                remote
                    .cache
                    .lookup(path, action, self.wants_bytes(remote, id))?
            }
        };
        let download = remote.cache.wait(pending)?;
        // Restoring writes files, which discovered inputs may name.
        self.checked.new_epoch();
        let restored = self.restore(id, download);
        self.checked.new_epoch();
        let (value, content, encoded, portable) = match restored {
            Ok(restored) => restored,
            Err(why) => {
                remote.cache.rejected(path, &why);
                return None;
            }
        };
        head.values = self.input_values(inputs);
        // The value is verified; a store that cannot keep it only costs the next run a
        // lookup, as it would cost a computation.
        let produced = super::commit::Produced {
            content: &content,
            encoded: &encoded,
            discovered: &[],
        };
        if let Err(error) = self.record(
            station.id(),
            path,
            &head,
            &produced,
            std::time::Duration::ZERO,
        ) {
            self.warn(format!(
                "the remote result of `{path}` was used but not recorded: {}",
                chain(&error)
            ));
        }
        let _ = remote.portable[id.index()].set(portable);
        let _ = self.contents[id.index()].set(content);
        let _ = self.values[id.index()].set(value);
        let mut outcome = Outcome::not_run(Status::Cached);
        outcome.reason = Some(crate::memo::Reason::Borrowed("from the remote cache"));
        Some(outcome)
    }

    /// Uploads a station's result, when writes are on and the result can be shared.
    pub(super) fn share_remote(
        &self,
        id: NodeId,
        station: &dyn ErasedStation,
        inputs: &[Edge],
        content: &Content,
    ) {
        let Some(remote) = self.remote_cache() else {
            return;
        };
        if !remote.cache.writes() || !self.shareable(id, station) {
            return;
        }
        let path = &self.paths[id.index()];
        let upload = self
            .action(id, station, inputs)
            .map_err(|error| chain(&error))
            .and_then(|action| self.upload(id, action, content));
        match upload {
            Ok(upload) => remote.cache.upload(path, upload),
            Err(why) => tracing::debug!("the result of `{path}` is not shared: {why}"),
        }
    }

    /// What to upload for a node: its manifest and its files. A file whose SHA-256 the
    /// store knows is read only if the server lacks it; any other is read now, checked
    /// against the digest the run recorded, and its SHA-256 remembered.
    fn upload(
        &self,
        id: NodeId,
        action: WireDigest,
        content: &Content,
    ) -> Result<wire::Upload, String> {
        let work = self.work_root();
        let node = self.graph.node(id);
        let value = self.value(id).map_err(|error| chain(&error))?;
        let (encoding, _) = crate::file::portable(&work, || (node.codec.encode)(value))
            .map_err(|error| chain(&error))?;
        let mut files = Vec::new();
        let mut blobs = Vec::new();
        for (path, seen) in &content.files {
            let relative = path
                .strip_prefix(&work)
                .ok()
                .and_then(Path::to_str)
                .ok_or_else(|| {
                    format!("{} is outside the store's work directory", path.display())
                })?;
            if crate::filter::real(path).is_dir() {
                return Err(format!("{} is a directory", crate::filter::shown(path)));
            }
            let (digest, source) = match self.known_sha256(&seen.digest) {
                Some(digest) => (digest, Source::File(path.clone())),
                None => {
                    let bytes = std::fs::read(path)
                        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
                    if crate::stat::file_digest(&Digest::of(&bytes)) != seen.digest {
                        return Err(format!("{} changed since it was hashed", path.display()));
                    }
                    let digest = wire::sha256(&bytes);
                    self.remember_sha256(&seen.digest, &digest);
                    (digest, Source::Bytes(bytes))
                }
            };
            files.push((relative.to_owned(), seen.digest));
            blobs.push(Blob {
                path: format!("{}{relative}", wire::WORK),
                digest,
                source,
            });
        }
        let manifest = postcard::to_stdvec(&Manifest { encoding, files })
            .map_err(|error| error.to_string())?;
        blobs.push(Blob {
            path: wire::VALUE.to_owned(),
            digest: wire::sha256(&manifest),
            source: Source::Bytes(manifest),
        });
        Ok(wire::Upload { action, blobs })
    }

    /// The SHA-256 digest of the file content whose BLAKE3 identity is `blake3`, if the
    /// store has met it. A failure to read it is only logged: it costs reading the file.
    fn known_sha256(&self, blake3: &Digest) -> Option<WireDigest> {
        self.store
            .known_sha256(blake3)
            .inspect_err(|error| tracing::debug!("{}", chain(error)))
            .ok()
            .flatten()
    }

    /// Remembers the SHA-256 digest of a file content (checked before it is remembered); a
    /// failure is only logged, as nothing depends on it.
    pub(super) fn remember_sha256(&self, blake3: &Digest, sha256: &WireDigest) {
        if let Err(error) = self.store.remember_sha256(blake3, sha256) {
            tracing::debug!("{}", chain(&error));
        }
    }

    /// The wire digest of a station's Action: its key, made of portable input digests.
    fn action(
        &self,
        id: NodeId,
        station: &dyn ErasedStation,
        inputs: &[Edge],
    ) -> Result<WireDigest, Error> {
        let inputs = super::values::edge_digests(inputs, |source| self.portable(source))?;
        Ok(wire::action_digest(&wire::Key {
            station: station.id(),
            fingerprint: &station.fingerprint(),
            output_type: (self.graph.node(id).codec.type_name)(),
            profile: &self.settings.profile,
            inputs: &inputs,
        }))
    }

    /// A node's content digest in the portable form: its encoding with paths under `work/`
    /// relative to it, and the content of its files.
    fn portable(&self, id: NodeId) -> Result<Digest, Error> {
        let remote = self
            .remote_cache()
            .ok_or_else(|| Error::internal("no remote cache"))?;
        if let Some(digest) = remote.portable[id.index()].get() {
            return Ok(*digest);
        }
        let node = self.graph.node(id);
        let value = self.value(id)?;
        let (encoded, paths) =
            self.keyed(|| crate::file::portable(&self.work_root(), || (node.codec.encode)(value)))?;
        // A node's content names its files as they were when it settled, including those
        // in the remote cache only, which hashing again would find missing.
        let files: Vec<(PathBuf, Seen)> = match self.contents[id.index()].get() {
            Some(content) if content.files.len() == paths.len() => content.files.to_vec(),
            _ => self.hash_files(paths)?,
        };
        let digest = memo::portable(&encoded, files.iter().map(|(_, seen)| &seen.digest));
        Ok(*remote.portable[id.index()].get_or_init(|| digest))
    }

    /// The warnings of the remote cache, once its uploads are done.
    pub(super) fn finish_remote(&self) -> Vec<String> {
        self.remote_cache()
            .map(|remote| remote.cache.finish())
            .unwrap_or_default()
    }
}
