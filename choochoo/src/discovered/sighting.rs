//! What one attempt of a station discovered, as it met each input: its content hash, and
//! what the file looked like then, to notice an edit before the result is recorded.

use super::{Discovered, Source, env_digest};
use crate::hash::Digest;
use crate::stat::{Entry, FileState, StatCache};
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One discovered input as the running station met it.
#[derive(Debug)]
pub(crate) struct Sighting {
    pub(crate) input: Discovered,
    /// A file's state when it was hashed (`None` for a directory, a variable, or a path
    /// where nothing was), to notice an edit before the result is recorded.
    state: Option<FileState>,
    /// Whether it was seen changing: during its read, or with two contents in one run.
    torn: bool,
}

/// The discovered inputs of one attempt of a station, collected by its [`Ctx`](crate::Ctx).
#[derive(Debug)]
pub(crate) struct Discovery {
    stats: Arc<StatCache>,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    sightings: Vec<Sighting>,
    /// Each source's place in `sightings`, so an input read twice is kept once.
    index: HashMap<Source, usize>,
}

impl Discovery {
    pub(crate) fn new(stats: Arc<StatCache>) -> Discovery {
        Discovery {
            stats,
            seen: Mutex::default(),
        }
    }

    /// What the attempt discovered, in the order it was first met.
    pub(crate) fn take(&self) -> Vec<Sighting> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.index.clear();
        std::mem::take(&mut seen.sightings)
    }

    fn add(&self, sighting: Sighting) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let Seen { sightings, index } = &mut *seen;
        match index.get(&sighting.input.source) {
            Some(&at) => {
                let first = &mut sightings[at];
                first.torn |= sighting.torn || first.input.digest != sighting.input.digest;
            }
            None => {
                index.insert(sighting.input.source.clone(), sightings.len());
                sightings.push(sighting);
            }
        }
    }

    /// A file or directory, hashed through the stat cache.
    pub(super) fn depend(&self, path: &Path) -> io::Result<()> {
        let seen = self.stats.hash(path).map_err(|error| named(path, error))?;
        let source = if seen.state.is_none() && path.is_dir() {
            Source::Dir(path.to_path_buf())
        } else {
            Source::File(path.to_path_buf())
        };
        self.add(Sighting {
            input: Discovered {
                source,
                digest: seen.digest,
            },
            state: seen.state,
            torn: false,
        });
        Ok(())
    }

    /// An environment variable's value, recorded by its hash.
    pub(super) fn env(&self, name: &str) -> Option<std::ffi::OsString> {
        let value = std::env::var_os(name);
        self.add(Sighting {
            input: Discovered {
                source: Source::Env(name.to_owned()),
                digest: env_digest(value.as_deref()),
            },
            state: None,
            torn: false,
        });
        value
    }

    /// Reads a file and records it with the hash of the bytes read, stat-ing it before and
    /// after: a file that changed during the read is torn. A missing file is recorded as
    /// missing (creating it runs the station again) and its error returned.
    pub(super) fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let recorded_ns = crate::stat::now_ns();
        let before = FileState::read(path)?;
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                self.depend(path)?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let after = FileState::read(path)?;
        let digest = crate::stat::file_digest(&Digest::of(&bytes));
        let torn = before != after || after.is_none();
        if let (false, Some(state)) = (torn, after) {
            let entry = Entry {
                state,
                recorded_ns,
                digest,
            };
            self.stats.learn(path, entry);
        }
        self.add(Sighting {
            input: Discovered {
                source: Source::File(path.to_path_buf()),
                digest,
            },
            state: after,
            torn,
        });
        Ok(bytes)
    }
}

/// An I/O error that says which path it is about.
pub(super) fn named(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// The first discovered input that changed since the station met it (a file edited, created
/// or deleted, or one seen changing): its result must not be recorded as fresh.
pub(crate) fn changed_while_running(sightings: &[Sighting]) -> Option<String> {
    sightings.iter().find_map(|sighting| {
        let (Source::File(path) | Source::Dir(path)) = &sighting.input.source else {
            return None;
        };
        let changed = sighting.torn
            || (matches!(sighting.input.source, Source::File(_))
                && FileState::read(path).ok().flatten() != sighting.state);
        changed.then(|| path.display().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_read_with_two_contents_is_torn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, "1").unwrap();
        let discovery = Discovery::new(Arc::default());
        discovery.read(&path).unwrap();
        discovery.read(&path).unwrap();
        assert_eq!(changed_while_running(&discovery.take()), None);
        discovery.read(&path).unwrap();
        std::fs::write(&path, "22").unwrap();
        discovery.read(&path).unwrap();
        let sightings = discovery.take();
        assert_eq!(sightings.len(), 1, "read twice, kept once");
        assert!(changed_while_running(&sightings).is_some());
    }

    #[test]
    fn a_missing_file_is_recorded_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later");
        let discovery = Discovery::new(Arc::default());
        let error = discovery.read(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        let sightings = discovery.take();
        assert_eq!(sightings[0].input.digest, crate::stat::missing());
        std::fs::write(&path, "now").unwrap();
        assert!(changed_while_running(&sightings).is_some());
    }
}
