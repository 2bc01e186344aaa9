//! Power loss, not only kills: the store on a file system that loses power at every step of
//! a run in turn, and of a `gc` that compacts the record log. After each cut the store is
//! opened again on the real file system: it is consistent (`fsck` clean, every record's blob
//! there), no result is wrong, and only the stations whose records were not durable run again.
//! SQLite (`store.db`) is outside the power-loss backend: it syncs on its own.

use crate::faults::{fixture, lock, ran_in, run, take_ran};
use crate::record_log::{growing, run_growing, write_settled};
use choochoo::test_util::{Crash, open_with_crash};
use choochoo::{GcPolicy, Store};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// The store in `dir` is consistent: fsck finds nothing, and every record's blob is there.
fn assert_consistent(dir: &Path, context: &str) {
    let store = Store::open(dir).unwrap();
    let fsck = store.fsck(false).unwrap();
    assert!(fsck.is_clean(), "{context}: {fsck}");
    for record in choochoo::test_util::records(dir).unwrap() {
        if record.inline.is_none() {
            let hex: String = record
                .encoding_hash
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let blob = dir.join("blobs").join(&hex[..2]).join(&hex);
            assert!(
                blob.exists(),
                "{context}: a record names {}",
                blob.display()
            );
        }
    }
}

#[test]
fn a_power_cut_at_any_step_of_a_run_loses_only_what_was_not_durable() {
    let _lock = lock();
    let (graph, out) = fixture(1);
    let (reference, steps) = {
        let dir = tempfile::tempdir().unwrap();
        let crash = Arc::new(Crash::new(0));
        let store = open_with_crash(dir.path(), crash.clone()).unwrap();
        let output = run(&store, &graph, out).unwrap();
        assert_eq!(take_ran().len(), 20);
        (output, crash.steps())
    };
    assert!(steps >= 30, "the fixture publishes blobs: {steps} steps");
    let all: BTreeSet<u64> = (0..20).collect();
    let mut cuts = 0;
    for at in 1..=steps {
        let context = format!("power cut at step {at} of {steps}");
        let dir = tempfile::tempdir().unwrap();
        let crash = Arc::new(Crash::new(at));
        let store = open_with_crash(dir.path(), crash.clone()).unwrap();
        let result = run(&store, &graph, out);
        drop(store);
        take_ran();
        if !crash.crashed() {
            continue; // this run's batches took fewer steps
        }
        crash.power_off().unwrap();
        assert_consistent(dir.path(), &context);
        let recorded = choochoo::test_util::records(dir.path()).unwrap().len();
        let reported: BTreeSet<u64> = match &result {
            Ok(_) => all.clone(),
            Err(error) => ran_in(error),
        };
        let store = Store::open(dir.path()).unwrap();
        let output = run(&store, &graph, out).unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(output, reference, "{context}");
        let again = take_ran();
        let expected: BTreeSet<u64> = all.difference(&reported).copied().collect();
        assert_eq!(again, expected, "{context}: only what was not durable runs");
        assert_eq!(again.len() + recorded, 20, "{context}: {recorded} recorded");
        cuts += 1;
    }
    assert!(cuts as u64 >= steps - 3, "{cuts} of {steps} steps");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_power_cut_at_any_step_of_a_compaction_keeps_every_current_record() {
    let _lock = lock();
    let base = tempfile::tempdir().unwrap();
    let text = base.path().join("text");
    let (graph, out) = growing(&text);
    let store_dir = base.path().join("store");
    let reference = {
        let store = Store::open(&store_dir).unwrap();
        write_settled(&text, "a");
        run_growing(&store, &graph, out);
        write_settled(&text, "bb");
        run_growing(&store, &graph, out).0
    };
    let policy = GcPolicy {
        keep_runs: 0,
        ..GcPolicy::default()
    };
    let steps = {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&store_dir, dir.path());
        let crash = Arc::new(Crash::new(0));
        let store = open_with_crash(dir.path(), crash.clone()).unwrap();
        assert_eq!(store.gc(&policy).unwrap().records(), 6);
        crash.steps()
    };
    assert!(
        steps >= 5,
        "a compaction is create, write, sync, rename, sync: {steps}"
    );
    for at in 1..=steps {
        let context = format!("power cut at step {at} of {steps} of gc");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&store_dir, dir.path());
        let crash = Arc::new(Crash::new(at));
        let store = open_with_crash(dir.path(), crash.clone()).unwrap();
        assert!(store.gc(&policy).is_err(), "{context}: gc saw the power go");
        drop(store);
        crash.power_off().unwrap();
        assert_consistent(dir.path(), &context);
        let store = Store::open(dir.path()).unwrap();
        let again = run_growing(&store, &graph, out);
        assert_eq!(
            again,
            (reference.clone(), 0),
            "{context}: every current record kept"
        );
    }
}
