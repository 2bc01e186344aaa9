//! A run with nothing to do: what the store has is settled on the calling thread, and the
//! worker threads start only when a station needs more than a lookup.

use crate::discovered::write_settled;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::test_util::threads_started;
use choochoo::{File, Runner, Status, station, workflow};

#[station]
fn measure(text: &File) -> Result<usize, std::io::Error> {
    executed("measure");
    Ok(std::fs::read_to_string(text.path())?.len())
}

#[station]
fn twice(n: &usize) -> usize {
    executed("twice");
    2 * n
}

workflow! {
    fn doubled(text: File) -> usize {
        let n = measure(text);
        twice(n)
    }
}

#[test]
fn a_run_the_store_has_everything_for_starts_no_thread() {
    let _serial = serial();
    let tmp = temp_store();
    let path = tmp.dir.path().join("text.txt");
    write_settled(&path, "four");
    let first = Runner::new(&tmp.store).jobs(2);
    assert_eq!(*first.run(doubled(File::new(&path))).unwrap().output(), 8);
    assert!(threads_started(&first));
    assert_eq!(take_executions(), counts(&[("measure", 1), ("twice", 1)]));

    let runner = Runner::new(&tmp.store).jobs(2);
    let run = runner.run(doubled(File::new(&path))).unwrap();
    assert_eq!(*run.output(), 8);
    assert_eq!(run.report().count(Status::Cached), 2);
    assert_eq!(take_executions(), counts(&[]));
    assert!(!threads_started(&runner), "a no-op starts no worker");

    // A changed input is read on the pool, and what it changes runs there.
    write_settled(&path, "seven");
    let run = runner.run(doubled(File::new(&path))).unwrap();
    assert_eq!(*run.output(), 10);
    assert_eq!(take_executions(), counts(&[("measure", 1), ("twice", 1)]));
    assert!(threads_started(&runner));
}

#[test]
fn a_station_the_store_lacks_runs_on_the_pool_and_the_rest_is_cached() {
    let _serial = serial();
    let tmp = temp_store();
    let path = tmp.dir.path().join("text.txt");
    write_settled(&path, "four");
    Runner::new(&tmp.store)
        .run(doubled(File::new(&path)))
        .unwrap();
    take_executions();
    // The record of `twice` is there, but `measure`'s output is gone: it runs again (on the
    // pool), and `twice` is cached after it.
    let measure = |record: &choochoo::test_util::LogRecord| record.station.contains("measure");
    assert_eq!(
        choochoo::test_util::forget_records(tmp.store.dir(), measure).unwrap(),
        1
    );
    let runner = Runner::new(&tmp.store).jobs(2);
    let run = runner.run(doubled(File::new(&path))).unwrap();
    assert_eq!(*run.output(), 8);
    assert_eq!(take_executions(), counts(&[("measure", 1)]));
    assert_eq!(run.report().count(Status::Cached), 1);
    assert!(threads_started(&runner));
}
