//! What stations warn of (`Ctx::warn`) is in the report's entries of the run in which they
//! ran, saved with the run, and bounded; a station found in the store warns of nothing. The
//! progress listener hears each warning and logged line as it comes. An error of several
//! lines keeps them, and the count of what it blocked is on a line of its own.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Event, Graph, Runner, Status, Transient, station, workflow};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Counts a text's words, warning twice on the way.
#[station]
fn count_words(ctx: &Ctx, text: &str) -> usize {
    executed("count_words");
    ctx.log("counting");
    ctx.warn(format!("`{text}` has no final period"));
    ctx.warn("counted <words> & spaces");
    text.split_whitespace().count()
}

/// Doubles a number, saying nothing.
#[station]
fn double(n: &usize) -> usize {
    executed("double");
    2 * n
}

workflow! {
    fn words(text: String) -> usize {
        let n = count_words(text);
        double(n)
    }
}

#[test]
fn a_station_that_ran_has_its_warnings_and_a_cached_one_none() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let run = runner.run(words("fail fix run".to_owned())).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("count_words", 1), ("double", 1)])
    );
    let n = run.report().find("n").next().unwrap();
    assert_eq!(
        n.warnings(),
        [
            "`fail fix run` has no final period",
            "counted <words> & spaces"
        ]
    );
    assert!(
        run.report()
            .find("output")
            .next()
            .unwrap()
            .warnings()
            .is_empty()
    );
    let printed = run.report().to_string();
    assert!(
        printed.contains(
            "\n          warning: `fail fix run` has no final period\n          warning: counted <words> & spaces\n"
        ),
        "{printed}"
    );

    // The run's record has them: a past run's report reads them back.
    let saved = tmp
        .store
        .report(Some(run.report().run_id()))
        .unwrap()
        .unwrap();
    assert_eq!(
        saved.find("words.n").next().unwrap().warnings(),
        n.warnings()
    );

    // Nothing changed: nothing runs, and nothing warns.
    let again = runner.run(words("fail fix run".to_owned())).unwrap();
    assert_eq!(take_executions(), counts(&[]));
    let n = again.report().find("n").next().unwrap();
    assert_eq!(n.status(), Status::Cached);
    assert!(n.warnings().is_empty());
    let saved = tmp.store.report(None).unwrap().unwrap();
    assert!(saved.entries().iter().all(|e| e.warnings().is_empty()));
}

#[test]
fn the_listener_hears_warnings_and_log_lines_as_they_come() {
    let _serial = serial();
    let tmp = temp_store();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let seen = heard.clone();
    let runner = Runner::new(&tmp.store).progress(move |event| {
        let line = match event {
            Event::Log { node, line } => format!("log {node}: {line}"),
            Event::Warning { node, line } => format!("warning {node}: {line}"),
            Event::Finished { node, status, .. } => format!("{status} {node}"),
            _ => return,
        };
        seen.lock().unwrap().push(line);
    });
    runner.run(words("a b".to_owned())).unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        [
            "log words.n: counting",
            "warning words.n: `a b` has no final period",
            "warning words.n: counted <words> & spaces",
            "ran words.n",
            "ran words.output",
        ]
    );
}

/// Warns of `lines` lines, the first one `long` characters long.
#[station]
fn chatty(ctx: &Ctx, lines: &usize, long: &usize) -> usize {
    executed("chatty");
    ctx.warn("x".repeat(*long));
    // Each line of a text given at once is a line of its own.
    let rest: Vec<String> = (1..*lines).map(|i| format!("line {i}")).collect();
    ctx.warn(rest.join("\n"));
    *lines
}

#[test]
fn a_chatty_station_keeps_a_hundred_lines_each_cut() {
    let _serial = serial();
    let tmp = temp_store();
    let mut g = Graph::new();
    let (lines, long) = (g.input(150usize), g.input(5000usize));
    let out = g.add_named("chatty", Chatty, (&lines, &long));
    let run = Runner::new(&tmp.store).run_graph(&g, out).unwrap();
    assert_eq!(take_executions(), counts(&[("chatty", 1)]));
    let expected: Vec<String> = std::iter::once(format!("{}…", "x".repeat(1000)))
        .chain((1..100).map(|i| format!("line {i}")))
        .chain(["(50 more warning lines were not kept)".to_owned()])
        .collect();
    assert_eq!(run.report().entries()[0].warnings(), expected);
    let saved = tmp.store.report(None).unwrap().unwrap();
    assert_eq!(
        saved.entries()[0].warnings(),
        expected,
        "the store keeps as much"
    );
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails at its first attempt (a transient failure), warning of which attempt it is at.
#[station(retries = 2, backoff = "1ms")]
fn flaky(ctx: &Ctx, name: &str) -> Result<String, Transient> {
    executed("flaky");
    let attempt = FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    ctx.warn(format!("attempt {attempt}"));
    match attempt {
        1 => Err(Transient::new(format!("{name} is not answering"))),
        _ => Ok(name.to_owned()),
    }
}

workflow! {
    fn ask(name: String) -> String {
        flaky(name)
    }
}

#[test]
fn a_station_tried_again_has_its_last_attempts_warnings() {
    let _serial = serial();
    let tmp = temp_store();
    let run = Runner::new(&tmp.store).run(ask("db".to_owned())).unwrap();
    assert_eq!(take_executions(), counts(&[("flaky", 2)]));
    assert_eq!(run.report().entries()[0].warnings(), ["attempt 2"]);
}

/// Fails like a compiler: three lines.
#[station]
fn compile_c(ctx: &Ctx, source: &str) -> Result<String, std::io::Error> {
    executed("compile_c");
    ctx.warn(format!("{source}:1:1: warning: no newline at end of file"));
    Err(std::io::Error::other(format!(
        "{source}:3:10: fatal error: lua.h: No such file or directory\n    3 | #include \"lua.h\"\ncompilation terminated."
    )))
}

workflow! {
    fn build(source: String) -> usize {
        let object = compile_c(source);
        let size = count_words(object);
        double(size)
    }
}

#[test]
fn an_error_of_three_lines_keeps_them_and_the_blocked_count_has_its_own() {
    let _serial = serial();
    let tmp = temp_store();
    let error = Runner::new(&tmp.store)
        .run(build("src/lapi.c".to_owned()))
        .unwrap_err();
    assert_eq!(take_executions(), counts(&[("compile_c", 1)]));
    let lines = "src/lapi.c:3:10: fatal error: lua.h: No such file or directory\n    3 | #include \"lua.h\"\ncompilation terminated.";
    assert_eq!(
        error.to_string(),
        format!("station `object` failed: {lines}\n2 blocked")
    );
    let report = error.report().unwrap();
    let object = report.find("object").next().unwrap();
    assert_eq!(object.error(), Some(lines));
    assert_eq!(
        object.warnings(),
        ["src/lapi.c:1:1: warning: no newline at end of file"],
        "a failed station's warnings are kept too"
    );
    let printed = report.to_string();
    assert!(
        printed.contains(
            ": src/lapi.c:3:10: fatal error: lua.h: No such file or directory\n              3 | #include \"lua.h\"\n          compilation terminated.\n"
        ),
        "{printed}"
    );
}

static STUCK_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails every attempt (a transient failure), warning of which attempt it is at.
#[station(retries = 1, backoff = "1ms")]
fn stuck(ctx: &Ctx, name: &str) -> Result<String, Transient> {
    executed("stuck");
    let attempt = STUCK_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    ctx.warn(format!("attempt {attempt}"));
    Err(Transient::new(format!("{name} is not answering")))
}

workflow! {
    fn wait_for(name: String) -> String {
        stuck(name)
    }
}

#[test]
fn a_station_that_fails_on_its_retry_has_its_last_attempts_warnings_and_the_ledger_its_first() {
    let _serial = serial();
    let tmp = temp_store();
    let error = Runner::new(&tmp.store)
        .run(wait_for("db".to_owned()))
        .unwrap_err();
    assert_eq!(take_executions(), counts(&[("stuck", 2)]));
    let entry = &error.report().unwrap().entries()[0];
    assert_eq!(entry.status(), Status::Failed);
    assert_eq!(entry.warnings(), ["attempt 2"]);
    let saved = tmp.store.report(None).unwrap().unwrap();
    assert_eq!(saved.entries()[0].warnings(), ["attempt 2"]);

    // The ledger's observation of the failure has what it warned of among its logged lines.
    let defect = &tmp.store.defects().unwrap()[0];
    let observations = tmp.store.observations(defect.id()).unwrap();
    assert_eq!(observations[0].log_tail(), ["warning: attempt 1"]);
}

/// Measures a word, warning of a long one.
#[station]
fn measure(ctx: &Ctx, word: &String) -> usize {
    executed("measure");
    if word.len() > 4 {
        ctx.warn(format!("`{word}` is long"));
    }
    word.len()
}

/// Each warning line of `report` with its node, in order.
fn warned(report: &choochoo::Report) -> Vec<(String, String)> {
    let lines = report.entries().iter().flat_map(|e| {
        let node = e.node();
        e.warnings()
            .iter()
            .map(move |line| (node.to_owned(), line.clone()))
    });
    lines.collect()
}

#[test]
fn each_map_item_has_its_own_warnings_and_one_found_in_the_store_none() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let run = |words: &[&str]| {
        let mut g = Graph::new();
        let list = g.input(words.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        let lengths = g.map_named_by("lengths", Measure, &list, (), String::clone);
        warned(runner.run_graph(&g, lengths).unwrap().report())
    };
    let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, l)| (n.to_string(), l.to_string()))
            .collect()
    };
    let long = pairs(&[
        ("lengths[station]", "`station` is long"),
        ("lengths[express]", "`express` is long"),
    ]);
    assert_eq!(run(&["fail", "station", "express"]), long);
    assert_eq!(take_executions(), counts(&[("measure", 3)]));
    assert_eq!(warned(&tmp.store.report(None).unwrap().unwrap()), long);

    // Found in the store, no item warns; of the items that run again, only they do.
    assert_eq!(run(&["fail", "station", "express"]), []);
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(
        run(&["fail", "stations", "express"]),
        pairs(&[("lengths[stations]", "`stations` is long")])
    );
    assert_eq!(take_executions(), counts(&[("measure", 1)]));
}

#[test]
fn a_store_made_before_runs_kept_warnings_opens_and_keeps_them() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join(".choochoo");
    drop(choochoo::Store::open(&store_dir).unwrap());
    // The layout of the same version before `run_warnings`: a table only added, so the
    // version stays and the next open creates it.
    let db = rusqlite::Connection::open(store_dir.join("store.db")).unwrap();
    db.execute_batch("DROP TABLE run_warnings;").unwrap();
    drop(db);

    let store = choochoo::Store::open(&store_dir).unwrap();
    let run = Runner::new(&store).run(words("a b".to_owned())).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("count_words", 1), ("double", 1)])
    );
    let saved = store.report(Some(run.report().run_id())).unwrap().unwrap();
    assert_eq!(
        saved.find("words.n").next().unwrap().warnings(),
        ["`a b` has no final period", "counted <words> & spaces"]
    );
}
