//! The stat cache: what a file looked like (device, inode, size, mtime, ctime) when its
//! content was last hashed, so an unchanged file is recognised by one `stat` instead of being
//! read again. A file changed within the same timestamp tick as its recorded hash could keep
//! all five fields, so such a "racy" entry is never trusted: the file is hashed again.

mod racy;

use crate::hash::{Digest, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// How far apart a file's mtime and the moment it was hashed must be for the entry to be
/// trusted. File-system timestamps come from a clock that advances in ticks of at most a few
/// milliseconds on Linux; 20 ms leaves a wide margin.
const RACY_NS: i64 = 20_000_000;

/// The identity of a file's bytes as the file system reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileState {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl FileState {
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileState {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileState {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
                ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            }
        }
        #[cfg(not(unix))]
        {
            let nanos = |t: std::io::Result<SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as i64)
            };
            FileState {
                dev: 0,
                ino: 0,
                size: meta.len(),
                mtime_ns: nanos(meta.modified()),
                ctime_ns: nanos(meta.created()),
            }
        }
    }

    /// The current state of `path`, or `None` if it does not exist.
    pub(crate) fn read(path: &Path) -> std::io::Result<Option<FileState>> {
        match std::fs::metadata(path) {
            Ok(meta) => Ok(Some(FileState::of(&meta))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// One remembered hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub state: FileState,
    pub recorded_ns: i64,
    pub digest: Digest,
}

impl Entry {
    fn trusted(&self, state: &FileState) -> bool {
        self.state == *state
            && self.recorded_ns - self.state.mtime_ns.max(self.state.ctime_ns) > RACY_NS
    }
}

/// The stat cache's entries, by the bytes of a path as the run names it (hashed and compared
/// as bytes: `a//b` and `a/b` are two entries, and the second is hashed once more).
pub(crate) type Entries = foldhash::HashMap<Box<[u8]>, Entry>;

/// A path's bytes, the stat cache's key for it.
pub(crate) fn key(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

/// The stat cache of one run: loaded from the store at the start, new entries written back
/// at the end (it is only a cache: losing it costs hashing time, never correctness). Read by
/// every worker at once on a run with nothing to do.
#[derive(Debug, Default)]
pub(crate) struct StatCache {
    entries: RwLock<Entries>,
    changed: Mutex<Vec<(PathBuf, Entry)>>,
    /// How many files were read to be hashed: what the cache saves is what it avoids.
    hashed: AtomicU64,
    /// While set, a file the cache does not know unchanged is not read: its hash is an
    /// error, and `refused` says one was asked for.
    refusing: AtomicBool,
    refused: AtomicBool,
}

/// The content of a file or directory as the run saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub digest: Digest,
    /// `None` when the path did not exist.
    pub state: Option<FileState>,
}

impl StatCache {
    pub(crate) fn new(entries: Entries) -> StatCache {
        StatCache {
            entries: RwLock::new(entries),
            changed: Mutex::default(),
            hashed: AtomicU64::new(0),
            refusing: AtomicBool::new(false),
            refused: AtomicBool::new(false),
        }
    }

    /// From now on (`true`) or no longer, reads nothing: only what one `stat` tells.
    pub(crate) fn refuse_reads(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::Release);
    }

    /// Whether a hash was refused since the last call.
    pub(crate) fn take_refused(&self) -> bool {
        self.refused.swap(false, Ordering::AcqRel)
    }

    /// How many files were read and hashed so far.
    pub(crate) fn hashed(&self) -> u64 {
        self.hashed.load(Ordering::Relaxed)
    }

    /// The entries added or replaced during the run, to be saved.
    pub(crate) fn take_changed(&self) -> Vec<(PathBuf, Entry)> {
        std::mem::take(&mut *self.changed.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The content hash of the file or directory at `path`: from the cache when its stat is
    /// unchanged and not racy, by reading it otherwise. A missing path has a digest of its
    /// own, so creating the file later changes it.
    pub(crate) fn hash(&self, path: &Path) -> std::io::Result<Seen> {
        if let Some(tagged) = crate::filter::untag(path) {
            let (dir, filter) = tagged.map_err(std::io::Error::other)?;
            return self.hash_filtered(&dir, &filter);
        }
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Seen {
                    digest: missing(),
                    state: None,
                });
            }
            Err(error) => return Err(error),
        };
        if meta.file_type().is_symlink() {
            let meta = match std::fs::metadata(path) {
                Ok(meta) => meta,
                Err(_) => {
                    let target = std::fs::read_link(path)?;
                    let digest = Hasher::new("choochoo/dangling-link")
                        .field("target", target.as_os_str().as_encoded_bytes())
                        .finish();
                    return Ok(Seen {
                        digest,
                        state: None,
                    });
                }
            };
            return self.hash_with(path, &meta);
        }
        self.hash_with(path, &meta)
    }

    fn hash_with(&self, path: &Path, meta: &std::fs::Metadata) -> std::io::Result<Seen> {
        if meta.is_dir() {
            return Ok(Seen {
                digest: self.hash_dir(path)?,
                state: None,
            });
        }
        let state = FileState::of(meta);
        let cached = self
            .entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key(path))
            .copied();
        if let Some(entry) = cached.filter(|entry| entry.trusted(&state)) {
            return Ok(Seen {
                digest: entry.digest,
                state: Some(state),
            });
        }
        if self.refusing.load(Ordering::Acquire) {
            self.refused.store(true, Ordering::Release);
            return Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("{} is not read while reads are refused", path.display()),
            ));
        }
        let recorded_ns = now_ns();
        self.hashed.fetch_add(1, Ordering::Relaxed);
        let digest = hash_file(path)?;
        // Stat again: if the file changed while it was read, the digest describes neither
        // version, so it is not remembered.
        let after = FileState::read(path)?;
        if after == Some(state) {
            self.learn(
                path,
                Entry {
                    state,
                    recorded_ns,
                    digest,
                },
            );
        }
        Ok(Seen {
            digest,
            state: after,
        })
    }

    /// Remembers the digest of a file read by other means (a station's `Ctx::read`), taken
    /// at `entry.recorded_ns` while the file had `entry.state` before and after the read.
    pub(crate) fn learn(&self, path: &Path, entry: Entry) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key(path).into(), entry);
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((path.to_path_buf(), entry));
    }

    /// A directory with a filter: the files it counts, each with its relative path and
    /// content hash (see [`crate::filter`]). A path that is not a directory hashes as it is.
    fn hash_filtered(&self, dir: &Path, filter: &crate::filter::Filter) -> std::io::Result<Seen> {
        if !dir.is_dir() {
            return self.hash(dir);
        }
        let globs = crate::filter::Globs::new(dir, filter).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, error.to_string())
        })?;
        let files = crate::filter::files(dir, &globs)?;
        let digest = crate::filter::digest(&files, |path| self.hash(path).map(|seen| seen.digest))?;
        Ok(Seen {
            digest,
            state: None,
        })
    }

    /// A directory: the sorted list of its entries' names and content hashes, recursively.
    fn hash_dir(&self, path: &Path) -> std::io::Result<Digest> {
        let mut names: Vec<_> = std::fs::read_dir(path)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        let mut hasher = Hasher::new("choochoo/dir");
        for name in names {
            let seen = self.hash(&path.join(&name))?;
            hasher
                .field("name", name.as_encoded_bytes())
                .digest("content", &seen.digest);
        }
        Ok(hasher.finish())
    }
}

/// The digest of a path where nothing is: creating a file there changes it.
pub(crate) fn missing() -> Digest {
    Hasher::new("choochoo/missing").finish()
}

/// Files from this size on are hashed memory-mapped, on all the threads of the runner's pool
/// (at 8 MiB the one-thread path already took as long as 16 MiB on the pool).
const PARALLEL_FROM: u64 = 1024 * 1024;

/// The digest [`hash_file`] gives a file whose bytes have the plain BLAKE3 hash `content`.
pub(crate) fn file_digest(content: &Digest) -> Digest {
    Hasher::new("choochoo/file")
        .field("blake3", content.as_bytes())
        .finish()
}

/// Reads and hashes a whole file: in parallel from memory-mapped pages when it is large,
/// else read into one buffer of its size (most files a run hashes are small, and a fixed
/// buffer as large as the biggest read would be allocated and zeroed for each of them).
pub(crate) fn hash_file(path: &Path) -> std::io::Result<Digest> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut hasher = blake3::Hasher::new();
    if len >= PARALLEL_FROM {
        hasher.update_mmap_rayon(path)?;
    } else {
        // One more byte than the size, so that a file that grew is read to its end at once.
        let mut bytes = Vec::with_capacity(len as usize + 1);
        file.read_to_end(&mut bytes)?;
        hasher.update(&bytes);
    }
    Ok(file_digest(&Digest::from_bytes(
        *hasher.finalize().as_bytes(),
    )))
}

pub(crate) fn now_ns() -> i64 {
    unix_ns(SystemTime::now())
}

/// Nanoseconds since the Unix epoch (0 for earlier times).
pub(crate) fn unix_ns(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashes_to_its_bytes_whichever_way_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0,
            1,
            4095,
            PARALLEL_FROM as usize - 1,
            PARALLEL_FROM as usize + 7,
        ] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &bytes).unwrap();
            let expected = file_digest(&Digest::from_bytes(*blake3::hash(&bytes).as_bytes()));
            assert_eq!(hash_file(&path).unwrap(), expected, "{len} bytes");
        }
    }

    #[test]
    fn a_fresh_entry_is_racy_and_an_old_one_is_trusted() {
        let state = FileState {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: 1_000_000_000,
            ctime_ns: 1_000_000_000,
        };
        let digest = Digest::of(b"x");
        let racy = Entry {
            state,
            recorded_ns: 1_000_000_000 + 5_000_000,
            digest,
        };
        assert!(!racy.trusted(&state));
        let settled = Entry {
            state,
            recorded_ns: 1_000_000_000 + 50_000_000,
            digest,
        };
        assert!(settled.trusted(&state));
        let changed = FileState { size: 4, ..state };
        assert!(!settled.trusted(&changed));
    }

    #[test]
    fn directories_hash_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "1").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), "2").unwrap();
        let cache = StatCache::default();
        let first = cache.hash(dir.path()).unwrap().digest;
        std::fs::write(dir.path().join("sub/b"), "3").unwrap();
        let edited = cache.hash(dir.path()).unwrap().digest;
        assert_ne!(first, edited);
        std::fs::rename(dir.path().join("a"), dir.path().join("c")).unwrap();
        assert_ne!(cache.hash(dir.path()).unwrap().digest, edited);
    }
}
