//! The store: one directory holding everything a workflow program remembers between runs
//! (by default `.choochoo` in the working directory).
//!
//! - `store.db` — SQLite (WAL): memo records, the last state of each node, the stat cache and
//!   the runs. Several processes may open one store at once; inspect it with `sqlite3`.
//! - `blobs/ab/abcdef…` — encoded outputs too large to keep inline, named by their BLAKE3
//!   hash, each written to `tmp/` first, synced, then renamed into place.
//! - `work/<profile>/<node>/` — each station's own directory ([`Ctx::out_dir`](crate::Ctx::out_dir)).
//! - `locks/` — one lock file per node being computed, so two processes never compute the
//!   same node at once; a lock dies with its process.
//!
//! Every read is verified against the hash recorded beside it: a corrupt entry is a miss and
//! a warning, never a wrong value.

use crate::fs::{Fs, Op, Real};
use crate::hash::ALGORITHM;
use crate::lease::{Lease, Leases};
use crate::report::{Entry, Report, Status};
use crate::stat::{Entry as StatEntry, FileState};
use crate::{Digest, Error};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The layout of `store.db`. A store written by another version is refused, never guessed at.
const SCHEMA_VERSION: i64 = 1;

/// Encoded outputs up to this size live in `store.db`; larger ones are blob files.
const INLINE_LIMIT: usize = 16 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    profile TEXT NOT NULL,
    key BLOB NOT NULL,
    station TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    output_hash BLOB NOT NULL,
    encoding_hash BLOB NOT NULL,
    size INTEGER NOT NULL,
    inline_value BLOB,
    files BLOB NOT NULL,
    used_dir INTEGER NOT NULL,
    created_ns INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    PRIMARY KEY (profile, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heads (
    profile TEXT NOT NULL,
    node TEXT NOT NULL,
    key BLOB NOT NULL,
    head BLOB NOT NULL,
    PRIMARY KEY (profile, node)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_entries (
    run INTEGER NOT NULL,
    node TEXT NOT NULL,
    station TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT,
    status TEXT NOT NULL,
    started_ns INTEGER,
    duration_ns INTEGER NOT NULL,
    worker INTEGER,
    reason TEXT,
    error TEXT,
    kept_dir TEXT
);
CREATE INDEX IF NOT EXISTS run_entries_by_run ON run_entries (run);
CREATE INDEX IF NOT EXISTS run_entries_by_node ON run_entries (node);
CREATE TABLE IF NOT EXISTS cleanups (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    node TEXT NOT NULL,
    station TEXT NOT NULL,
    cleaned_ns INTEGER NOT NULL,
    evidence TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stats (
    path BLOB PRIMARY KEY,
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    recorded_ns INTEGER NOT NULL,
    digest BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keysets (
    hash BLOB PRIMARY KEY,
    profile TEXT NOT NULL,
    keys BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_keys (run INTEGER PRIMARY KEY, keyset BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pins (run INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    workflow TEXT NOT NULL,
    profile TEXT NOT NULL,
    instance TEXT NOT NULL,
    started_ns INTEGER NOT NULL,
    finished_ns INTEGER,
    ran INTEGER, cached INTEGER, failed INTEGER
);
";

/// A workflow store on disk: remembered results, runs and the defect ledger.
///
/// One directory (by default `.choochoo` in the working directory). Open it once and share it
/// between runners; several processes may use one store at once. It holds:
///
/// - `store.db`: SQLite (WAL) with the memo records, the last state of each node, the stat
///   cache, the runs and the defect ledger; inspect it with `sqlite3`.
/// - `blobs/`: encoded outputs too large to keep inline, named by their BLAKE3 hash.
/// - `work/<profile>/<node>/`: each station's own directory ([`Ctx::out_dir`]); a failed
///   attempt's is kept under `work/<profile>/.failed/`.
/// - `locks/`: one lock file per node being computed, so two processes never compute the same
///   node at once; a lock dies with its process.
///
/// Every read is verified against the hash recorded beside it: a corrupt entry is a miss and
/// a warning, never a wrong value. Besides running, a store answers
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
    db: Mutex<Connection>,
    temp_counter: AtomicU64,
    leases: Leases,
    /// Every step of publishing an output goes through here (tests fail chosen steps).
    fs: Arc<dyn Fs>,
}

/// A memo record: what a station produced for one key.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub key: Digest,
    pub output_hash: Digest,
    pub encoding_hash: Digest,
    pub size: u64,
    /// The encoded output when it is small; `None` when it is a blob named `encoding_hash`.
    pub inline: Option<Vec<u8>>,
    /// The files and directories inside the output, with their content hashes.
    pub files: Vec<(PathBuf, Digest)>,
    /// Whether the station left its directory behind: deleting it replays the station.
    pub used_dir: bool,
}

/// The last key a node had, and what it was made of, to explain the next change.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Head {
    pub key: Digest,
    pub fingerprint: Digest,
    pub inputs: Vec<Digest>,
    /// Small inputs as JSON, to name the field that changed next time.
    pub values: Vec<Option<String>>,
}

/// A record ready to commit: its blob, if any, is already durable.
#[derive(Debug)]
pub(crate) struct Prepared {
    profile: String,
    key: Digest,
    station: String,
    node: String,
    output_hash: Digest,
    encoding_hash: Digest,
    size: i64,
    inline: Option<Vec<u8>>,
    files: Vec<u8>,
    head: Vec<u8>,
    used_dir: bool,
    duration_ns: i64,
}

impl Prepared {
    pub(crate) fn node(&self) -> &str {
        &self.node
    }
}

/// Everything one finished station leaves in the store.
pub(crate) struct Commit<'a> {
    pub profile: &'a str,
    pub station: &'a str,
    pub node: &'a str,
    pub head: &'a Head,
    pub output_hash: &'a Digest,
    pub encoded: &'a [u8],
    pub files: &'a [(PathBuf, Digest)],
    pub used_dir: bool,
    pub duration_ns: i64,
}

impl Store {
    /// Opens the store in `dir`, creating it if needed. A store written by an incompatible
    /// version of choochoo is refused with an error that says so.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, Error> {
        Store::open_on(dir.as_ref(), Arc::new(Real))
    }

    /// Opens the store with the publish steps going through `fs`.
    pub(crate) fn open_on(dir: &Path, fs: Arc<dyn Fs>) -> Result<Store, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|error| Error::io("create the store directory", dir, error))?;
        let dir = dir
            .canonicalize()
            .map_err(|error| Error::io("resolve the store directory", dir, error))?;
        for sub in ["blobs", "tmp", "work", "locks"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|error| Error::io("create", &path, error))?;
        }
        let db_path = dir.join("store.db");
        let db = Connection::open(&db_path).map_err(|error| Error::db("open", &db_path, error))?;
        prepare(&db, &db_path)?;
        let leases = Leases::new(&dir.join("locks"));
        let store = Store {
            dir,
            db: Mutex::new(db),
            temp_counter: AtomicU64::new(0),
            leases,
            fs,
        };
        store.remove_orphaned_temp_files();
        Ok(store)
    }

    /// The store's directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.dir.join("store.db")
    }

    pub(crate) fn with_db<R>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> Result<R, Error> {
        let mut db = self
            .db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut db).map_err(|error| Error::db(operation, &self.db_path(), error))
    }

    /// Every record of a profile, by key, read in one query: for large graphs, where one
    /// lookup per station would cost more than reading them all.
    pub(crate) fn records_of(
        &self,
        profile: &str,
    ) -> Result<HashMap<Digest, Result<Record, String>>, Error> {
        self.with_db("read the records from", |db| {
            let mut stmt = db.prepare(
                "SELECT algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir, key FROM records WHERE profile = ?1",
            )?;
            let rows = stmt.query_map([profile], |row| {
                let key: Vec<u8> = row.get(7)?;
                let key = <[u8; 32]>::try_from(key.as_slice()).map(Digest::from_bytes).unwrap_or(Digest::from_bytes([0; 32]));
                Ok((key, decode_record(key, row)?))
            })?;
            rows.collect()
        })
    }

    /// The record for `key`, unverified; `Ok(None)` when there is none.
    pub(crate) fn record(
        &self,
        profile: &str,
        key: &Digest,
    ) -> Result<Option<Result<Record, String>>, Error> {
        self.with_db("read a record from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir FROM records WHERE profile = ?1 AND key = ?2",
            )?;
            stmt.query_row(params![profile, key.as_bytes()], |row| {
                decode_record(*key, row)
            })
            .optional()
        })
    }

    /// Stores an encoded output (inline or as a blob) and commits its record and the node's
    /// head in one transaction. The blob, if any, is durable before the record names it.
    pub(crate) fn prepare(&self, commit: &Commit<'_>) -> Result<Prepared, Error> {
        let encoded = commit.encoded;
        let encoding_hash = Digest::of(encoded);
        let inline = if encoded.len() <= INLINE_LIMIT {
            Some(encoded.to_vec())
        } else {
            self.write_blob(&encoding_hash, encoded)?;
            None
        };
        Ok(Prepared {
            profile: commit.profile.to_owned(),
            key: commit.head.key,
            station: commit.station.to_owned(),
            node: commit.node.to_owned(),
            output_hash: *commit.output_hash,
            encoding_hash,
            size: encoded.len() as i64,
            inline,
            files: encode_files(commit.files)
                .map_err(|error| Error::encoding("file list", error))?,
            head: postcard::to_stdvec(commit.head)
                .map_err(|error| Error::encoding("head", error))?,
            used_dir: commit.used_dir,
            duration_ns: commit.duration_ns,
        })
    }

    /// Commits prepared records and their nodes' heads, all in one transaction.
    pub(crate) fn commit_all(&self, prepared: &[Prepared]) -> Result<(), Error> {
        if prepared.is_empty() {
            return Ok(());
        }
        let db_path = self.db_path();
        self.with_db("commit records to", |db| {
            let tx = db.transaction()?;
            {
                let mut record = tx.prepare_cached(
                    "INSERT OR REPLACE INTO records (profile, key, station, algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir, created_ns, duration_ns)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                let mut head = tx.prepare_cached("INSERT OR REPLACE INTO heads (profile, node, key, head) VALUES (?1, ?2, ?3, ?4)")?;
                let now = crate::stat::now_ns();
                for p in prepared {
                    record.execute(params![
                        p.profile,
                        p.key.as_bytes(),
                        p.station,
                        ALGORITHM,
                        p.output_hash.as_bytes(),
                        p.encoding_hash.as_bytes(),
                        p.size,
                        p.inline,
                        p.files,
                        p.used_dir,
                        now,
                        p.duration_ns
                    ])?;
                    head.execute(params![p.profile, p.node, p.key.as_bytes(), p.head])?;
                }
            }
            // The commit is a publish step too; an injected failure drops (rolls back) it.
            let mut tx = Some(tx);
            let mut committed = Ok(());
            let step = self.fs.run(Op::Commit, &db_path, &mut || {
                if let Some(tx) = tx.take() {
                    committed = tx.commit();
                }
                Ok(())
            });
            committed.map(|()| step)
        })?
        .map_err(|error| Error::io("commit records to", &db_path, error))
    }

    /// The node's last head, if any and readable.
    pub(crate) fn head(&self, profile: &str, node: &str) -> Result<Option<Head>, Error> {
        let bytes: Option<Vec<u8>> = self.with_db("read a head from", |db| {
            db.prepare_cached("SELECT head FROM heads WHERE profile = ?1 AND node = ?2")?
                .query_row(params![profile, node], |row| row.get(0))
                .optional()
        })?;
        Ok(bytes.and_then(|bytes| Head::decode(&bytes).ok()))
    }

    /// Every node's last head in a profile, read in one query (for large graphs).
    pub(crate) fn heads_of(&self, profile: &str) -> Result<HashMap<String, Head>, Error> {
        self.with_db("read the heads from", |db| {
            let mut stmt = db.prepare("SELECT node, head FROM heads WHERE profile = ?1")?;
            let rows = stmt.query_map([profile], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut heads = HashMap::new();
            for row in rows {
                let (node, bytes) = row?;
                if let Ok(head) = Head::decode(&bytes) {
                    heads.insert(node, head);
                }
            }
            Ok(heads)
        })
    }

    /// Removes a record that turned out to be unusable.
    pub(crate) fn forget(&self, profile: &str, key: &Digest) -> Result<(), Error> {
        self.with_db("remove a record from", |db| {
            db.execute(
                "DELETE FROM records WHERE profile = ?1 AND key = ?2",
                params![profile, key.as_bytes()],
            )
            .map(drop)
        })
    }

    /// The encoded output of a record, verified against its hash.
    pub(crate) fn load(&self, record: &Record) -> Result<Vec<u8>, String> {
        let bytes = match &record.inline {
            Some(bytes) => bytes.clone(),
            None => {
                let path = self.blob_path(&record.encoding_hash);
                std::fs::read(&path)
                    .map_err(|error| format!("cannot read blob {}: {error}", path.display()))?
            }
        };
        if bytes.len() as u64 != record.size || Digest::of(&bytes) != record.encoding_hash {
            return Err(format!(
                "stored output {} does not match its hash",
                record.encoding_hash
            ));
        }
        Ok(bytes)
    }

    /// Checks that a record's stored output is present and intact without decoding it.
    pub(crate) fn verify(&self, record: &Record) -> Result<(), String> {
        self.load(record).map(drop)
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.dir.join("blobs").join(&hex[..2]).join(hex)
    }

    /// Writes a blob: temp file, sync, rename into place, sync the directory.
    fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<(), Error> {
        let path = self.blob_path(digest);
        // Already there and intact: nothing to write. A damaged one is replaced, so a run
        // that recomputes a corrupt output also heals the store.
        if std::fs::read(&path).is_ok_and(|stored| stored == bytes) {
            return Ok(());
        }
        let parent = path.parent().unwrap_or(&self.dir);
        let fs = &*self.fs;
        fs.create_dir_all(parent)
            .map_err(|error| Error::io("create the blob directory", parent, error))?;
        let temp = self.temp_path();
        let write = || -> Result<(), Error> {
            let mut file = fs
                .create(&temp)
                .map_err(|error| Error::io("create the temp file", &temp, error))?;
            fs.write_all(&mut file, &temp, bytes)
                .map_err(|error| Error::io("write the blob to", &temp, error))?;
            fs.sync(&file, &temp)
                .map_err(|error| Error::io("sync the blob", &temp, error))?;
            fs.rename(&temp, &path)
                .map_err(|error| Error::io("publish the blob as", &path, error))
        };
        if let Err(error) = write() {
            // Nothing half-written is left: the temp file goes, the blob's name was never taken.
            let _ = std::fs::remove_file(&temp);
            return Err(error);
        }
        fs.sync_dir(parent)
            .map_err(|error| Error::io("sync the blob directory", parent, error))
    }

    /// A fresh temp file name carrying this process's id, so a later open can tell an orphan.
    fn temp_path(&self) -> PathBuf {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join("tmp")
            .join(format!("{}-{n}", std::process::id()))
    }

    /// Removes temp files left by processes that are gone (killed mid-write).
    fn remove_orphaned_temp_files(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("tmp")) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let pid = name
                .to_str()
                .and_then(|n| n.split('-').next())
                .and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !process_alive(pid)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Loads the stat cache.
    pub(crate) fn stats(&self) -> Result<HashMap<PathBuf, StatEntry>, Error> {
        self.with_db("read the stat cache from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest FROM stats",
            )?;
            let rows = stmt.query_map([], StatRow::read)?;
            let mut map = HashMap::new();
            for row in rows {
                // A damaged row is skipped: the file is hashed again and the row rewritten.
                if let Ok((path, entry)) = row?.decode() {
                    map.insert(path, entry);
                }
            }
            Ok(map)
        })
    }

    /// Saves new stat cache entries.
    pub(crate) fn save_stats(&self, entries: &[(PathBuf, StatEntry)]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        self.with_db("save the stat cache to", |db| {
            let tx = db.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR REPLACE INTO stats (path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (path, entry) in entries {
                    let s = &entry.state;
                    stmt.execute(params![
                        path.as_os_str().as_encoded_bytes(),
                        s.dev as i64,
                        s.ino as i64,
                        s.size as i64,
                        s.mtime_ns,
                        s.ctime_ns,
                        entry.recorded_ns,
                        entry.digest.as_bytes()
                    ])?;
                }
            }
            tx.commit()
        })
    }

    /// Records the start of a run and returns its id.
    pub(crate) fn begin_run(
        &self,
        workflow: &str,
        profile: &str,
        instance: &str,
    ) -> Result<i64, Error> {
        self.with_db("record a run in", |db| {
            db.execute(
                "INSERT INTO runs (workflow, profile, instance, started_ns) VALUES (?1, ?2, ?3, ?4)",
                params![workflow, profile, instance, crate::stat::now_ns()],
            )?;
            Ok(db.last_insert_rowid())
        })
    }

    /// Records the end of a run, with an entry for every station that did not come from
    /// the store (those are what `trace` and `report` show), and the keys it used (what
    /// [`Store::gc`] keeps for the last runs). Runs that used the same keys share one copy.
    pub(crate) fn finish_run(
        &self,
        report: &Report,
        ran: usize,
        cached: usize,
        failed: usize,
        profile: &str,
        mut keys: Vec<Digest>,
    ) -> Result<(), Error> {
        keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        keys.dedup();
        let keys: Vec<u8> = keys.iter().flat_map(|key| *key.as_bytes()).collect();
        let keyset = {
            let mut hasher = crate::hash::Hasher::new("choochoo/keyset");
            hasher.field("profile", profile.as_bytes());
            hasher.field("keys", &keys);
            hasher.finish()
        };
        self.with_db("record a run in", |db| {
            let tx = db.transaction()?;
            tx.execute(
                "INSERT OR IGNORE INTO keysets (hash, profile, keys) VALUES (?1, ?2, ?3)",
                params![keyset.as_bytes(), profile, keys],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO run_keys (run, keyset) VALUES (?1, ?2)",
                params![report.run, keyset.as_bytes()],
            )?;
            tx.execute(
                "UPDATE runs SET finished_ns = ?2, ran = ?3, cached = ?4, failed = ?5 WHERE id = ?1",
                params![report.run, crate::stat::now_ns(), ran as i64, cached as i64, failed as i64],
            )?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO run_entries (run, node, station, name, label, status, started_ns, duration_ns, worker, reason, error, kept_dir)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                for entry in report.entries.iter().filter(|entry| entry.status != Status::Cached) {
                    let started = entry.started.map(|(at, _)| crate::stat::unix_ns(at));
                    insert.execute(params![
                        report.run,
                        &*entry.node,
                        entry.id,
                        entry.name,
                        entry.label.as_deref(),
                        entry.status.to_string(),
                        started,
                        entry.duration.as_nanos() as i64,
                        entry.started.map(|(_, worker)| worker as i64),
                        entry.reason.as_deref(),
                        entry.error.as_deref(),
                        entry.kept_dir.as_ref().map(|dir| dir.display().to_string()),
                    ])?;
                }
            }
            tx.commit()
        })
    }

    /// The report of a past run (the latest when `run` is `None`): every station that ran,
    /// failed, was blocked or skipped (cached stations are not kept per run).
    pub fn report(&self, run: Option<i64>) -> Result<Option<Report>, Error> {
        self.with_db("read a run from", |db| {
            let run: Option<i64> = match run {
                Some(run) => db.query_row("SELECT id FROM runs WHERE id = ?1", [run], |row| row.get(0)).optional()?,
                None => db.query_row("SELECT max(id) FROM runs WHERE finished_ns IS NOT NULL", [], |row| row.get(0))?,
            };
            let Some(run) = run else { return Ok(None) };
            let mut stmt = db.prepare(
                "SELECT node, station, name, label, status, started_ns, duration_ns, worker, reason, error, kept_dir
                 FROM run_entries WHERE run = ?1 ORDER BY rowid",
            )?;
            let entries = stmt
                .query_map([run], |row| {
                    let started: Option<i64> = row.get(5)?;
                    let worker: Option<i64> = row.get(7)?;
                    Ok(Entry {
                        node: row.get::<_, String>(0)?.into(),
                        id: row.get::<_, String>(1)?.into(),
                        name: row.get::<_, String>(2)?.into(),
                        label: row.get::<_, Option<String>>(3)?.map(Into::into),
                        status: Status::parse(&row.get::<_, String>(4)?).unwrap_or(Status::Skipped),
                        duration: std::time::Duration::from_nanos(row.get::<_, i64>(6)?.max(0) as u64),
                        reason: row.get(8)?,
                        error: row.get(9)?,
                        kept_dir: row.get::<_, Option<String>>(10)?.map(PathBuf::from),
                        defect: None,
                        started: started.zip(worker).map(|(ns, worker)| {
                            (std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64), worker as usize)
                        }),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(Report { run, entries, warnings: Vec::new() }))
        })
    }

    /// Held (shared) by every run while it works on the store, so maintenance that must not
    /// remove what a run holds ([`Store::gc`], [`Store::fsck`]) waits for none to be active.
    pub(crate) fn active(&self) -> Result<std::fs::File, Error> {
        let file = self.activity_file()?;
        file.lock_shared()
            .map_err(|error| Error::io("lock", &self.dir.join("active.lock"), error))?;
        Ok(file)
    }

    /// Waits until no run is active on the store, and keeps new ones out while held.
    pub(crate) fn exclusive(&self) -> Result<std::fs::File, Error> {
        let file = self.activity_file()?;
        file.lock()
            .map_err(|error| Error::io("lock", &self.dir.join("active.lock"), error))?;
        Ok(file)
    }

    fn activity_file(&self) -> Result<std::fs::File, Error> {
        let path = self.dir.join("active.lock");
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| Error::io("open", &path, error))
    }

    /// Holds `node` against other processes until the lease is dropped.
    pub(crate) fn lease(
        &self,
        profile: &str,
        node: &str,
        before_blocking: &dyn Fn(),
    ) -> Result<Lease<'_>, Error> {
        self.leases
            .acquire(&format!("{profile}/{node}"), before_blocking)
    }

    /// Where a failed attempt's directory is kept: `work/<profile>/.failed/<node>.run<id>.<attempt>`.
    pub(crate) fn failed_dir(&self, profile: &str, node: &str, run: i64, attempt: u32) -> PathBuf {
        self.dir
            .join("work")
            .join(sanitize(profile))
            .join(".failed")
            .join(format!("{}.run{run}.{attempt}", sanitize(node)))
    }

    /// Records what is about to be destroyed, before it is, so it can be looked at later.
    pub(crate) fn record_evidence(
        &self,
        profile: &str,
        node: &str,
        station: &str,
        evidence: &serde_json::Value,
    ) -> Result<(), Error> {
        self.with_db("record evidence in", |db| {
            db.execute(
                "INSERT INTO cleanups (profile, node, station, cleaned_ns, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![profile, node, station, crate::stat::now_ns(), evidence.to_string()],
            )
            .map(drop)
        })
    }

    /// What was recorded before cleaning a node, newest first, as JSON documents: the files
    /// that were in its directory (path, size, hash) and the output it had produced.
    pub fn evidence(&self, node: &str) -> Result<Vec<String>, Error> {
        self.with_db("read evidence from", |db| {
            let mut stmt =
                db.prepare("SELECT evidence FROM cleanups WHERE node = ?1 ORDER BY id DESC")?;
            let rows = stmt.query_map([node], |row| row.get(0))?;
            rows.collect()
        })
    }

    /// Forgets a node: its head and the record it points at.
    pub(crate) fn forget_node(&self, profile: &str, node: &str, key: &Digest) -> Result<(), Error> {
        self.with_db("remove a node from", |db| {
            let tx = db.transaction()?;
            tx.execute(
                "DELETE FROM records WHERE profile = ?1 AND key = ?2",
                params![profile, key.as_bytes()],
            )?;
            tx.execute(
                "DELETE FROM heads WHERE profile = ?1 AND node = ?2",
                params![profile, node],
            )?;
            tx.commit()
        })
    }

    /// The directory of a node.
    pub(crate) fn work_dir(&self, profile: &str, node: &str) -> PathBuf {
        self.dir
            .join("work")
            .join(sanitize(profile))
            .join(sanitize(node))
    }
}

fn prepare(db: &Connection, path: &Path) -> Result<(), Error> {
    let setup = || -> rusqlite::Result<Option<i64>> {
        db.busy_timeout(std::time::Duration::from_secs(60))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        // Closing need not checkpoint the WAL (two fsyncs on every exit, even of a run that
        // did nothing): SQLite checkpoints as the log grows, and the next open reads it.
        db.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        db.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
            db.execute_batch(SCHEMA)?;
            db.execute_batch(crate::defect::SCHEMA)?;
            let version: Option<String> = db
                .query_row(
                    "SELECT value FROM meta WHERE name = 'schema_version'",
                    [],
                    |row| row.get(0),
                )
                .optional()?;
            match version {
                Some(version) => Ok(Some(version.parse::<i64>().unwrap_or(-1))),
                None => {
                    db.execute(
                        "INSERT INTO meta (name, value) VALUES ('schema_version', ?1)",
                        [SCHEMA_VERSION.to_string()],
                    )?;
                    Ok(None)
                }
            }
        })();
        db.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        result
    };
    // Switching a new database to WAL, or recovering one, can report "database is locked"
    // at once, without waiting in the busy handler, while another process opens the same
    // store: try again for as long as the busy timeout would have waited.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let set_up = loop {
        match setup() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if matches!(
                    error.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => break other,
        }
    };
    match set_up.map_err(|error| Error::db("set up", path, error))? {
        Some(version) if version != SCHEMA_VERSION => Err(Error::usage(format!(
            "the store {} has schema version {version}, and this choochoo reads version {SCHEMA_VERSION}; \
             use the choochoo version that wrote it, or move the store away to start a new one",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// The `files` column: each path's raw bytes, so names that are not UTF-8 survive, and its hash.
pub(crate) fn encode_files(files: &[(PathBuf, Digest)]) -> Result<Vec<u8>, postcard::Error> {
    let files: Vec<(&[u8], Digest)> = files
        .iter()
        .map(|(path, digest)| (path.as_os_str().as_encoded_bytes(), *digest))
        .collect();
    postcard::to_stdvec(&files)
}

/// A record from its row; `Err` inside when the row is unreadable (a miss, not a failure).
fn decode_record(key: Digest, row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Record, String>> {
    Ok(RecordRow::read(row)?.decode(key))
}

/// A record's columns as SQLite returns them, before they are checked.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct RecordRow {
    pub algorithm: String,
    pub output_hash: Vec<u8>,
    pub encoding_hash: Vec<u8>,
    pub size: i64,
    pub inline: Option<Vec<u8>>,
    /// postcard: `Vec<(path bytes, Digest)>`.
    pub files: Vec<u8>,
    pub used_dir: bool,
}

impl RecordRow {
    /// Reads `algorithm, output_hash, encoding_hash, size, inline_value, files, used_dir`.
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
        Ok(RecordRow {
            algorithm: row.get(0)?,
            output_hash: row.get(1)?,
            encoding_hash: row.get(2)?,
            size: row.get(3)?,
            inline: row.get(4)?,
            files: row.get(5)?,
            used_dir: row.get(6)?,
        })
    }

    /// The record, or what is wrong with the row.
    pub(crate) fn decode(self, key: Digest) -> Result<Record, String> {
        if self.algorithm != ALGORITHM {
            return Err(format!("hashed with {}, not {ALGORITHM}", self.algorithm));
        }
        let files: Vec<(Vec<u8>, Digest)> = crate::value::bounded::from_bytes(&self.files)
            .map_err(|error| format!("unreadable file list: {error}"))?;
        Ok(Record {
            key,
            output_hash: digest_column("an output hash", &self.output_hash)?,
            encoding_hash: digest_column("an encoding hash", &self.encoding_hash)?,
            size: u64::try_from(self.size)
                .map_err(|_| format!("a negative size, {}", self.size))?,
            inline: self.inline,
            files: files
                .into_iter()
                .map(|(path, digest)| (path_from_bytes(path), digest))
                .collect(),
            used_dir: self.used_dir,
        })
    }
}

impl Head {
    /// Decodes a head as `Store::prepare` encoded it.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Head, postcard::Error> {
        crate::value::bounded::from_bytes(bytes)
    }
}

/// A stat cache row as SQLite returns it, before it is checked.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct StatRow {
    pub path: Vec<u8>,
    pub dev: i64,
    pub ino: i64,
    pub size: i64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub recorded_ns: i64,
    pub digest: Vec<u8>,
}

impl StatRow {
    /// Reads `path, dev, ino, size, mtime_ns, ctime_ns, recorded_ns, digest`.
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<StatRow> {
        Ok(StatRow {
            path: row.get(0)?,
            dev: row.get(1)?,
            ino: row.get(2)?,
            size: row.get(3)?,
            mtime_ns: row.get(4)?,
            ctime_ns: row.get(5)?,
            recorded_ns: row.get(6)?,
            digest: row.get(7)?,
        })
    }

    /// The cached entry, or what is wrong with the row.
    pub(crate) fn decode(self) -> Result<(PathBuf, StatEntry), String> {
        let digest = digest_column("a file digest", &self.digest)?;
        // The stat fields are stored as SQLite's signed integers; the casts undo the ones
        // `save_stats` made.
        let state = FileState {
            dev: self.dev as u64,
            ino: self.ino as u64,
            size: self.size as u64,
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
        };
        let entry = StatEntry {
            state,
            recorded_ns: self.recorded_ns,
            digest,
        };
        Ok((path_from_bytes(self.path), entry))
    }
}

/// A BLAKE3 hash column, which must hold exactly 32 bytes.
fn digest_column(what: &str, bytes: &[u8]) -> Result<Digest, String> {
    <[u8; 32]>::try_from(bytes)
        .map(Digest::from_bytes)
        .map_err(|_| format!("{what} of {} bytes, not 32", bytes.len()))
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
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

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}
