//! Runs that were killed. A run holds its own file, `runs/<id>`, locked while it lives, with a
//! line for each station it starts and ends. A run the store has not seen finish whose file
//! nobody holds was interrupted: the next open of the store says so, once, with the time of
//! the file's last line and the stations that had started and not ended, and removes the
//! file.

use super::Store;
use crate::clock;
use crate::error::Error;
use rusqlite::params;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A run that was killed (or whose machine stopped) before it finished, as the next open of
/// the store found it: [`Store::interrupted_runs`].
///
/// A station that was running then runs again from the start in the next run: one that
/// changes the world must be safe to run twice (see
/// [the effects guide](crate::guide::effects)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interrupted {
    run: i64,
    profile: String,
    at: SystemTime,
    during: Vec<String>,
}

impl Interrupted {
    /// The run's id.
    pub fn run(&self) -> i64 {
        self.run
    }

    /// The run's profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// When it was last heard of: a station starting or ending, or the run starting.
    pub fn at(&self) -> SystemTime {
        self.at
    }

    /// The stations (node names) that had started and not ended, in the order they started.
    pub fn during(&self) -> &[String] {
        &self.during
    }
}

impl std::fmt::Display for Interrupted {
    /// `run 16 was interrupted at 2026-12-01 14:37:02 UTC while shop.data ran`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} was interrupted at {}",
            self.run,
            clock::utc(self.at)
        )?;
        match self.during.as_slice() {
            [] => write!(f, " while no station ran"),
            nodes => write!(f, " while {} ran", nodes.join(", ")),
        }
    }
}

/// The file of a run in flight, locked while the run lives; removed when it is dropped.
///
/// Its lines are kept and written together: at each wake of the committer (at least every
/// batch's age limit, 50 ms), and at once when a station with a check starts (it may change
/// the world) or a station starts a program ([`crate::Ctx::command`]). So a run's stations
/// cost a write each batch, not one each, and a kill names every station that was acting on
/// the world; a station that only computes and was killed within 50 ms of its start may be
/// left out (it runs again from the start either way). An end is never written before its
/// start: a kill may name a station that had just ended as running, never the other way round.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<Lines>,
}

/// The journal's file, and the lines not written yet.
#[derive(Debug)]
struct Lines {
    file: std::fs::File,
    kept: Vec<u8>,
}

impl Journal {
    fn create(path: PathBuf) -> std::io::Result<Journal> {
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
        Ok(Journal {
            path,
            file: Mutex::new(Lines { file, kept }),
        })
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
        self.file.lock().unwrap_or_else(|e| e.into_inner()).write();
    }

    fn keep(&self, sign: u8, node: &str, now: bool) {
        let mut lines = self.file.lock().unwrap_or_else(|e| e.into_inner());
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
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Store {
    pub(super) fn journal_path(&self, run: i64) -> PathBuf {
        self.dir.join("runs").join(run.to_string())
    }

    /// Records the start of a run; returns its id and its journal, locked before any other
    /// process can see the run.
    pub(crate) fn begin_run(
        &self,
        workflow: &str,
        profile: &str,
        instance: &str,
    ) -> Result<(i64, Journal), Error> {
        self.with_db("record a run in", |db| {
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO runs (workflow, profile, instance, started_ns) VALUES (?1, ?2, ?3, ?4)",
                params![workflow, profile, instance, crate::stat::now_ns()],
            )?;
            let run = tx.last_insert_rowid();
            let path = self.journal_path(run);
            let journal = match Journal::create(path.clone()) {
                Ok(journal) => journal,
                Err(error) => return Ok(Err(Error::io("create", &path, error))),
            };
            tx.commit()?;
            Ok(Ok((run, journal)))
        })?
    }

    /// Removes the row of a run that did not start (its settings were wrong): there is
    /// nothing of it to keep.
    pub(crate) fn forget_run(&self, run: i64) -> Result<(), Error> {
        self.with_db("remove a run from", |db| {
            db.execute("DELETE FROM runs WHERE id = ?1", [run])
                .map(drop)
        })
    }

    /// Finds the runs that were interrupted since the store was last opened, records them,
    /// and removes their journals.
    pub(super) fn find_interrupted(&self) -> Result<(), Error> {
        let open: Vec<(i64, String, i64)> = self.with_db("read the runs from", |db| {
            let mut stmt = db.prepare(
                "SELECT id, profile, started_ns FROM runs WHERE finished_ns IS NULL
                 AND id NOT IN (SELECT run FROM interrupted_runs)",
            )?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect()
        })?;
        for (run, _, started_ns) in open {
            let path = self.journal_path(run);
            let Some((at, during)) = dead_journal(&path, clock::from_ns(started_ns)) else {
                continue;
            };
            let at_ns = crate::stat::unix_ns(at);
            let during = serde_json::to_string(&during).unwrap_or_else(|_| "[]".into());
            self.with_db("record an interrupted run in", |db| {
                db.execute(
                    "INSERT OR IGNORE INTO interrupted_runs (run, at_ns, during) VALUES (?1, ?2, ?3)",
                    params![run, at_ns, during],
                )
            })?;
            let _ = std::fs::remove_file(&path);
        }
        Ok(())
    }

    /// The runs that were interrupted, latest first.
    pub fn interrupted_runs(&self) -> Result<Vec<Interrupted>, Error> {
        self.with_db("read the runs from", |db| {
            let mut stmt = db.prepare(
                "SELECT i.run, r.profile, i.at_ns, i.during FROM interrupted_runs i
                 JOIN runs r ON r.id = i.run ORDER BY i.run DESC",
            )?;
            stmt.query_map([], |row| {
                let during: String = row.get(3)?;
                Ok(Interrupted {
                    run: row.get(0)?,
                    profile: row.get(1)?,
                    at: clock::from_ns(row.get(2)?),
                    during: serde_json::from_str(&during).unwrap_or_default(),
                })
            })?
            .collect()
        })
    }
}

/// When a run whose journal is at `path` was last heard of, and what it was running, if
/// nobody holds the journal; `None` while its run lives. A run without a journal (begun by a
/// choochoo that kept none) was last heard of when it `started`.
fn dead_journal(path: &Path, started: SystemTime) -> Option<(SystemTime, Vec<String>)> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(_) => return Some((started, Vec::new())),
    };
    if file.try_lock().is_err() {
        return None;
    }
    let at = file
        .metadata()
        .and_then(|meta| meta.modified())
        .unwrap_or(started);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Some((at, unfinished(&text)))
}

/// The nodes a journal's lines started and did not end, in the order they started.
fn unfinished(text: &str) -> Vec<String> {
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
    use super::unfinished;

    #[test]
    fn lines_wait_for_a_write_unless_a_start_is_written_now() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs").join("1");
        let journal = super::Journal::create(path.clone()).unwrap();
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
}
