//! The store: one directory holding everything a workflow program remembers between runs
//! (by default `.choochoo` in the working directory).
//!
//! - `records.log` — the record log: every memo record and the last state (head) of each
//!   node, appended in batches (one write and one sync each) and read once at open into an
//!   index of offsets; `records.lock` is held by whoever appends (see `log/mod.rs`).
//! - `store.db` — SQLite (WAL): the stat cache, the runs and the defect ledger. Several
//!   processes may open one store at once; inspect it with `sqlite3`.
//! - `blobs/ab/abcdef…` — encoded outputs too large to keep inline, named by their BLAKE3
//!   hash, each written to `tmp/` first, synced, then renamed into place.
//! - `work/<profile>/<node>/` — each station's own directory ([`Ctx::out_dir`](crate::Ctx::out_dir)).
//! - `locks/` — one lock file per node being computed, so two processes never compute the
//!   same node at once; a lock dies with its process.
//! - `secret.key` — the key secret inputs are hashed with, made on first use unless
//!   `CHOOCHOO_SECRET_KEY` gives a team's (see `secret/key.rs`).
//!
//! Every read is verified against the hash recorded beside it: a corrupt entry is a miss and
//! a warning, never a wrong value. On Unix the store is private (see `privacy.rs`): every
//! directory the runtime makes is `0700` and every file `0600`, `store.db` created so before
//! SQLite opens it, so that its WAL and shared-memory files, which take its mode, are too.
//!
//! The store owns all of `store.db`'s SQL and the record log; the rest of the crate calls
//! typed methods. One file per concern: `schema.rs` (every table, and the layout's version),
//! `log/` (the record log: its entries, index, appends, compaction and the migration of the
//! records from `store.db`), `records.rs` (memo records and heads over the log), `discovered.rs` (the inputs a record's station found while it ran),
//! `blobs.rs` (large outputs), `publish.rs` (the atomic write every file of the store goes
//! through), `stats.rs` (the stat cache), `database.rs` (`store.db`, opened
//! at once or on first use), `runs.rs` (runs, their entries and the keys they used),
//! `journal.rs` (a run's journal) and `interrupted.rs` (recording a run, and the runs
//! killed), `run_list.rs` (the latest runs and a run in flight, as a dashboard shows them),
//! `evidence.rs` (what cleans destroyed), `ledger.rs`, `ledger_reads.rs` and
//! `ledger_rows.rs` (the defect ledger's SQL: writes, reads, rows), `observe.rs` and
//! `triage.rs` (what a run and a person do with the ledger), `occurrences.rs` (a defect's
//! runs per day), `maintenance.rs` (fsck, gc and pins), `digests.rs` (the remote cache's
//! SHA-256 digests), `remote_files.rs` (files in the remote cache only), `locks.rs` (who may
//! use the store at once).

mod blobs;
mod columns;
mod database;
#[cfg(feature = "remote")]
mod digests;
pub(crate) mod discovered;
mod durations;
mod evidence;
pub(crate) mod fields;
mod file_list;
pub(crate) mod interrupted;
pub(crate) mod journal;
pub(crate) mod ledger;
mod ledger_reads;
pub(crate) mod ledger_rows;
mod locks;
pub(crate) mod log;
#[cfg(feature = "test-util")]
pub use log::entry::{LogHead, LogRecord};
#[cfg(feature = "test-util")]
pub use log::inspect::{
    corrupt_record, edit_record, forget_records, heads as log_heads, records as log_records,
    rewrite_in_format_1,
};
#[cfg(feature = "test-util")]
pub use stats::stats_to_table;
pub(crate) mod maintenance;
mod observe;
mod occurrences;
pub(crate) mod publish;
pub(crate) mod records;
mod remote_files;
pub(crate) mod run_list;
pub(crate) mod runs;
mod schema;
mod schema_sql;
mod stat_file;
pub(crate) mod stats;
mod triage;

use crate::error::Error;
use crate::fs::{Fs, Real};
use crate::lease::Leases;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A workflow store on disk: remembered results, runs and the defect ledger.
///
/// One directory (by default `.choochoo` in the working directory). Open it once and share it
/// between runners; several processes may use one store at once. It holds:
///
/// - `records.log`: the memo records and the last state of each node, an append-only log
///   read once when the store opens.
/// - `store.db`: SQLite (WAL) with the stat cache, the runs and the defect ledger; inspect
///   it with `sqlite3`.
/// - `blobs/`: encoded outputs too large to keep inline, named by their BLAKE3 hash.
/// - `work/<profile>/<node>/`: each station's own directory ([`Ctx::out_dir`]); a failed
///   attempt's is kept under `work/<profile>/.failed/`.
/// - `locks/`: one lock file per node being computed, so two processes never compute the same
///   node at once; a lock dies with its process.
/// - `secret.key`: the key [`Secret`](crate::Secret) inputs are hashed with, made the first
///   time one is, unless `CHOOCHOO_SECRET_KEY` gives a team's key.
///
/// Every read is verified against the hash recorded beside it: a corrupt entry is a miss and
/// a warning, never a wrong value. It holds every station's inputs, so on Unix it is private
/// to its owner: every directory the runtime makes in it is created `0700` and every file
/// `0600` (SQLite's WAL and shared-memory files too), whatever the umask; what a station
/// writes into its own directory keeps the station's modes, inside a private directory.
/// [`fsck`](Store::fsck) warns about anything others may read. Besides running, a store answers
/// questions about past runs ([`report`](Store::report)), keeps the defect ledger
/// ([`defects`](Store::defects)) and looks after itself ([`fsck`](Store::fsck),
/// [`gc`](Store::gc)).
///
/// ```
/// use choochoo::{station, workflow, Runner, Store};
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(x: u64) -> u64 { double(x) }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-store-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let run = Runner::new(&store).run(twice(21))?;
/// assert_eq!(*run.output(), 42);
///
/// // Later, maybe in another process: what did the last run do?
/// let store = Store::open(&dir)?;
/// let last = store.report(None)?.expect("one run is recorded");
/// assert_eq!(last.run_id(), run.report().run_id());
/// assert!(store.fsck(false)?.is_clean());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
///
/// [`Ctx::out_dir`]: crate::Ctx::out_dir
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    /// `store.db`, once opened (`database.rs`).
    db: Mutex<Option<Connection>>,
    /// The memo records and heads.
    log: log::Log,
    temp_counter: AtomicU64,
    leases: Leases,
    /// Every step of publishing an output goes through here (tests fail chosen steps).
    fs: Arc<dyn Fs>,
    /// How many files runs on this store read to hash them since it was opened: what the
    /// stat cache did not spare (tests count it).
    files_hashed: AtomicU64,
    /// The key secrets are hashed with, found on first use.
    secret_keys: Arc<crate::secret::key::Keys>,
    /// The stat cache, read ahead for the first run (`stats.rs`).
    stats_ahead: stats::Ahead,
}

impl Store {
    /// Opens the store in `dir`, creating it if needed. A store written by an incompatible
    /// version of choochoo is refused with an error that says so.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, Error> {
        Store::open_on(dir.as_ref(), Arc::new(Real))
    }

    /// Opens the store with the publish steps going through `fs`.
    pub(crate) fn open_on(dir: &Path, fs: Arc<dyn Fs>) -> Result<Store, Error> {
        let store = Store::open_log(dir, fs)?;
        store.connect_now()?;
        store.remove_orphaned_temp_files();
        Ok(store)
    }

    /// Opens the store for a run, which opens its database (`store.db`) beside its first
    /// stations: only its record log is read now. A store whose log is new or of an older
    /// format is opened at once, as [`open`](Store::open) does. A store of an incompatible
    /// version is refused when its database is opened, before the run records anything.
    #[cfg_attr(
        not(feature = "cli"),
        allow(dead_code, reason = "the command line's run opens its store so")
    )]
    pub(crate) fn open_for_run(dir: &Path) -> Result<Store, Error> {
        let had_log = dir.join("records.log").is_file();
        let store = Store::open_log(dir, Arc::new(Real))?;
        if !had_log || store.log.format() != log::frame::Format::CURRENT {
            store.connect_now()?;
        }
        store.remove_orphaned_temp_files();
        Ok(store)
    }

    /// The store with its directories made and its record log read; its database not yet
    /// opened.
    fn open_log(dir: &Path, fs: Arc<dyn Fs>) -> Result<Store, Error> {
        create_store_dir(dir)?;
        let dir = dir
            .canonicalize()
            .map_err(|error| Error::io("resolve the store directory", dir, error))?;
        for sub in ["blobs", "tmp", "work", "locks", "runs"] {
            let path = dir.join(sub);
            crate::privacy::create_dir_all(&path)
                .map_err(|error| Error::io("create", &path, error))?;
        }
        let stats_ahead = stats::Ahead::start(&dir);
        let db_path = dir.join("store.db");
        // Created here, private, so that SQLite (which gives its WAL and shared-memory files
        // the database's mode) opens a file that is already `0600`.
        crate::privacy::touch(&db_path).map_err(|error| Error::io("create", &db_path, error))?;
        let log = log::Log::open(&dir)?;
        let leases = Leases::new(&dir.join("locks"));
        Ok(Store {
            secret_keys: Arc::new(crate::secret::key::Keys::new(&dir)),
            dir,
            db: Mutex::new(None),
            log,
            temp_counter: AtomicU64::new(0),
            leases,
            fs,
            files_hashed: AtomicU64::new(0),
            stats_ahead,
        })
    }

    /// The store's directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key the secrets of runs on this store are hashed with.
    pub(crate) fn secret_keys(&self) -> &Arc<crate::secret::key::Keys> {
        &self.secret_keys
    }

    /// Counts files a run read to hash them.
    pub(crate) fn count_hashed(&self, files: u64) {
        self.files_hashed.fetch_add(files, Ordering::Relaxed);
    }

    /// How many files runs on this store read to hash them since it was opened.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn files_hashed(&self) -> u64 {
        self.files_hashed.load(Ordering::Relaxed)
    }

    /// The directory of a node: `work/<profile>/<node>/`, and for a map's item `map[item]`,
    /// `work/<profile>/<map>/<item>/`, inside its map's.
    pub(crate) fn work_dir(&self, profile: &str, node: &str) -> PathBuf {
        let profile_dir = self.dir.join("work").join(sanitize(profile));
        match crate::report::split_item(node) {
            Some((map, item)) => profile_dir.join(sanitize(map)).join(item_dir(item)),
            None => profile_dir.join(sanitize(node)),
        }
    }

    /// Where a failed attempt's directory is kept: `work/<profile>/.failed/<node>.run<id>.<attempt>`.
    pub(crate) fn failed_dir(&self, profile: &str, node: &str, run: i64, attempt: u32) -> PathBuf {
        self.dir
            .join("work")
            .join(sanitize(profile))
            .join(".failed")
            .join(format!("{}.run{run}.{attempt}", node_file_name(node)))
    }
}

/// A node's name as one path component: a map item's as its map's and its own, joined.
fn node_file_name(node: &str) -> String {
    match crate::report::split_item(node) {
        Some((map, item)) => format!("{}.{}", sanitize(map), item_dir(item)),
        None => sanitize(node),
    }
}

/// Item names longer than this are cut, and told apart by a hash of the whole name.
const ITEM_DIR_LONGEST: usize = 100;

/// A map item's name as one safe path component (its directory in its map's), short enough
/// for any file system: two items whose names give the same one cannot run in one map.
pub(crate) fn item_dir(item: &str) -> String {
    let clean = sanitize(item);
    if clean.len() <= ITEM_DIR_LONGEST {
        return clean;
    }
    // `sanitize` leaves only ASCII, so any byte offset is a character boundary.
    let hash = crate::hash::Digest::of(item.as_bytes()).to_hex();
    format!("{}-{}", &clean[..ITEM_DIR_LONGEST - 13], &hash[..12])
}

/// Creates the store's directory `0700` (the directories above it, if missing, with the
/// system's defaults: they are not the store's).
fn create_store_dir(dir: &Path) -> Result<(), Error> {
    let create = |error| Error::io("create the store directory", dir, error);
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(create)?;
    }
    match crate::privacy::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) => Err(create(error)),
    }
}

/// A node or profile name as one safe path component.
fn sanitize(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        format!("_{clean}")
    } else {
        clean
    }
}
