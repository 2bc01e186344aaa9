//! A run's journal: its own file in `runs/`, locked while the run lives, with a line for each
//! station it starts and ends. It is made before the run's first station starts, under a
//! name of its own (`runs/new.<pid>.<n>`), and named by the run's id (`runs/<id>`) once the
//! run is recorded, in the transaction that records it; `interrupted.rs` reads what a killed
//! run's journal says.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How the name of a journal not yet named by its run's id begins.
pub(super) const UNNAMED: &str = "new.";

/// The file of a run in flight, locked while the run lives; removed when it is dropped.
///
/// Its lines are kept and written together: at each wake of the committer (at least every
/// batch's age limit, 50 ms), and at once when a station with a check starts (it may change
/// the world) or a station starts a program ([`crate::Ctx::command`]). So a run's stations
/// cost a write each batch, not one each, and a kill names every station that was acting on
/// the world; a station that only computes and was killed within 50 ms of its start may be
/// left out (it runs again from the start either way). An end is never written before its
/// start: a kill may name a station that had just ended as running, never the other way round.
///
/// A journal made before its run is recorded is named by the run's id when it is; a line
/// written at once waits for that (or for the run to be given up), so that a station about
/// to act on the world is named in a journal the next open of the store reads.
#[derive(Debug)]
pub(crate) struct Journal {
    file: Mutex<Lines>,
    /// Rung when the journal is named, or its run given up.
    named: Condvar,
}

/// The journal's file, where it is, and the lines not written yet.
#[derive(Debug)]
struct Lines {
    path: PathBuf,
    file: std::fs::File,
    kept: Vec<u8>,
    /// Whether lines written at once may be written: the journal has its run's name, or
    /// the run was given up.
    named: bool,
}

impl Journal {
    /// A new journal in `runs`, named for now by this process and a count.
    pub(super) fn unnamed(runs: &Path) -> std::io::Result<Journal> {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let journal = Journal::create(runs.join(format!("{UNNAMED}{}.{n}", std::process::id())))?;
        journal.lines().named = false;
        Ok(journal)
    }

    pub(super) fn create(path: PathBuf) -> std::io::Result<Journal> {
        if let Some(parent) = path.parent() {
            crate::privacy::create_dir_all(parent)?;
        }
        let file = crate::privacy::open_options()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        file.lock()?;
        let kept = Vec::new();
        let named = true;
        Ok(Journal {
            file: Mutex::new(Lines {
                path,
                file,
                kept,
                named,
            }),
            named: Condvar::new(),
        })
    }

    fn lines(&self) -> MutexGuard<'_, Lines> {
        self.file.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the journal to `path` (its run's name), still locked.
    pub(super) fn rename(&self, path: PathBuf) -> std::io::Result<()> {
        let mut lines = self.lines();
        std::fs::rename(&lines.path, &path)?;
        lines.path = path;
        lines.named = true;
        self.named.notify_all();
        Ok(())
    }

    /// The run could not be recorded: lines written at once wait no more.
    pub(crate) fn give_up(&self) {
        self.lines().named = true;
        self.named.notify_all();
    }

    /// Notes that `node` started; `now`: written at once, with the lines kept before it.
    pub(crate) fn start(&self, node: &str, now: bool) {
        self.keep(b'+', node, now);
    }

    /// Notes that `node` ended, for the next write.
    pub(crate) fn end(&self, node: &str) {
        self.keep(b'-', node, false);
    }

    /// Writes the lines kept. A line that cannot be written only makes an interruption less
    /// precise: the run goes on.
    pub(crate) fn write(&self) {
        self.lines().write();
    }

    /// Writes the lines kept, once the journal is named: a station is about to act.
    pub(crate) fn write_now(&self) {
        self.named_lines().write();
    }

    /// The lines, once the journal is named (or its run given up).
    fn named_lines(&self) -> MutexGuard<'_, Lines> {
        let lines = self.lines();
        self.named
            .wait_while(lines, |lines| !lines.named)
            .unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, sign: u8, node: &str, now: bool) {
        let mut lines = if now {
            self.named_lines()
        } else {
            self.lines()
        };
        lines.kept.push(sign);
        let _ = serde_json::to_writer(&mut lines.kept, node);
        lines.kept.push(b'\n');
        if now {
            lines.write();
        }
    }
}

impl Lines {
    fn write(&mut self) {
        if !self.kept.is_empty() {
            let _ = self.file.write_all(&self.kept);
            self.kept.clear();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let lines = self.file.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = std::fs::remove_file(&lines.path);
    }
}

/// How old an unnamed journal nobody holds must be to be removed: one just made is not
/// locked yet.
const UNNAMED_LEFT: Duration = Duration::from_secs(60);

/// Removes the journals in `runs` that were never named by a run's id, that nobody holds
/// and that were last written a minute ago or more: their runs were killed before they were
/// recorded, so there is nothing to say of them.
pub(super) fn remove_unnamed(runs: &Path) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return;
    };
    for entry in entries.flatten() {
        let unnamed = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(UNNAMED));
        if unnamed && left(&entry.path()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether the journal at `path` is old enough, and nobody holds it.
fn left(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let age = file.metadata().and_then(|meta| meta.modified()).ok();
    let old = age
        .and_then(|at| at.elapsed().ok())
        .is_some_and(|age| age >= UNNAMED_LEFT);
    old && file.try_lock().is_ok()
}

/// The nodes a journal's lines started and did not end, in the order they started.
pub(super) fn unfinished(text: &str) -> Vec<String> {
    let mut order = Vec::new();
    let mut running = BTreeSet::new();
    for (started, node) in journal_lines(text) {
        if started {
            running.insert(node.clone());
            order.push(node);
        } else {
            running.remove(&node);
        }
    }
    order.retain(|node| running.remove(node));
    order
}

/// A journal's whole lines: whether each notes a start (`true`) or an end, and its node. A
/// torn last line (the run is writing it, or was killed while it did) is left out.
pub(super) fn journal_lines(text: &str) -> impl Iterator<Item = (bool, String)> + '_ {
    text.lines().filter_map(|line| {
        let (started, node) = match line.split_at_checked(1) {
            Some(("+", node)) => (true, node),
            Some(("-", node)) => (false, node),
            _ => return None,
        };
        serde_json::from_str::<String>(node)
            .ok()
            .map(|node| (started, node))
    })
}

#[cfg(test)]
mod tests {
    use super::{Journal, remove_unnamed, unfinished};
    use std::time::SystemTime;

    #[test]
    fn lines_wait_for_a_write_unless_a_start_is_written_now() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs").join("1");
        let journal = Journal::create(path.clone()).unwrap();
        let read = || std::fs::read_to_string(&path).unwrap();
        journal.start("a", false);
        journal.end("a");
        journal.start("b", false);
        assert_eq!(read(), "", "the lines wait");
        journal.write();
        assert_eq!(read(), "+\"a\"\n-\"a\"\n+\"b\"\n");
        journal.end("b");
        journal.start("c", true);
        let now = "+\"a\"\n-\"a\"\n+\"b\"\n-\"b\"\n+\"c\"\n";
        assert_eq!(read(), now, "a start written now takes what was kept");
        journal.end("c");
        assert_eq!(read(), now);
        journal.write();
        assert_eq!(unfinished(&read()), Vec::<String>::new());
    }

    #[test]
    fn a_journal_keeps_what_started_and_did_not_end_in_order() {
        let text = "+\"b\"\n+\"a\"\n-\"b\"\n+\"c\"\n+\"objects[src/x.c]\"\n-\"c\"\n+\"torn";
        assert_eq!(unfinished(text), ["a", "objects[src/x.c]"]);
        assert!(unfinished("+\"a\"\n-\"a\"\n").is_empty());
    }

    #[test]
    fn a_journal_named_by_its_run_keeps_its_lines_and_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        let journal = std::sync::Arc::new(Journal::unnamed(&runs).unwrap());
        journal.start("a", false);
        let held = Journal::unnamed(&runs).unwrap();
        // A line written at once waits for the journal's name.
        let acting = {
            let journal = journal.clone();
            std::thread::spawn(move || journal.start("b", true))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!acting.is_finished(), "waits while the journal is unnamed");
        let named = runs.join("7");
        journal.rename(named.clone()).unwrap();
        acting.join().unwrap();
        assert_eq!(std::fs::read_to_string(&named).unwrap(), "+\"a\"\n+\"b\"\n");
        let file = std::fs::File::open(&named).unwrap();
        assert!(file.try_lock().is_err(), "still locked once named");
        // An unnamed journal nobody holds is removed once a minute old; a new one stays
        // (it is locked just after it is made), and one held or named stays.
        let dead = runs.join(format!("{}1.0", super::UNNAMED));
        std::fs::write(&dead, "+\"x\"\n").unwrap();
        remove_unnamed(&runs);
        assert!(dead.exists(), "a new one stays");
        let file = std::fs::File::options().write(true).open(&dead).unwrap();
        let old = SystemTime::now() - super::UNNAMED_LEFT;
        file.set_modified(old).unwrap();
        drop(file);
        remove_unnamed(&runs);
        let left: Vec<_> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.contains(&"7".to_owned()), "{left:?}");
        assert!(!dead.exists(), "{left:?}");
        let given_up = Journal::unnamed(&runs).unwrap();
        given_up.give_up();
        given_up.start("c", true);
        drop((journal, held, given_up));
        assert_eq!(
            std::fs::read_dir(&runs).unwrap().count(),
            0,
            "dropped: removed"
        );
    }
}
