//! A store whose ledger was written by the previous layout (version 2: one observation per
//! failed attempt, no causes, notes without their author) opens with every defect,
//! observation and note it had, and later failures join its defects.

use crate::support::temp_store;
use choochoo::{DefectId, NoteKind, Runner, Store, station, workflow};

/// The previous layout's ledger and runs, as version 2 created them.
const VERSION_2: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES ('schema_version', '2');
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    workflow TEXT NOT NULL,
    profile TEXT NOT NULL,
    instance TEXT NOT NULL,
    started_ns INTEGER NOT NULL,
    finished_ns INTEGER,
    ran INTEGER, cached INTEGER, failed INTEGER
);
CREATE TABLE defects (
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
CREATE TABLE signatures (
    signature TEXT PRIMARY KEY,
    defect INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE observations (
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
    blocked INTEGER NOT NULL
);
CREATE INDEX observations_by_defect ON observations (defect, finished_ns);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    defect INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    added_ns INTEGER NOT NULL
);
";

/// What version 2 wrote for a full disk failing `write_cache` in run 1 (two attempts, two
/// observations), again in run 2, a refused connection, and a defect merged into the first.
const LEDGER_2: &str = r#"
INSERT INTO runs VALUES (1, 'cache', 'default', 'ci-3', 1714557600000000000, 1714557601000000000, 0, 0, 1);
INSERT INTO runs VALUES (2, 'cache', 'default', 'ci-3', 1714561200000000000, 1714561201000000000, 0, 0, 1);
INSERT INTO defects VALUES (1, 'No space left on device (os error 28)', 'mitigated', 0, NULL, 3,
    1714557600100000000, 1714561200100000000, 0, 3000000);
INSERT INTO defects VALUES (2, 'connection refused: 127.0.0.1:5432', 'open', 0, NULL, 1,
    1714557600200000000, 1714557600200000000, 0, 1000000);
INSERT INTO defects VALUES (3, 'Disk quota exceeded (os error 122)', 'open', 0, 1, 0, 0, 0, 0, 0);
INSERT INTO signatures VALUES
    ('integration::defects_upgrade::write_cache: No space left on device (os error <n>)', 1),
    ('integration::defects_upgrade::connect: connection refused: <addr>', 2),
    ('integration::defects_upgrade::write_cache: Disk quota exceeded (os error <n>)', 1);
INSERT INTO observations VALUES
    (1, 1, 'integration::defects_upgrade::write_cache: No space left on device (os error <n>)',
     'Handle: "No space left on device (os error 28)" on "ci-3"',
     'integration::defects_upgrade::write_cache', 'write cache', 'cache.cached', 'default', 'ci-3',
     1, 1714557600000000000, 1714557600100000000, 1000000,
     'No space left on device (os error 28)', '["No space left on device (os error 28)"]', NULL,
     '["writing 9 bytes"]', '[]', '[]', '/store/work/default/.failed/cache.cached.run1.0', 0),
    (2, 1, 'integration::defects_upgrade::write_cache: No space left on device (os error <n>)',
     'Handle: "No space left on device (os error 28)" on "ci-3"',
     'integration::defects_upgrade::write_cache', 'write cache', 'cache.cached', 'default', 'ci-3',
     1, 1714557600110000000, 1714557600120000000, 1000000,
     'No space left on device (os error 28)', '["No space left on device (os error 28)"]', NULL,
     '[]', '[]', '[]', NULL, 0),
    (3, 2, 'integration::defects_upgrade::connect: connection refused: <addr>',
     'Handle: "connection refused: 127.0.0.1:5432" on "ci-3"',
     'integration::defects_upgrade::connect', 'connect', 'cache.connected', 'default', 'ci-3',
     1, 1714557600150000000, 1714557600200000000, 1000000,
     'connection refused: 127.0.0.1:5432', '["connection refused: 127.0.0.1:5432"]', NULL,
     '[]', '[]', '[]', NULL, 0),
    (4, 1, 'integration::defects_upgrade::write_cache: No space left on device (os error <n>)',
     'Handle: "No space left on device (os error 28)" on "ci-3"',
     'integration::defects_upgrade::write_cache', 'write cache', 'cache.cached', 'default', 'ci-3',
     2, 1714561200000000000, 1714561200100000000, 1000000,
     'No space left on device (os error 28)', '["No space left on device (os error 28)"]', NULL,
     '[]', '[]', '[]', NULL, 0);
INSERT INTO notes VALUES (1, 1, 'remedy', 'empty /var/cache on the runner', 1714560000000000000);
"#;

/// Fails as the disk of the old ledger did.
#[station]
fn write_cache(x: &u64) -> Result<u64, std::io::Error> {
    let _ = x;
    Err(std::io::Error::from_raw_os_error(28))
}

workflow! {
    pub fn cache(x: u64) -> u64 {
        let cached = write_cache(x);
        cached
    }
}

#[test]
fn a_ledger_of_the_previous_layout_keeps_every_defect_observation_and_note() {
    let tmp = temp_store();
    let dir = tmp.store.dir().to_owned();
    drop(tmp.store);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("store.db")).unwrap();
    db.execute_batch(VERSION_2).unwrap();
    db.execute_batch(LEDGER_2).unwrap();
    drop(db);

    let store = Store::open(&dir).unwrap();
    let defects = store.defects().unwrap();
    let listed: Vec<(DefectId, u64, u64)> = defects
        .iter()
        .map(|d| (d.id(), d.count(), d.runs_seen()))
        .collect();
    let [one, two] = ["#1", "#2"].map(|id| id.parse::<DefectId>().unwrap());
    assert_eq!(listed, [(one, 3, 2), (two, 1, 1)]);
    let disk = &defects[0];
    assert_eq!(disk.status().to_string(), "mitigated");
    assert_eq!(disk.signatures().len(), 2, "its own and the merged one's");
    assert_eq!(disk.notes()[0].kind(), NoteKind::Remedy);
    assert_eq!(disk.notes()[0].text(), "empty /var/cache on the runner");
    assert_eq!(disk.notes()[0].added_by(), None, "not recorded then");
    assert_eq!(
        store.defect("#3".parse().unwrap()).unwrap().unwrap().id(),
        one
    );

    let observations = store.observations(one).unwrap();
    let ids: Vec<String> = observations.iter().map(|o| o.id().to_string()).collect();
    assert_eq!(ids, ["#1", "#2", "#4"], "every observation kept");
    assert!(
        observations
            .iter()
            .all(|o| o.attempts() == 1 && !o.recovered())
    );
    let first = &observations[0].failed_attempts()[0];
    assert_eq!(first.message(), "No space left on device (os error 28)");
    assert_eq!(
        first.kept_dir().map(|d| d.display().to_string()),
        Some("/store/work/default/.failed/cache.cached.run1.0".to_owned())
    );
    assert_eq!(observations[0].log_tail(), ["writing 9 bytes"]);

    // The next failure joins its defect: a third run, so its pace is known now.
    let error = Runner::new(&store)
        .instance("ci-3")
        .run(cache(9))
        .unwrap_err();
    let entry = &error.report().unwrap().entries()[0];
    assert_eq!(entry.defect().map(|d| d.id()), Some(one));
    let disk = store.defect(one).unwrap().unwrap();
    assert_eq!((disk.count(), disk.runs_seen()), (4, 3));
    assert!(disk.mean_interval().is_some());

    let db = rusqlite::Connection::open(dir.join("store.db")).unwrap();
    let version: String = db
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(version, "4");
}
