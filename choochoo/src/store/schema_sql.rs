//! The tables of `store.db`, as SQL: what `schema` creates in a new store, and what it
//! creates of them that an older store lacks.

/// Every table (the memo records and each node's last state are in the record log): the runs and
/// what they used (`runs`, `run_entries`, `run_warnings`, `interrupted_runs`, `keysets`, `run_keys`, `pins`), the
/// stat cache, the evidence of cleans (`cleanups`), the defect ledger, and the remote digests.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
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
    kept_dir TEXT,
    ran_on TEXT
);
CREATE INDEX IF NOT EXISTS run_entries_by_run ON run_entries (run);
-- No index by node: a run's entries are appended in its report's order, and an index of
-- their names took a random insert each (a run of a million stations dirtied and re-read
-- its pages again and again). A node's last duration is its record's (`durations.rs`).
DROP INDEX IF EXISTS run_entries_by_node;
-- Runs that were killed, found by the next open of the store: when they were last heard of
-- and the stations (a JSON list of node names) that had started and not ended.
CREATE TABLE IF NOT EXISTS interrupted_runs (
    run INTEGER PRIMARY KEY,
    at_ns INTEGER NOT NULL,
    during TEXT NOT NULL
);
-- What the stations of a run warned of (`Ctx::warn`), in order: at most a hundred lines of
-- a thousand characters per entry, and a line saying how many more came.
CREATE TABLE IF NOT EXISTS run_warnings (
    run INTEGER NOT NULL,
    node TEXT NOT NULL,
    line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS run_warnings_by_run ON run_warnings (run, node);
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
-- The runs not finished, which every open looks through for interrupted ones.
CREATE INDEX IF NOT EXISTS runs_unfinished ON runs (id) WHERE finished_ns IS NULL;
-- The defect ledger. A defect merged into another stays as a row pointing at it
-- (`merged_into`), so the id a ticket quotes keeps leading to the defect.
CREATE TABLE IF NOT EXISTS defects (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    regressed INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER,
    count INTEGER NOT NULL DEFAULT 0,
    first_ns INTEGER NOT NULL DEFAULT 0,
    last_ns INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    lost_ns INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS signatures (
    signature TEXT PRIMARY KEY,
    defect INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY,
    defect INTEGER NOT NULL,
    signature TEXT NOT NULL,
    title TEXT NOT NULL,
    station_id TEXT NOT NULL,
    station_name TEXT NOT NULL,
    node TEXT NOT NULL,
    profile TEXT NOT NULL,
    instance TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    started_ns INTEGER NOT NULL,
    finished_ns INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    message TEXT NOT NULL,
    chain TEXT NOT NULL,
    panic TEXT,
    log_tail TEXT NOT NULL,
    inputs TEXT NOT NULL,
    input_values TEXT NOT NULL,
    kept_dir TEXT,
    blocked INTEGER NOT NULL,
    -- What a run's failures must share to be one event: the masked message without the
    -- station, and the masked root error (NULL: not to be grouped with other stations).
    cause TEXT,
    root TEXT,
    -- The attempts of the station in this run, and whether the last one succeeded.
    attempts INTEGER NOT NULL DEFAULT 1,
    recovered INTEGER NOT NULL DEFAULT 0,
    -- Each failed attempt (JSON); NULL in stores older than version 3.
    failures TEXT
);
CREATE INDEX IF NOT EXISTS observations_by_defect ON observations (defect, finished_ns);
CREATE INDEX IF NOT EXISTS observations_by_run ON observations (run_id);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    defect INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    added_ns INTEGER NOT NULL,
    added_by TEXT
);
-- What people decided about a defect (marked it fixed, merged another into it), by whom.
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    defect INTEGER NOT NULL,
    what TEXT NOT NULL,
    by TEXT NOT NULL,
    at_ns INTEGER NOT NULL
);
-- The BLAKE3 identity of each file content met through the remote cache and its SHA-256
-- wire digest: it saves reading a file again to upload it.
CREATE TABLE IF NOT EXISTS remote_digests (
    blake3 BLOB PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL
) WITHOUT ROWID;
-- The files of results restored from the remote cache without their bytes, by path, with
-- their BLAKE3 content: in the remote cache only until they are fetched.
CREATE TABLE IF NOT EXISTS remote_files (path BLOB PRIMARY KEY, blake3 BLOB NOT NULL) WITHOUT ROWID;
";
