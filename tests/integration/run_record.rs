//! A run through the command line records itself while its first stations run: the store's
//! database is opened then, not before. What needs the run's id waits for it (a failure's
//! kept directory, the report), a run's journal is gone once it ends, and a store whose
//! database is of another version is refused with nothing of the run recorded.

use choochoo::{Ctx, File, Graph, Node, Store, station};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How many times `copy` ran, in this file's tests (each has its own source file).
static COPIED: AtomicUsize = AtomicUsize::new(0);

/// Copies the source's text into its own directory; fails on `fail`, after writing there.
#[station]
fn copy(ctx: &Ctx, source: &File) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    COPIED.fetch_add(1, Ordering::SeqCst);
    let text = std::fs::read_to_string(source.path())?;
    std::fs::write(ctx.output("copy.txt")?, &text)?;
    if text == "fail" {
        return Err("told to fail".into());
    }
    Ok(text)
}

fn build(source: &Path) -> (Graph, Node<String>) {
    let mut graph = Graph::new();
    let input = graph.input_named("source", File::new(source));
    let copied = graph.add_named("copied", Copy, (&input,));
    (graph, copied)
}

/// `run --quiet` of the graph over `source`, with the store in `store`.
fn run(store: &Path, source: &Path) -> ExitCode {
    let args = ["prog", "run", "--quiet", "--store"].map(str::to_owned);
    let args = args.into_iter().chain([store.display().to_string()]);
    choochoo::cli::main_with_args(args, || build(source))
}

fn journals(store: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(store.join("runs")).unwrap();
    entries
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// A store and a source in a new directory (kept alive by the first), after one run.
fn first_run() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (store, source) = (dir.path().join(".choochoo"), dir.path().join("in.txt"));
    std::fs::write(&source, "one").unwrap();
    assert_eq!(run(&store, &source), ExitCode::SUCCESS);
    (dir, store, source)
}

#[test]
fn what_needs_a_runs_id_has_it_and_its_journal_goes_with_it() {
    let _serial = crate::support::serial();
    let (_dir, store, source) = first_run();
    std::fs::write(&source, "fail").unwrap();
    assert_eq!(run(&store, &source), ExitCode::from(1));
    assert_eq!(
        journals(&store),
        Vec::<String>::new(),
        "each run's journal is gone"
    );

    let opened = Store::open(&store).unwrap();
    let report = opened
        .report(Some(2))
        .unwrap()
        .expect("the failed run is recorded");
    assert_eq!(report.run_id(), 2);
    assert!(opened.report(Some(3)).unwrap().is_none());
    // The failing attempt's directory is named by the run the station failed in.
    let kept = store.join("work/default/.failed/copied.run2.0/copy.txt");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "fail");
    let defects = opened.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:?}");
    assert_eq!(defects[0].last_run(), 2, "the failure is observed in run 2");
}

#[test]
fn a_store_of_another_version_is_refused_by_a_run_with_nothing_recorded() {
    let _serial = crate::support::serial();
    let (_dir, store, source) = first_run();
    let set_version = |version: &str| {
        let db = rusqlite::Connection::open(store.join("store.db")).unwrap();
        db.execute(
            "UPDATE meta SET value = ?1 WHERE name = 'schema_version'",
            [version],
        )
        .unwrap();
    };

    // The run's station runs while the database is held by another connection, which
    // makes it of another version before it lets go: the run fails as a usage error, and
    // what the station made is not recorded, though the batch was due long before.
    let db = rusqlite::Connection::open(store.join("store.db")).unwrap();
    db.pragma_update(None, "locking_mode", "EXCLUSIVE").unwrap();
    db.execute(
        "UPDATE meta SET value = '999' WHERE name = 'schema_version'",
        [],
    )
    .unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        drop(db);
    });
    std::fs::write(&source, "two").unwrap();
    COPIED.store(0, Ordering::SeqCst);
    assert_eq!(run(&store, &source), ExitCode::from(2));
    holder.join().unwrap();
    assert_eq!(
        COPIED.load(Ordering::SeqCst),
        1,
        "it ran while the database was held"
    );
    set_version("4");
    COPIED.store(0, Ordering::SeqCst);
    assert_eq!(run(&store, &source), ExitCode::SUCCESS);
    assert_eq!(
        COPIED.load(Ordering::SeqCst),
        1,
        "nothing of the refused run was kept"
    );
    let opened = Store::open(&store).unwrap();
    let last = opened.report(None).unwrap().expect("a run is recorded");
    assert_eq!(last.run_id(), 2, "the refused run was never recorded");
    assert_eq!(journals(&store), Vec::<String>::new());
}
