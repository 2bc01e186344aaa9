//! Store maintenance: fsck finds and removes what cannot be trusted; gc bounds the store.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{GcPolicy, Runner, station, workflow};

#[station]
fn big(n: &u64) -> Vec<u64> {
    executed("big");
    (0..*n).collect()
}

#[station]
fn small(xs: &Vec<u64>) -> u64 {
    executed("small");
    xs.iter().sum()
}

workflow! {
    pub fn sums(n: u64) -> u64 {
        let xs = big(n);
        small(xs)
    }
}

fn blobs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir.join("blobs")).unwrap().flatten() {
        out.extend(
            std::fs::read_dir(shard.path())
                .unwrap()
                .flatten()
                .map(|e| e.path()),
        );
    }
    out
}

#[test]
fn fsck_reports_then_repairs_corrupt_entries() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    runner.run(sums(50_000)).unwrap();
    assert!(tmp.store.fsck(false).unwrap().is_clean());

    // A flipped byte in the blob, and a corrupt inline value.
    let blob = blobs(tmp.store.dir()).pop().unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    for record in choochoo::test_util::records(tmp.store.dir()).unwrap() {
        if record.inline.is_some() {
            let edit = |record: &mut choochoo::test_util::LogRecord| record.inline = Some(vec![0]);
            assert!(choochoo::test_util::edit_record(tmp.store.dir(), &record.key, edit).unwrap());
        }
    }

    let found = tmp.store.fsck(false).unwrap();
    assert_eq!(found.problems().len(), 3, "{found}");
    assert!(!found.repaired());
    let repaired = tmp.store.fsck(true).unwrap();
    assert_eq!(repaired.problems().len(), 3, "{repaired}");
    assert!(tmp.store.fsck(false).unwrap().is_clean());
    take_executions();
    assert_eq!(
        *runner.run(sums(50_000)).unwrap().output(),
        (0..50_000u64).sum::<u64>()
    );
    assert_eq!(take_executions(), counts(&[("big", 1), ("small", 1)]));
}

#[test]
fn gc_keeps_current_records_and_drops_old_ones() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    for n in [40_000, 40_001, 40_002] {
        runner.run(sums(n)).unwrap();
    }
    take_executions();
    let policy = GcPolicy {
        keep_runs: 1,
        max_bytes: None,
        dry_run: true,
    };
    assert_eq!(tmp.store.gc(&policy).unwrap().records(), 4);
    assert_eq!(blobs(tmp.store.dir()).len(), 3, "a dry run removes nothing");
    let gc = tmp
        .store
        .gc(&GcPolicy {
            dry_run: false,
            ..policy
        })
        .unwrap();
    assert_eq!(gc.records(), 4);
    assert_eq!(blobs(tmp.store.dir()).len(), 1);
    // The current records stay: nothing runs.
    runner.run(sums(40_002)).unwrap();
    assert_eq!(take_executions(), counts(&[]));
    // An old one is gone: it runs again.
    runner.run(sums(40_000)).unwrap();
    assert_eq!(take_executions(), counts(&[("big", 1), ("small", 1)]));
}

#[test]
fn gc_keeps_what_recent_runs_used_and_what_pinned_runs_used() {
    let _serial = serial();
    let tmp = temp_store();
    let store = &tmp.store;
    let runner = Runner::new(store);
    let mut runs = Vec::new();
    for n in [30_003, 30_000, 30_001, 30_002, 30_001] {
        runs.push(runner.run(sums(n)).unwrap().report().run_id());
    }
    take_executions();
    store.pin(runs[1]).unwrap();
    assert_eq!(store.pinned().unwrap(), vec![runs[1]]);
    let error = store.pin(9_999).unwrap_err().to_string();
    assert!(error.contains("no run 9999"), "{error}");

    // The last run used 30_001 (from the store: created three runs ago), the pinned one
    // 30_000, the current records are 30_002's: only 30_003's two records may go.
    let policy = GcPolicy {
        keep_runs: 1,
        max_bytes: None,
        dry_run: true,
    };
    let dry = store.gc(&policy).unwrap();
    assert_eq!(dry.removed().len(), 2, "{dry}");
    assert!(
        dry.removed()
            .iter()
            .any(|line| line.contains("fsck::big` (default), 73")),
        "{dry}"
    );
    assert!(dry.to_string().contains("would remove 2 records"), "{dry}");
    let gc = store
        .gc(&GcPolicy {
            dry_run: false,
            ..policy.clone()
        })
        .unwrap();
    assert_eq!(gc.records(), 2);
    for n in [30_000, 30_001, 30_002] {
        runner.run(sums(n)).unwrap();
    }
    assert_eq!(take_executions(), counts(&[]));
    runner.run(sums(30_003)).unwrap();
    assert_eq!(take_executions(), counts(&[("big", 1), ("small", 1)]));

    // A size limit of nothing takes everything but the current and the pinned records.
    let tight = GcPolicy {
        keep_runs: 10,
        max_bytes: Some(0),
        dry_run: false,
    };
    store.gc(&tight).unwrap();
    runner.run(sums(30_000)).unwrap();
    assert_eq!(take_executions(), counts(&[]), "pinned");
    runner.run(sums(30_001)).unwrap();
    assert_eq!(take_executions(), counts(&[("big", 1), ("small", 1)]));
    // Unpinned, it goes like the rest.
    assert!(store.unpin(runs[1]).unwrap());
    store.gc(&tight).unwrap();
    runner.run(sums(30_000)).unwrap();
    assert_eq!(take_executions(), counts(&[("big", 1), ("small", 1)]));
}

#[test]
fn gc_keeps_what_a_run_used_when_it_used_the_same_as_the_run_before() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    for n in [20_009, 20_000, 20_000, 20_001, 20_002] {
        runner.run(sums(n)).unwrap();
    }
    take_executions();
    let policy = GcPolicy {
        keep_runs: 3,
        max_bytes: None,
        dry_run: false,
    };
    assert_eq!(tmp.store.gc(&policy).unwrap().records(), 2);
    // The second run of 20_000 used the first one's keys, 20_001 keys of its own.
    for n in [20_000, 20_001, 20_002] {
        runner.run(sums(n)).unwrap();
        assert_eq!(take_executions(), counts(&[]), "{n}");
    }
    runner.run(sums(20_009)).unwrap();
    assert_eq!(take_executions(), counts(&[("big", 1), ("small", 1)]));
}
