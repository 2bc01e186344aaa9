//! A compiler's warnings, seen on the command line with no terminal: a build whose items
//! run the machine's `cc` and forward what it writes to standard error with `Ctx::warn`.
//! `run` prints them at its end (and `run -v` as they come, with what stations log),
//! `status` under the item, `report` in the HTML page; a run that compiles nothing prints
//! none. A failure of three lines, as a compiler writes them, keeps them, with the count of
//! what it blocked on a line of its own, and the HTML page keeps them preformatted.

use crate::cli::{PROGRAM, Site};
use choochoo::{Ctx, File, Graph, Node, Status, Store, station};
use std::path::Path;
use std::process::Command;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Compiles a source with `cc -Wall`, its warnings passed on; `#error` fails as a compiler
/// does, in three lines. Each compile is a line of `compiled.txt`.
#[station]
fn compile(ctx: &Ctx, source: &File) -> Result<File, BoxError> {
    let mut compiled = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open("compiled.txt")?;
    std::io::Write::write_all(
        &mut compiled,
        format!("{}\n", source.path().display()).as_bytes(),
    )?;
    ctx.log(format!("compiling {}", source.path().display()));
    if std::fs::read_to_string(source.path())?.contains("#error") {
        return Err(three_lines(source.path()).into());
    }
    let object = ctx.output("object.o")?;
    let cc = Command::new("cc")
        .env("LC_ALL", "C")
        .args(["-Wall", "-c"])
        .arg(source.path())
        .arg("-o")
        .arg(&object)
        .output()?;
    for line in String::from_utf8_lossy(&cc.stderr).lines() {
        ctx.warn(line);
    }
    if !cc.status.success() {
        return Err(String::from_utf8_lossy(&cc.stderr).into_owned().into());
    }
    Ok(File::new(object))
}

/// The error `compile` gives for `#error`, as gcc writes it.
fn three_lines(source: &Path) -> String {
    format!(
        "{}:1:2: error: #error stop here\n    1 | #error stop here\n      |  ^~~~~",
        source.display()
    )
}

/// The objects' total size.
#[station]
fn archive(objects: &Vec<File>) -> std::io::Result<u64> {
    let mut size = 0;
    for object in objects {
        size += std::fs::metadata(object.path())?.len();
    }
    Ok(size)
}

/// Twice the size.
#[station]
fn link(size: &u64) -> u64 {
    2 * size
}

/// The build: every `src/*.c` of the working directory compiled, archived, linked.
pub(crate) fn build() -> (Graph, Node<u64>) {
    let mut sources: Vec<File> = std::fs::read_dir("src")
        .map(|dir| {
            dir.flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".c"))
                .map(|name| File::new(Path::new("src").join(name)))
                .collect()
        })
        .unwrap_or_default();
    sources.sort();
    let mut g = Graph::new();
    let sources = g.input_named("sources", sources);
    let objects = g.map_named("objects", Compile, &sources, ());
    let archive = g.add_named("archive", Archive, (&objects,));
    let program = g.add_named("program", Link, (&archive,));
    (g, program)
}

/// `src/quiet.c`, which compiles cleanly, and `src/noisy.c`, with two unused variables.
fn site() -> Site {
    let site = Site::new().with(PROGRAM, "warnings");
    write(&site, "quiet.c", "int quiet(void) { return 1; }\n");
    write(
        &site,
        "noisy.c",
        "int noisy(void) { int a; int b; return 2 < 3; }\n",
    );
    site
}

fn write(site: &Site, name: &str, text: &str) {
    let src = site.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(name), text).unwrap();
}

/// Every compile there was, by source, sorted (items compile in parallel).
fn compiled(site: &Site) -> Vec<String> {
    let mut compiled: Vec<String> = std::fs::read_to_string(site.path().join("compiled.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    compiled.sort();
    compiled
}

/// The position of the first line of `text` holding `word`.
fn at(text: &str, word: &str) -> usize {
    text.lines()
        .position(|line| line.contains(word))
        .unwrap_or_else(|| panic!("no line holds {word:?}:\n{text}"))
}

fn store(site: &Site) -> Store {
    Store::open(site.path().join(".choochoo")).unwrap()
}

/// What `cc` said of `src/noisy.c`, from the store's record of the last run that compiled it.
fn noisy_warnings(site: &Site, run: Option<i64>) -> Vec<String> {
    let report = store(site).report(run).unwrap().unwrap();
    let noisy = report.find("objects[src/noisy.c]").next().unwrap();
    noisy.warnings().to_vec()
}

#[test]
fn a_compilers_warnings_are_printed_at_the_end_saved_and_shown() {
    let site = site();
    let run = site.expect(0, &["run"]);
    assert_eq!(compiled(&site), ["src/noisy.c", "src/quiet.c"]);
    let warnings = noisy_warnings(&site, None);
    let unused: Vec<&String> = warnings
        .iter()
        .filter(|line| line.contains("warning: unused variable"))
        .collect();
    assert_eq!(unused.len(), 2, "{warnings:?}");
    for name in ["'a'", "'b'"] {
        assert!(unused.iter().any(|line| line.contains(name)), "{unused:?}");
    }

    // At the end of the run, under the item's name, every line as `cc` wrote it.
    let block: String = warnings.iter().map(|line| format!("  {line}\n")).collect();
    assert!(
        run.stderr
            .contains(&format!("warnings of objects[src/noisy.c]:\n{block}")),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("warnings of ").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("compiling src/"), "logs only with -v");

    // `status` shows them under the map's line, and under the item's own with `--items`.
    let shown: String = std::iter::once("           objects[src/noisy.c] warned:\n".to_owned())
        .chain(warnings.iter().map(|line| format!("           | {line}\n")))
        .collect();
    let status = site.expect(0, &["status"]).stdout;
    let map = at(&status, "objects[…]");
    assert!(status.contains(&shown), "{shown} in\n{status}");
    assert_eq!(
        at(&status, "objects[src/noisy.c] warned:"),
        map + 1,
        "{status}"
    );
    let listed = site.expect(0, &["status", "--items"]).stdout;
    let item = at(&listed, "cached     objects[src/noisy.c]");
    assert!(listed.contains(&shown), "{shown} in\n{listed}");
    assert_eq!(
        at(&listed, "objects[src/noisy.c] warned:"),
        item + 1,
        "{listed}"
    );
    assert!(!listed.contains("objects[src/quiet.c] warned"), "{listed}");

    // The HTML page of the run has them, escaped, preformatted.
    let page = site.path().join("report.html");
    site.expect(0, &["report", "--out", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    let escaped = warnings
        .join("\n")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(
        html.contains(&format!(
            "<h3>objects[src/noisy.c]</h3>\n<pre class=\"warnings\">{escaped}</pre>"
        )),
        "{html}"
    );
    assert!(
        escaped.contains("2 &lt; 3"),
        "cc shows the line it warns of: {escaped}"
    );

    // Nothing changed: nothing compiles, and nothing warns.
    let again = site.expect(0, &["run"]);
    assert_eq!(compiled(&site).len(), 2, "no compile");
    assert!(!again.stderr.contains("warnings of"), "{}", again.stderr);
    let last = store(&site).report(None).unwrap().unwrap();
    assert!(last.entries().iter().all(|e| e.warnings().is_empty()));
    // `status` still shows what the item's last compile said.
    let status = site.expect(0, &["status"]).stdout;
    assert!(status.contains(&shown), "{status}");

    // Fixed: the next compile says nothing, and neither does `status`.
    write(&site, "noisy.c", "int noisy(void) { return 2 < 3; }\n");
    let fixed = site.expect(0, &["run"]);
    assert_eq!(compiled(&site).len(), 3, "noisy.c compiled again");
    assert!(!fixed.stderr.contains("warnings of"), "{}", fixed.stderr);
    let status = site.expect(0, &["status"]).stdout;
    assert!(!status.contains("warned:"), "{status}");
}

#[test]
fn run_verbose_shows_warnings_and_logs_as_they_come() {
    let site = site();
    let run = site.expect(0, &["run", "-v", "--jobs", "1"]);
    let err = &run.stderr;
    let logged = at(err, "log      objects[src/noisy.c]: compiling src/noisy.c");
    let first = at(err, "warning  objects[src/noisy.c]: ");
    // The first lines holding them are the ones printed as they came.
    let (a, b) = (
        at(err, "unused variable 'a'"),
        at(err, "unused variable 'b'"),
    );
    for line in [a, b] {
        let line = err.lines().nth(line).unwrap();
        assert!(
            line.contains("warning  objects[src/noisy.c]: src/noisy.c:"),
            "{line}"
        );
    }
    let ran = at(err, "ran      objects[src/noisy.c]");
    let end = at(err, "warnings of objects[src/noisy.c]:");
    assert!(
        logged < first && first <= a.min(b) && a.max(b) < ran && ran < end,
        "{err}"
    );
    assert!(
        err.contains("log      objects[src/quiet.c]: compiling src/quiet.c"),
        "{err}"
    );
    assert_eq!(compiled(&site).len(), 2);

    // Without `-v`, only the end.
    write(
        &site,
        "noisy.c",
        "int noisy(void) { int a; int b; return 3 < 2; }\n",
    );
    let quiet = site.expect(0, &["run"]);
    assert_eq!(compiled(&site).len(), 3);
    assert!(
        !quiet.stderr.contains("warning  objects"),
        "{}",
        quiet.stderr
    );
    assert!(!quiet.stderr.contains("log      "), "{}", quiet.stderr);
    assert!(
        quiet.stderr.contains("warnings of objects[src/noisy.c]:"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn a_failure_of_three_lines_keeps_them_with_the_blocked_count_on_its_own() {
    let site = site();
    write(&site, "bad.c", "#error stop here\n");
    let failed = site.expect(1, &["run"]);
    let lines = three_lines(Path::new("src/bad.c"));
    assert!(
        failed.stderr.contains(&format!(
            "error: station `objects` failed: objects[src/bad.c] failed: {lines}\n2 blocked\n"
        )),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("  objects[src/bad.c] failed after "),
        "{}",
        failed.stderr
    );

    // The item is named in its observation, which has the three lines.
    let store = store(&site);
    let defect = &store.defects().unwrap()[0];
    let observation = &store.observations(defect.id()).unwrap()[0];
    assert_eq!(observation.node(), "objects[src/bad.c]");
    assert_eq!(observation.chain(), std::slice::from_ref(&lines));
    let report = store.report(None).unwrap().unwrap();
    let bad = report.find("objects[src/bad.c]").next().unwrap();
    assert_eq!((bad.status(), bad.error()), (Status::Failed, Some(&*lines)));

    // The HTML page has them preformatted, in the failure and in the stations' table.
    let page = site.path().join("report.html");
    site.expect(0, &["report", "--out", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    let pre = format!("<pre class=\"text\">{lines}</pre>");
    let failure = &html[html.find("data-node=\"objects[src/bad.c]\"").unwrap()..];
    assert!(
        failure[..failure.find("</article>").unwrap()].contains(&format!("<li>{pre}</li>")),
        "{html}"
    );
    assert!(html.contains(&format!("<td>{pre}</td>")), "{html}");
}
