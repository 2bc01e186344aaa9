//! Changes to the files a watch looks at, as the operating system reports them (`notify`:
//! inotify on Linux). A file is watched through its directory, so an editor that saves by
//! writing a new file and renaming it over the old one is seen; a directory is watched
//! with everything under it. Reads and metadata changes (a `touch`) are not changes: a file
//! counts by its content. A burst of saves is one change: after the first, changes are
//! gathered until none has come for [`QUIET`].

use super::watched::Watched;
use crate::error::Error;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long no change must come for a burst of changes to be over.
const QUIET: Duration = Duration::from_millis(200);
/// The longest a burst is waited for: a file written on and on still runs the workflow.
const LONGEST: Duration = Duration::from_secs(2);
/// How often a wait looks whether Ctrl-C was pressed.
const TICK: Duration = Duration::from_millis(50);

/// The files and directories watched, and the changes seen to them.
pub(crate) struct Changes {
    watcher: notify::RecommendedWatcher,
    events: Receiver<notify::Result<Event>>,
    watched: Watched,
    /// The directories given to the watcher, and whether with everything under them.
    dirs: BTreeMap<PathBuf, bool>,
}

impl Changes {
    /// A watcher with nothing watched yet.
    pub(crate) fn new() -> Result<Changes, Error> {
        let (sender, events) = channel();
        let watcher = notify::recommended_watcher(sender)
            .map_err(|error| Error::usage(problem(Path::new("files"), error)))?;
        Ok(Changes {
            watcher,
            events,
            watched: Watched::new(),
            dirs: BTreeMap::new(),
        })
    }

    /// Watches `watched` from now on (and still the directories watched before).
    pub(crate) fn watch(&mut self, watched: Watched) -> Result<(), Error> {
        for (path, whole) in &watched {
            let (dir, recursive) = match (whole, path.is_dir()) {
                (true, true) => (path.clone(), true),
                _ => (existing_parent(path), false),
            };
            if self.dirs.get(&dir).is_some_and(|had| *had || !recursive) {
                continue;
            }
            let mode = match recursive {
                true => RecursiveMode::Recursive,
                false => RecursiveMode::NonRecursive,
            };
            self.watcher
                .watch(&dir, mode)
                .map_err(|error| Error::usage(problem(&dir, error)))?;
            self.dirs.insert(dir, recursive);
        }
        self.watched = watched;
        Ok(())
    }

    /// How many files and directories are watched.
    #[cfg_attr(
        not(feature = "cli"),
        allow(dead_code, reason = "the command line says it")
    )]
    pub(crate) fn len(&self) -> usize {
        self.watched.len()
    }

    /// The watched paths changed since the last look, without waiting.
    pub(crate) fn seen(&mut self) -> Result<BTreeSet<PathBuf>, Error> {
        let mut changed = BTreeSet::new();
        while let Ok(event) = self.events.try_recv() {
            self.note(event, &mut changed)?;
        }
        Ok(changed)
    }

    /// Waits for a change to a watched path (none if `changed` has some already), then for
    /// the burst to be over; the paths changed. `None`: `stop` said to stop first.
    pub(crate) fn wait(
        &mut self,
        mut changed: BTreeSet<PathBuf>,
        stop: impl Fn() -> bool,
    ) -> Result<Option<BTreeSet<PathBuf>>, Error> {
        while changed.is_empty() {
            if stop() {
                return Ok(None);
            }
            match self.events.recv_timeout(TICK) {
                Ok(event) => self.note(event, &mut changed)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
        let started = Instant::now();
        let mut last = Instant::now();
        while last.elapsed() < QUIET && started.elapsed() < LONGEST {
            if stop() {
                return Ok(None);
            }
            if let Ok(event) = self.events.recv_timeout(TICK) {
                let before = changed.len();
                self.note(event, &mut changed)?;
                if changed.len() > before {
                    last = Instant::now();
                }
            }
        }
        Ok(Some(changed))
    }

    /// Adds the watched paths `event` changed to `changed`.
    fn note(
        &self,
        event: notify::Result<Event>,
        changed: &mut BTreeSet<PathBuf>,
    ) -> Result<(), Error> {
        let event = event.map_err(|error| {
            let path = error.paths.first().cloned().unwrap_or_default();
            Error::usage(problem(&path, error))
        })?;
        if !is_change(&event.kind) {
            return Ok(());
        }
        for path in event.paths {
            if self.is_watched(&path) {
                changed.insert(path);
            }
        }
        Ok(())
    }

    fn is_watched(&self, path: &Path) -> bool {
        self.watched.contains_key(path)
            || path
                .ancestors()
                .skip(1)
                .any(|dir| self.watched.get(dir) == Some(&true))
    }
}

/// Whether an event can change what a file holds: not a read, an open or a `touch`.
fn is_change(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// The directory to watch for `path`: its parent, or the nearest one that exists.
fn existing_parent(path: &Path) -> PathBuf {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.is_dir())
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// What went wrong watching `path`, and for the system's limits, which one and how to raise
/// it.
pub(crate) fn problem(path: &Path, error: notify::Error) -> String {
    let at = path.display();
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => format!(
            "cannot watch {at}: the system's limit of inotify watches is reached; raise \
             fs.inotify.max_user_watches (`sysctl fs.inotify.max_user_watches=524288`, and \
             in /etc/sysctl.conf to keep it)"
        ),
        // EMFILE: the limit of inotify instances, not of watches.
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(24) => format!(
            "cannot watch {at}: too many inotify instances are open; raise \
             fs.inotify.max_user_instances (`sysctl fs.inotify.max_user_instances=1024`)"
        ),
        _ => format!("cannot watch {at}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_limit_is_named_with_how_to_raise_it() {
        let full = notify::Error::new(notify::ErrorKind::MaxFilesWatch);
        let message = problem(Path::new("src"), full);
        assert!(message.starts_with("cannot watch src: "), "{message}");
        assert!(message.contains("fs.inotify.max_user_watches"), "{message}");
        let instances = notify::Error::io(std::io::Error::from_raw_os_error(24));
        assert!(problem(Path::new("src"), instances).contains("fs.inotify.max_user_instances"));
    }

    #[test]
    fn a_file_is_watched_by_its_content_and_a_directory_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("doc.txt");
        let tree = dir.path().join("src");
        std::fs::create_dir(&tree).unwrap();
        let mut changes = Changes::new().unwrap();
        let watched = [(file.clone(), false), (tree.clone(), true)]
            .into_iter()
            .collect();
        changes.watch(watched).unwrap();
        assert!(changes.is_watched(&file));
        assert!(changes.is_watched(&tree.join("deep/main.c")));
        assert!(!changes.is_watched(&dir.path().join("other.txt")));

        std::fs::write(&file, "one").unwrap();
        std::fs::write(dir.path().join("other.txt"), "not watched").unwrap();
        let seen = changes.wait(BTreeSet::new(), || false).unwrap().unwrap();
        assert_eq!(seen, [file.clone()].into_iter().collect());
        let _ = std::fs::read(&file).unwrap();
        std::thread::sleep(QUIET);
        assert!(changes.seen().unwrap().is_empty(), "a read is no change");
    }
}
