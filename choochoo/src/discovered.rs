//! Discovered inputs: the files, directories and environment variables a station says it
//! read while it ran ([`Ctx::read`], [`Ctx::depend`], [`Ctx::depfile`], [`Ctx::env`]).
//!
//! A station's key is made before it runs, from its declared inputs; what it finds to read
//! is known only after. So a record keeps them, each with its content hash, and a lookup
//! of the key checks them through the stat cache: a record whose discovered inputs changed
//! is stale, and the station runs again with a reason that names the input. A file that
//! changed while the station ran makes its result unrecorded, as for a declared input.

use crate::hash::{Digest, Hasher};
use crate::stat::{Entry, FileState, StatCache};
use crate::station::Ctx;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
pub(crate) fn current(stats: &StatCache, source: &Source) -> io::Result<Digest> {
    match source {
        Source::File(path) | Source::Dir(path) => stats.hash(path).map(|seen| seen.digest),
        Source::Env(name) => Ok(env_digest(std::env::var_os(name).as_deref())),
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

/// The discovered inputs of one attempt of a station, collected by its [`Ctx`].
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
    fn depend(&self, path: &Path) -> io::Result<()> {
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

    /// Reads a file and records it with the hash of the bytes read, stat-ing it before and
    /// after: a file that changed during the read is torn. A missing file is recorded as
    /// missing (creating it runs the station again) and its error returned.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
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
fn named(path: &Path, error: io::Error) -> io::Error {
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

/// Inputs a station finds while it runs.
///
/// A station that reads files it was not given — the headers a compiler opened, a file
/// named inside another — says so through these, and they count like its declared inputs:
/// they are stored with its result, with their content hashes, and checked on every lookup
/// through the stat cache. When one changes the station runs again, and the reason names
/// it (`file src/lua.h it read changed`); touching one without changing it runs nothing;
/// deleting one runs the station. A file that changes while the station runs leaves its
/// result unrecorded, and the next run computes it again.
///
/// Paths are kept as given: a relative path is relative to the program's working directory,
/// and is looked up there again on the next run, so a program run from the same directory
/// (or from another checkout of the same tree, whose files are then compared) finds them.
/// Give a depfile's compiler the program's working directory, or absolute paths.
///
/// A result with discovered inputs stays in the local store: the remote cache neither
/// uploads it nor has it to give, since its inputs are files of this machine (the stations
/// after it still share theirs).
///
/// ```
/// use choochoo::{station, workflow, Ctx, File, Runner, Status, Store};
///
/// type BoxError = Box<dyn std::error::Error + Send + Sync>;
///
/// /// Expands `include NAME` lines with the named file's text, read through `ctx`.
/// #[station]
/// fn expand(ctx: &Ctx, doc: &File) -> Result<String, BoxError> {
///     let dir = doc.path().parent().unwrap();
///     let mut out = String::new();
///     for line in std::fs::read_to_string(doc.path())?.lines() {
///         match line.strip_prefix("include ") {
///             Some(name) => out += &String::from_utf8(ctx.read(dir.join(name))?)?,
///             None => out += line,
///         }
///     }
///     Ok(out)
/// }
///
/// workflow! {
///     fn page(doc: File) -> String {
///         expand(doc)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-discovered-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("page.txt"), "include header.txt")?;
/// std::fs::write(dir.join("header.txt"), "# Title")?;
/// let store = Store::open(dir.join(".choochoo"))?;
/// let runner = Runner::new(&store);
/// let run = || runner.run(page(File::new(dir.join("page.txt"))));
/// assert_eq!(*run()?.output(), "# Title");
///
/// std::fs::write(dir.join("header.txt"), "# New title")?; // an input it found changed
/// let again = run()?;
/// assert_eq!(*again.output(), "# New title");
/// let reason = again.report().entries()[0].reason().unwrap().to_owned();
/// assert!(reason.starts_with("file ") && reason.ends_with("header.txt it read changed"));
///
/// assert_eq!(run()?.report().count(Status::Cached), 1); // nothing changed
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
impl Ctx {
    /// Reads a whole file, like [`std::fs::read`], and records it as an input of this
    /// station, with the hash of the bytes read. A file that does not exist is recorded as
    /// absent (creating it runs the station again) and its error returned.
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        self.discovery.read(path.as_ref())
    }

    /// Records a file or a directory as an input of this station without reading it here
    /// (another program reads it). A directory counts by its names and contents, as a
    /// [`Dir`](crate::Dir) does; a path where nothing is counts as absent, and creating
    /// something there runs the station again.
    pub fn depend(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.discovery.depend(path.as_ref())
    }

    /// Reads a Make-style depfile, as `cc -MD` or `-MMD`, clang and
    /// `rustc --emit=dep-info` write them, and records every prerequisite it names as an
    /// input of this station ([`depend`](Ctx::depend)). It understands continued lines,
    /// `\ ` in names, `$$`, several targets and rules, and phony rules (`-MP`); relative
    /// names are relative to the program's working directory. A file that is not a depfile
    /// is an [`InvalidData`](io::ErrorKind::InvalidData) error naming it and the line.
    ///
    /// ```no_run
    /// # use choochoo::{station, Ctx, File};
    /// # type BoxError = Box<dyn std::error::Error + Send + Sync>;
    /// #[station]
    /// fn compile(ctx: &Ctx, source: &File) -> Result<File, BoxError> {
    ///     let (object, deps) = (ctx.output("out.o")?, ctx.output("out.d")?);
    ///     let status = std::process::Command::new("cc")
    ///         .args(["-c", "-MMD", "-MF"]).arg(&deps)
    ///         .arg(source.path()).arg("-o").arg(&object)
    ///         .status()?;
    ///     if !status.success() {
    ///         return Err(format!("cc failed on {}", source.path().display()).into());
    ///     }
    ///     ctx.depfile(&deps)?; // the headers it read are inputs now
    ///     Ok(File::new(object))
    /// }
    /// ```
    pub fn depfile(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|error| named(path, error))?;
        let prerequisites = crate::depfile::prerequisites(&text).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "depfile {}, line {}: {}",
                    path.display(),
                    error.line,
                    error.message
                ),
            )
        })?;
        for prerequisite in prerequisites {
            self.discovery.depend(&prerequisite)?;
        }
        Ok(())
    }

    /// The value of an environment variable, like [`std::env::var`] (`None` when it is
    /// unset or not Unicode), recorded as an input of this station: when it changes, is set
    /// or unset, the station runs again. Only a hash of the value is stored.
    pub fn env(&self, name: &str) -> Option<String> {
        let value = std::env::var_os(name);
        self.discovery.add(Sighting {
            input: Discovered {
                source: Source::Env(name.to_owned()),
                digest: env_digest(value.as_deref()),
            },
            state: None,
            torn: false,
        });
        value.and_then(|value| value.into_string().ok())
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
