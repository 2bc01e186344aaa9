//! Helpers shared by the integration tests.

use std::io::Write;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Set to `1` (as `.ci/run` does), it makes a tool a test needs from the machine (a server,
/// a browser) a requirement: when it is missing the test fails instead of skipping.
pub const REQUIRE_SERVERS: &str = "CHOOCHOO_REQUIRE_SERVERS";

/// What a test does when `tool`, which it needs from the machine, is missing (`why`, and
/// `install` says how to get it); the caller returns right after.
///
/// With `CHOOCHOO_REQUIRE_SERVERS=1` this is a failure naming the tool and how to install
/// it. Otherwise the test passes, and says it skipped on standard error itself: libtest
/// captures `println!` and `eprintln!` of a passing test, not writes to the stderr handle,
/// so the line shows in a plain `cargo test`.
pub fn skip(tool: &str, why: &str, install: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if std::env::var_os(REQUIRE_SERVERS).is_some_and(|value| value == "1") {
        panic!("{test} needs {tool}, and {why}: {install} ({REQUIRE_SERVERS}=1 is set)");
    }
    let line = format!("skipped {test}: it needs {tool}, and {why}: {install}\n");
    // Ignored if standard error is closed: the skip still happens.
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A fresh store in its own temporary directory (removed when dropped).
pub struct TempStore {
    #[allow(dead_code, reason = "kept alive so the directory outlives the store")]
    pub dir: tempfile::TempDir,
    pub store: choochoo::Store,
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let store = choochoo::Store::open(dir.path().join(".choochoo")).expect("open the store");
    TempStore { dir, store }
}

/// A meeting point for `n` threads that gives up after a timeout instead of hanging, so a
/// test proving overlap fails cleanly when the stations do not run concurrently.
pub struct Rendezvous {
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Rendezvous {
    pub const fn new() -> Rendezvous {
        Rendezvous {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        }
    }

    /// Arrives and waits until `n` have arrived; `false` if that took longer than `timeout`.
    pub fn meet(&self, n: usize, timeout: Duration) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (arrived, result) = self
            .all_here
            .wait_timeout_while(arrived, timeout, |count| *count < n)
            .unwrap();
        drop(arrived);
        !result.timed_out()
    }
}

/// Waits until `condition` holds, polling; `false` after `timeout`.
pub fn wait_until(timeout: Duration, condition: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    condition()
}

static SERIAL: Mutex<()> = Mutex::new(());
static COUNTS: Mutex<std::collections::BTreeMap<&'static str, usize>> =
    Mutex::new(std::collections::BTreeMap::new());

/// Tests that count executions in shared counters take this lock so they do not overlap.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    COUNTS.lock().unwrap().clear();
    CALLS.lock().unwrap().clear();
    guard
}

/// Called inside a station body: one more execution of `name`.
pub fn executed(name: &'static str) {
    *COUNTS.lock().unwrap().entry(name).or_default() += 1;
}

/// The executions counted since the last call, by station, and resets them.
pub fn take_executions() -> std::collections::BTreeMap<&'static str, usize> {
    std::mem::take(&mut *COUNTS.lock().unwrap())
}

/// `[("a", 1), ("b", 2)]` as the map `take_executions` returns.
pub fn counts(items: &[(&'static str, usize)]) -> std::collections::BTreeMap<&'static str, usize> {
    items.iter().copied().collect()
}

static CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Called inside a station, check or clean function: appends to the ordered call log.
pub fn called(what: impl Into<String>) {
    CALLS.lock().unwrap().push(what.into());
}

/// The ordered call log since the last call, and resets it.
pub fn take_calls() -> Vec<String> {
    std::mem::take(&mut *CALLS.lock().unwrap())
}

/// Whether process `pid` runs (a zombie waiting for its reaper does not): `pid` as a number
/// or as the text of a pid file.
pub fn running(pid: impl std::fmt::Display) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.to_string().trim()))
        .unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, Some(state) if state != "Z" && state != "X")
}

/// Turns the store in `dir` (closed) into one of schema `version` (1 to 3): its records and
/// heads moved from the record log into the `records` and `heads` tables of `store.db`, rows
/// as choochoo wrote them up to version 3 (the `discovered` column from version 2 on), the
/// log removed, and the version set. The ledger's tables are left as they are.
pub fn records_to_tables(dir: &std::path::Path, version: i64) {
    let records = choochoo::test_util::records(dir).unwrap();
    let heads = choochoo::test_util::heads(dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("store.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE records (
            profile TEXT NOT NULL, key BLOB NOT NULL, station TEXT NOT NULL,
            algorithm TEXT NOT NULL, output_hash BLOB NOT NULL, encoding_hash BLOB NOT NULL,
            size INTEGER NOT NULL, inline_value BLOB, files BLOB NOT NULL,
            used_dir INTEGER NOT NULL, created_ns INTEGER NOT NULL, duration_ns INTEGER NOT NULL,
            discovered BLOB,
            PRIMARY KEY (profile, key)
        ) WITHOUT ROWID;
        CREATE TABLE heads (
            profile TEXT NOT NULL, node TEXT NOT NULL, key BLOB NOT NULL, head BLOB NOT NULL,
            PRIMARY KEY (profile, node)
        ) WITHOUT ROWID;",
    )
    .unwrap();
    for r in &records {
        db.execute(
            "INSERT INTO records (profile, key, station, algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir, created_ns, duration_ns, discovered)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rusqlite::params![
                r.profile, r.key, r.station, r.algorithm, r.output_hash, r.encoding_hash,
                r.size, r.inline, r.files, r.used_dir, r.created_ns, r.duration_ns, r.discovered
            ],
        )
        .unwrap();
    }
    for h in &heads {
        db.execute(
            "INSERT INTO heads (profile, node, key, head) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![h.profile, h.node, h.key, h.head],
        )
        .unwrap();
    }
    if version < 2 {
        db.execute_batch("ALTER TABLE records DROP COLUMN discovered")
            .unwrap();
    }
    db.execute(
        "UPDATE meta SET value = ?1 WHERE name = 'schema_version'",
        [version.to_string()],
    )
    .unwrap();
    std::fs::remove_file(dir.join("records.log")).unwrap();
}
