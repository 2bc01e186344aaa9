//! Map items named by what they are: by the first file in the item (its path as given),
//! else by a short hash, or by the program's function. An item's directory is the same from
//! run to run, so an item compiled again to the same bytes hands the same value downstream
//! and early cutoff holds across the map; each item is an entry of the report, a span of
//! the trace and the HTML timeline, and counts into the progress total.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Event, File, Graph, Node, Runner, Status, station};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// "Compiles" a source: its lines without `//` comments, into `<stem>.o` in the item's own
/// directory.
#[station]
fn compile(ctx: &Ctx, source: &File) -> std::io::Result<File> {
    executed("compile");
    let text = std::fs::read_to_string(source.path())?;
    if text.contains("#error") {
        return Err(std::io::Error::other(format!(
            "{}: #error",
            source.path().display()
        )));
    }
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect();
    let stem = source.path().file_stem().unwrap().to_string_lossy();
    let object = ctx.out_dir().join(format!("{stem}.o"));
    std::fs::write(&object, code)?;
    Ok(File::new(object))
}

/// Joins the objects into one "program".
#[station]
pub(crate) fn link(ctx: &Ctx, objects: &Vec<File>) -> std::io::Result<File> {
    executed("link");
    let mut program = String::new();
    for object in objects {
        program.push_str(&std::fs::read_to_string(object.path())?);
    }
    let out = ctx.out_dir().join("program");
    std::fs::write(&out, program)?;
    Ok(File::new(out))
}

/// A source tree of `names` in a temporary directory, each a line of code and a comment.
pub(crate) struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub(crate) fn new(names: &[&str]) -> Tree {
        let tree = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        for name in names {
            tree.write(
                name,
                &format!("// {name}\nint {}();\n", name.replace('.', "_")),
            );
        }
        tree
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join("src").join(name)
    }

    pub(crate) fn write(&self, name: &str, text: &str) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub(crate) fn sources(&self, names: &[&str]) -> Vec<File> {
        names
            .iter()
            .map(|name| File::new(self.path(name)))
            .collect()
    }
}

/// Compiles each source through a map, `objects`, and links them, `program`.
pub(crate) fn build(sources: Vec<File>) -> (Graph, Node<File>) {
    let mut g = Graph::new();
    let sources = g.input_named("sources", sources);
    let objects = g.map_named("objects", Compile, &sources, ());
    let program = g.add_named("program", Link, (&objects,));
    (g, program)
}

/// The entry of `node` in `report`.
pub(crate) fn entry<'r>(report: &'r choochoo::Report, node: &str) -> &'r choochoo::Entry {
    report
        .entries()
        .iter()
        .find(|entry| entry.node() == node)
        .unwrap_or_else(|| panic!("no entry {node} in\n{report}"))
}

pub(crate) const NAMES: [&str; 3] = ["a.c", "b.c", "c.c"];

#[test]
fn items_are_named_by_their_file_and_keep_their_directory_from_run_to_run() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let (g, program) = build(tree.sources(&NAMES));
    let first = Runner::new(&tmp.store).run_graph(&g, program).unwrap();
    assert_eq!(take_executions(), counts(&[("compile", 3), ("link", 1)]));
    let item = format!("objects[{}]", tree.path("b.c").display());
    let b = entry(first.report(), &item);
    assert_eq!(b.item(), Some(tree.path("b.c").to_str().unwrap()));
    assert_eq!((b.status(), b.reason()), (Status::Ran, Some("new item")));
    let dir = tmp
        .store
        .dir()
        .join("work/default/objects")
        .join(sanitized(&tree.path("b.c")));
    let object = dir.join("b.o");
    assert!(object.is_file(), "{} is not there", object.display());

    // `b.c` changes: its item runs again, in the same directory, under the same name.
    tree.write("b.c", "// b.c\nint b_c(int);\n");
    let second = Runner::new(&tmp.store).run_graph(&g, program).unwrap();
    assert_eq!(take_executions(), counts(&[("compile", 1), ("link", 1)]));
    let b = entry(second.report(), &item);
    assert_eq!(b.status(), Status::Ran);
    assert_eq!(b.reason(), Some("input `source` changed"));
    assert_eq!(std::fs::read_to_string(&object).unwrap(), "int b_c(int);\n");
    let statuses: Vec<(Option<&str>, Status)> = second
        .report()
        .entries()
        .iter()
        .map(|e| (e.item().map(|i| &i[i.len() - 3..]), e.status()))
        .collect();
    assert_eq!(
        statuses,
        [
            (None, Status::Ran),
            (Some("a.c"), Status::Cached),
            (Some("b.c"), Status::Ran),
            (Some("c.c"), Status::Cached),
            (None, Status::Ran),
        ],
        "the map, then its items in the list's order"
    );
    assert!(
        second
            .report()
            .to_string()
            .ends_with("2 stations: 2 ran; 3 items: 1 ran, 2 cached"),
        "{}",
        second.report()
    );
}

#[test]
fn early_cutoff_holds_across_a_map() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let (g, program) = build(tree.sources(&NAMES));
    let runner = Runner::new(&tmp.store);
    let before = runner.run_graph(&g, program).unwrap().into_output();
    let linked = std::fs::read_to_string(before.path()).unwrap();
    assert_eq!(take_executions(), counts(&[("compile", 3), ("link", 1)]));

    // A comment-only edit: `b.c` compiles again, to the same bytes at the same path.
    tree.write("b.c", "// b.c, reworded\nint b_c();\n");
    let run = runner.run_graph(&g, program).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1)]),
        "the program is not linked again"
    );
    let item = format!("objects[{}]", tree.path("b.c").display());
    assert_eq!(entry(run.report(), &item).status(), Status::Ran);
    assert_eq!(entry(run.report(), "program").status(), Status::Cached);
    assert_eq!(run.output(), &before);
    assert_eq!(
        std::fs::read_to_string(run.output().path()).unwrap(),
        linked
    );

    // A real edit relinks.
    tree.write("b.c", "// b.c\nint b_c(long);\n");
    runner.run_graph(&g, program).unwrap();
    assert_eq!(take_executions(), counts(&[("compile", 1), ("link", 1)]));
}

#[station]
fn measure(text: &String) -> usize {
    executed("measure");
    text.len()
}

/// A source and the flags to build it with: named by its file, the first in it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Unit {
    flags: String,
    source: File,
}

#[station]
fn flagged(unit: &Unit) -> String {
    executed("flagged");
    format!("{} {}", unit.flags, unit.source.path().display())
}

#[test]
fn an_item_without_a_file_is_named_by_a_short_hash_and_one_with_a_file_by_its_path() {
    let _serial = serial();
    let tmp = temp_store();
    let mut g = Graph::new();
    let words = g.input(vec!["fail".to_owned(), "fix".to_owned()]);
    let lengths = g.map_named("lengths", Measure, &words, ());
    let run = Runner::new(&tmp.store).run_graph(&g, lengths).unwrap();
    let items: Vec<&str> = run
        .report()
        .entries()
        .iter()
        .filter_map(|e| e.item())
        .collect();
    assert_eq!(items.len(), 2);
    for item in &items {
        assert_eq!(item.len(), 12, "{item}");
        assert!(item.bytes().all(|b| b.is_ascii_hexdigit()), "{item}");
    }
    assert_ne!(items[0], items[1]);
    // The same item, named the same in another graph and another run: found, not run.
    let mut g = Graph::new();
    let words = g.input(vec!["fix".to_owned()]);
    let lengths = g.map_named("lengths", Measure, &words, ());
    let again = Runner::new(&tmp.store).run_graph(&g, lengths).unwrap();
    assert_eq!(again.report().entries()[1].item(), Some(items[1]));
    assert_eq!(again.report().entries()[1].status(), Status::Cached);

    let tree = Tree::new(&["main.c"]);
    let mut g = Graph::new();
    let units = g.input(vec![Unit {
        flags: "-O2".to_owned(),
        source: File::new(tree.path("main.c")),
    }]);
    let built = g.map_named("built", Flagged, &units, ());
    let run = Runner::new(&tmp.store).run_graph(&g, built).unwrap();
    let item = &run.report().entries()[1];
    assert_eq!(item.item(), tree.path("main.c").to_str());
    assert_eq!(
        item.label(),
        Some(&*format!("built[{}]", tree.path("main.c").display()))
    );
}

#[test]
fn map_named_by_names_items_by_the_programs_function() {
    let _serial = serial();
    let tmp = temp_store();
    let mut g = Graph::new();
    let words = g.input(vec!["fail".to_owned(), "fix".to_owned(), "run".to_owned()]);
    let lengths = g.map_named_by("lengths", Measure, &words, (), |word: &String| {
        format!("word-{word}")
    });
    let run = Runner::new(&tmp.store).run_graph(&g, lengths).unwrap();
    assert_eq!(run.output(), &[4, 3, 3]);
    let nodes: Vec<&str> = run.report().entries().iter().map(|e| e.node()).collect();
    assert_eq!(
        nodes,
        [
            "lengths",
            "lengths[word-fail]",
            "lengths[word-fix]",
            "lengths[word-run]"
        ]
    );
    assert_eq!(take_executions(), counts(&[("measure", 3)]));
}

#[test]
fn two_items_of_one_name_fail_the_map_naming_both_and_the_same_item_twice_runs_once() {
    let _serial = serial();
    let tmp = temp_store();
    let mut g = Graph::new();
    let words = g.input(vec!["fail".to_owned(), "fix".to_owned(), "far".to_owned()]);
    let lengths = g.map_named_by("lengths", Measure, &words, (), |word: &String| {
        word[..1].to_owned()
    });
    let error = Runner::new(&tmp.store).run_graph(&g, lengths).unwrap_err();
    let map = error.report().unwrap().find("lengths").next().unwrap();
    assert_eq!(map.status(), Status::Failed);
    assert_eq!(
        map.error(),
        Some(
            "the items at 0 and 1 in the list of `lengths` are both named `f`, but are not the \
             same item; name them apart with `Graph::map_named_by`"
        )
    );
    assert_eq!(take_executions(), counts(&[]), "no item runs");

    // Two names that would share a directory.
    let mut g = Graph::new();
    let words = g.input(vec!["a/b".to_owned(), "a_b".to_owned()]);
    let lengths = g.map_named_by("lengths", Measure, &words, (), String::clone);
    let error = Runner::new(&tmp.store).run_graph(&g, lengths).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("the items at 0 (`a/b`) and 1 (`a_b`) in the list of `lengths` would share the directory `a_b`"),
        "{message}"
    );

    // The same item twice is one item: it runs once, and both places have its output.
    let mut g = Graph::new();
    let words = g.input(vec!["fix".to_owned(), "run".to_owned(), "fix".to_owned()]);
    let lengths = g.map_named("lengths", Measure, &words, ());
    let run = Runner::new(&tmp.store).run_graph(&g, lengths).unwrap();
    assert_eq!(run.output(), &[3, 3, 3]);
    assert_eq!(take_executions(), counts(&[("measure", 2)]));
    assert_eq!(run.report().entries().len(), 3, "the map and two items");
}

#[test]
fn a_failed_item_is_named_in_the_error_and_in_its_observation() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    tree.write("b.c", "#error no\n");
    let (g, program) = build(tree.sources(&NAMES));
    let error = Runner::new(&tmp.store)
        .keep_going(true)
        .run_graph(&g, program)
        .unwrap_err();
    let b = tree.path("b.c");
    assert_eq!(
        error.to_string(),
        format!(
            "station `objects` failed: objects[{0}] failed: {0}: #error; 1 blocked",
            b.display()
        )
    );
    let report = error.report().unwrap();
    let item = entry(report, &format!("objects[{}]", b.display()));
    assert_eq!(item.status(), Status::Failed);
    assert_eq!(item.error(), Some(&*format!("{}: #error", b.display())));
    assert_eq!(entry(report, "program").status(), Status::Blocked);
    let defect = &tmp.store.defects().unwrap()[0];
    let observation = &tmp.store.observations(defect.id()).unwrap()[0];
    assert_eq!(observation.node(), format!("objects[{}]", b.display()));
    assert_eq!(
        observation.blocked(),
        1,
        "the item blocked what its map blocked"
    );
    assert_eq!(take_executions(), counts(&[("compile", 3)]));
}

#[test]
fn progress_counts_each_item_into_the_total() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let (g, program) = build(tree.sources(&NAMES));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let runner = Runner::new(&tmp.store).progress(move |event| {
        let line = match event {
            Event::Started { stations } => format!("started {stations}"),
            Event::Items { node, items } => format!("{node}: {} items", items.len()),
            Event::Finished { node, status, .. } => {
                format!("{status} {}", node.rsplit('/').next().unwrap())
            }
            _ => return,
        };
        seen.lock().unwrap().push(line);
    });
    runner.run_graph(&g, program).unwrap();
    let mut events = std::mem::take(&mut *events.lock().unwrap());
    // Items finish in any order.
    events[2..5].sort();
    assert_eq!(
        events,
        [
            "started 2",
            "objects: 3 items",
            "ran a.c]",
            "ran b.c]",
            "ran c.c]",
            "ran objects",
            "ran program",
        ]
    );
}

#[test]
fn the_trace_and_the_html_timeline_have_a_span_per_item() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let (g, program) = build(tree.sources(&NAMES));
    let run = Runner::new(&tmp.store)
        .jobs(2)
        .run_graph(&g, program)
        .unwrap();
    let trace: serde_json::Value = serde_json::from_str(&run.report().chrome_trace()).unwrap();
    let spans: Vec<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = NAMES
        .iter()
        .map(|name| format!("objects[{}]", tree.path(name).display()))
        .collect();
    expected.push("program".to_owned());
    let mut spans: Vec<String> = spans.into_iter().map(str::to_owned).collect();
    spans.sort();
    expected.sort();
    assert_eq!(
        spans, expected,
        "each item a span, the map drawn as its items"
    );

    let diagram = choochoo::Diagram::of_graph(&g).unwrap();
    let page = run.report().html(&tmp.store, &diagram).unwrap();
    let timeline =
        &page[page.find("id=\"timeline\"").unwrap()..page.find("id=\"failures\"").unwrap()];
    for name in NAMES {
        let bar = format!("objects[{}]: ran", tree.path(name).display());
        assert!(timeline.contains(&bar), "{bar} not in {timeline}");
    }
}

/// A path as the store names its directory: one component, `_` for every other character.
fn sanitized(path: &Path) -> String {
    path.to_str()
        .unwrap()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
