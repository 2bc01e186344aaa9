//! Racy entries settled at a run's end: a file hashed within a tick of its last change is
//! not trusted by the next run, so the files a run hashed as soon as they were written are
//! read once more before its stat cache is saved, once they are more than a tick old.

use super::{Entry, FileState, PARALLEL_FROM, RACY_NS, StatCache, hash_file, key, now_ns};
use std::path::Path;
use std::sync::atomic::Ordering;

impl StatCache {
    /// Reads again each file hashed during the run whose entry is racy (its last change
    /// within a tick of its hashing) but whose last change is now more than a tick old, so
    /// that the next run trusts the entry instead of reading the file at its start: a run
    /// that hashed its outputs as soon as they were written (a clean build) leaves no reads
    /// to the no-op after it. A file whose stat changed since is left as it is (the next run
    /// looks at it anyway); one whose bytes changed under an unchanged stat is remembered as
    /// it is now, and a record made from its earlier hash is stale on its next lookup.
    pub(crate) fn settle_racy(&self) {
        let now = now_ns();
        let mut changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        for (path, entry) in changed.iter_mut() {
            let last = entry.state.mtime_ns.max(entry.state.ctime_ns);
            let settled = entry.recorded_ns - last > RACY_NS;
            // Large files are hashed on the pool; the next run hashes them if need be.
            if settled || now - last <= RACY_NS || entry.state.size >= PARALLEL_FROM {
                continue;
            }
            if let Some(again) = rehashed(path, entry.state) {
                self.hashed.fetch_add(1, Ordering::Relaxed);
                *entry = again;
                self.entries
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key(path).into(), again);
            }
        }
    }
}

/// The entry of the file at `path` read again now, if its stat is still `state` before and
/// after the read.
fn rehashed(path: &Path, state: FileState) -> Option<Entry> {
    if FileState::read(path).ok()? != Some(state) {
        return None;
    }
    let recorded_ns = now_ns();
    let digest = hash_file(path).ok()?;
    (FileState::read(path).ok()? == Some(state)).then_some(Entry {
        state,
        recorded_ns,
        digest,
    })
}
