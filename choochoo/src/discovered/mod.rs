//! Discovered inputs: the files, directories and environment variables a station says it
//! read while it ran ([`Ctx::read`](crate::Ctx::read), [`depend`](crate::Ctx::depend),
//! [`depfile`](crate::Ctx::depfile), [`env`](crate::Ctx::env)).
//!
//! A station's key is made before it runs, from its declared inputs; what it finds to read
//! is known only after. So a record keeps them, each with its content hash, and a lookup
//! of the key checks them through the stat cache: a record whose discovered inputs changed
//! is stale, and the station runs again with a reason that names the input. A file that
//! changed while the station ran makes its result unrecorded, as for a declared input.
//!
//! `sighting.rs` collects what one attempt discovered and notices an input that changed
//! while it ran; `ctx.rs` is what a station calls.

mod ctx;
mod sighting;

pub(crate) use sighting::{Discovery, Sighting, changed_while_running};

use crate::hash::{Digest, Hasher};
use crate::stat::StatCache;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a station read without declaring it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// A file, or a path where there was none, as the station named it.
    File(PathBuf),
    /// A directory, whose identity is its names and contents, as a [`Dir`](crate::Dir)'s.
    Dir(PathBuf),
    /// An environment variable, whose value is kept only as a hash.
    Env(String),
}

/// A discovered input and its content hash when the station read it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Discovered {
    pub(crate) source: Source,
    pub(crate) digest: Digest,
}

/// The hash of an environment variable's value, or of its absence.
pub(crate) fn env_digest(value: Option<&OsStr>) -> Digest {
    let mut hasher = Hasher::new("choochoo/env");
    match value {
        Some(value) => hasher.field("value", value.as_encoded_bytes()),
        None => hasher.field("unset", b""),
    };
    hasher.finish()
}

/// The content hash of a discovered input now: files and directories through the stat
/// cache (an unchanged file costs one `stat`), variables from the environment.
fn current(stats: &StatCache, source: &Source) -> io::Result<Digest> {
    match source {
        Source::File(path) | Source::Dir(path) => stats.hash(path).map(|seen| seen.digest),
        Source::Env(name) => Ok(env_digest(std::env::var_os(name).as_deref())),
    }
}

/// What a run has seen of discovered inputs, so that the thousand stations that read one
/// header look at it once while nothing runs. A station that starts or ends (or a result
/// restored from the remote cache) may have written any file, so it begins a new epoch, and
/// what was seen in an earlier one is looked at again.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    epoch: AtomicU64,
    seen: Mutex<HashMap<Source, (u64, Digest)>>,
}

impl Checked {
    /// Files may have changed: what was seen before is looked at again.
    pub(crate) fn new_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The content hash of a discovered input now, as [`current`] says, seen once per epoch.
    pub(crate) fn current(&self, stats: &StatCache, source: &Source) -> io::Result<Digest> {
        // Read before looking: an epoch that begins meanwhile makes this sight an old one.
        let epoch = self.epoch.load(Ordering::Acquire);
        let known = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(source)
            .copied();
        if let Some((at, digest)) = known
            && at == epoch
        {
            return Ok(digest);
        }
        let digest = current(stats, source)?;
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source.clone(), (epoch, digest));
        Ok(digest)
    }
}

/// Why a record whose station read `discovered` cannot be used, if one of them changed:
/// `file src/lopcodes.h it read changed`. The first changed input, in the order read, is
/// named.
pub(crate) fn stale(
    discovered: &[Discovered],
    current: impl Fn(&Source) -> io::Result<Digest>,
) -> Option<String> {
    discovered.iter().find_map(|input| {
        let now = match current(&input.source) {
            Ok(now) if now == input.digest => return None,
            Ok(now) => now,
            Err(error) => return Some(format!("{} cannot be read: {error}", name(input))),
        };
        let missing = crate::stat::missing();
        Some(if now == missing {
            format!("{} was deleted", name(input))
        } else if input.digest == missing {
            format!("{} appeared", name(input))
        } else {
            format!("{} changed", name(input))
        })
    })
}

/// `file src/lua.h it read`, as a reason names an input.
fn name(input: &Discovered) -> String {
    match &input.source {
        Source::File(path) => format!("file {} it read", path.display()),
        Source::Dir(path) => format!("directory {} it read", path.display()),
        Source::Env(name) => format!("environment variable {name} it read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &[u8]) -> Discovered {
        Discovered {
            source: Source::File(PathBuf::from(path)),
            digest: Digest::of(content),
        }
    }

    #[test]
    fn an_input_is_looked_at_once_an_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.h");
        std::fs::write(&path, "1").unwrap();
        let (stats, checked) = (StatCache::default(), Checked::default());
        let source = Source::File(path.clone());
        let first = checked.current(&stats, &source).unwrap();
        std::fs::write(&path, "22").unwrap();
        assert_eq!(checked.current(&stats, &source).unwrap(), first);
        checked.new_epoch();
        assert_ne!(checked.current(&stats, &source).unwrap(), first);
    }

    #[test]
    fn the_first_changed_input_is_named() {
        let cc = Source::Env("CC".to_owned());
        let read = &[
            file("a.h", b"a"),
            file("b.h", b"b"),
            Discovered {
                source: cc.clone(),
                digest: Digest::of(b"gcc"),
            },
        ];
        let now = |changed: Vec<Source>| {
            move |source: &Source| {
                let recorded = read.iter().find(|input| input.source == *source).unwrap();
                Ok(if changed.contains(source) {
                    Digest::of(b"new")
                } else {
                    recorded.digest
                })
            }
        };
        let b = Source::File(PathBuf::from("b.h"));
        assert_eq!(stale(read, now(vec![])), None);
        assert_eq!(
            stale(read, now(vec![b, cc.clone()])).as_deref(),
            Some("file b.h it read changed")
        );
        assert_eq!(
            stale(read, now(vec![cc])).as_deref(),
            Some("environment variable CC it read changed")
        );
        let gone = |_: &Source| Ok(crate::stat::missing());
        assert_eq!(
            stale(read, gone).as_deref(),
            Some("file a.h it read was deleted")
        );
        let absent = [Discovered {
            digest: crate::stat::missing(),
            ..file("c.h", b"")
        }];
        let created = |_: &Source| Ok(Digest::of(b"c"));
        assert_eq!(
            stale(&absent, created).as_deref(),
            Some("file c.h it read appeared")
        );
    }
}
