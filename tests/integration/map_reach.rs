//! A map's items reached by name: `clean` cleans each item (with the station's clean
//! function) so the next run runs them all, `force` runs one item or all of a map's, and
//! the items of a blocked map are blocked with it.

use crate::map_items::{Link, NAMES, Tree, build, entry};
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Action, Ctx, File, Graph, Runner, Status, station};
use std::sync::Mutex;

/// The sources whose objects were cleaned, in order.
static UNCOMPILED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `compile`, with a clean function.
#[station(clean = uncompile)]
fn compile_tracked(ctx: &Ctx, source: &File) -> std::io::Result<File> {
    executed("compile_tracked");
    let object = ctx.out_dir().join("object.o");
    std::fs::write(&object, std::fs::read(source.path())?)?;
    Ok(File::new(object))
}

fn uncompile(source: &File, object: &File) {
    let name = source.path().file_name().unwrap().to_string_lossy();
    assert!(
        object.path().is_file(),
        "cleaned before its object is removed"
    );
    UNCOMPILED.lock().unwrap().push(name.into_owned());
}

#[test]
fn clean_cleans_every_item_with_the_stations_clean_function_and_the_next_run_runs_them_all() {
    let _serial = serial();
    UNCOMPILED.lock().unwrap().clear();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let mut g = Graph::new();
    let sources = g.input_named("sources", tree.sources(&NAMES));
    let objects = g.map_named("objects", CompileTracked, &sources, ());
    let program = g.add_named("program", Link, (&objects,));
    let runner = Runner::new(&tmp.store);
    runner.run_graph(&g, program).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("compile_tracked", 3), ("link", 1)])
    );

    let cleaned = runner.clean_graph(&g).unwrap();
    let mut expected = vec!["program".to_owned()];
    let mut items: Vec<String> = NAMES
        .iter()
        .map(|name| format!("objects[{}]", tree.path(name).display()))
        .collect();
    items.reverse();
    expected.extend(items);
    expected.push("objects".to_owned());
    assert_eq!(
        cleaned.cleaned(),
        expected,
        "the last first, a map's items before it"
    );
    let mut uncompiled = std::mem::take(&mut *UNCOMPILED.lock().unwrap());
    uncompiled.sort();
    assert_eq!(uncompiled, NAMES, "the clean function, once per item");
    assert!(!tmp.store.dir().join("work/default/objects").exists());

    let again = runner.run_graph(&g, program).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("compile_tracked", 3), ("link", 1)]),
        "every item is forgotten: all run again"
    );
    assert_eq!(again.report().count(Status::Ran), 5);
}

#[test]
fn force_runs_one_item_by_its_name_or_every_item_by_the_maps() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let (g, program) = build(tree.sources(&NAMES));
    Runner::new(&tmp.store).run_graph(&g, program).unwrap();
    take_executions();

    let item = format!("objects[{}]", tree.path("b.c").display());
    let run = Runner::new(&tmp.store)
        .force([item.as_str()])
        .run_graph(&g, program)
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1)]),
        "the same bytes: no link"
    );
    assert_eq!(entry(run.report(), &item).reason(), Some("forced"));
    assert_eq!(
        entry(run.report(), "objects").reason(),
        Some(&*format!(
            "item `{}` forced; 1 of 3 items ran",
            tree.path("b.c").display()
        ))
    );
    let plan = Runner::new(&tmp.store)
        .force([item.as_str()])
        .plan_graph(&g)
        .unwrap();
    let planned: Vec<(&str, choochoo::Action)> = plan
        .entries()
        .iter()
        .map(|p| (p.node(), p.action()))
        .collect();
    assert_eq!(planned[2], (item.as_str(), Action::Run));
    assert_eq!(planned[1].1, Action::Cached);

    Runner::new(&tmp.store)
        .force(["objects"])
        .run_graph(&g, program)
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 3)]),
        "the map's name: every item"
    );

    Runner::new(&tmp.store)
        .force_downstream([item.as_str()])
        .run_graph(&g, program)
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1), ("link", 1)]),
        "downstream of an item: its map's dependents"
    );

    let error = Runner::new(&tmp.store)
        .force(["program[x]"])
        .run_graph(&g, program)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`program[x]` names an item of `program`, but `program` is not a map"),
        "{error}"
    );
}

#[station]
fn flags(fail: &bool) -> Result<String, String> {
    executed("flags");
    if *fail {
        return Err("no flags".to_owned());
    }
    Ok("-O2".to_owned())
}

#[station]
fn with_flags(source: &File, flags: &String) -> String {
    executed("with_flags");
    format!("{flags} {}", source.path().display())
}

#[test]
fn the_items_of_a_blocked_map_are_blocked_with_it_when_its_list_is_known() {
    let _serial = serial();
    let tmp = temp_store();
    let tree = Tree::new(&NAMES);
    let mut g = Graph::new();
    let sources = g.input_named("sources", tree.sources(&NAMES));
    let fail = g.input(true);
    let flags = g.add_named("flags", Flags, (&fail,));
    let built = g.map_named("built", WithFlags, &sources, (&flags,));
    let error = Runner::new(&tmp.store).run_graph(&g, built).unwrap_err();
    assert_eq!(
        error.to_string(),
        "station `flags` failed: no flags; 1 blocked",
        "the map is counted, not its items"
    );
    let report = error.report().unwrap();
    let statuses: Vec<(&str, Status)> = report
        .entries()
        .iter()
        .map(|e| (e.item().map_or(e.node(), |_| "item"), e.status()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("flags", Status::Failed),
            ("built", Status::Blocked),
            ("item", Status::Blocked),
            ("item", Status::Blocked),
            ("item", Status::Blocked),
        ]
    );
    assert_eq!(take_executions(), counts(&[("flags", 1)]));
}
