//! A map's items on the command line, with no terminal: `run -v` says which items ran and
//! why, `status` counts them under their map and `status --items` lists them, `plan` says
//! which would run, `graph` shows their counts, a failure names its item, and `--force` and
//! `clean` take an item's name. The program is a small build: the `.c` files under `src/`,
//! each compiled by an item named by its path as given (`src/a.c`), then linked.

use crate::cli::{PROGRAM, Site};
use choochoo::{Ctx, File, Graph, Node, station};
use std::path::Path;

/// "Compiles" a source: its lines without `//` comments; `#error` fails.
#[station]
fn compile(ctx: &Ctx, source: &File) -> std::io::Result<File> {
    let text = std::fs::read_to_string(source.path())?;
    if text.contains("#error") {
        return Err(std::io::Error::other(format!(
            "{}:1: #error",
            source.path().display()
        )));
    }
    let code: String = text
        .lines()
        .filter(|line| !line.starts_with("//"))
        .collect();
    let object = ctx.out_dir().join("object.o");
    std::fs::write(&object, code)?;
    Ok(File::new(object))
}

/// Joins the objects.
#[station]
fn link(ctx: &Ctx, objects: &Vec<File>) -> std::io::Result<File> {
    let mut program = Vec::new();
    for object in objects {
        program.extend(std::fs::read(object.path())?);
    }
    let out = ctx.out_dir().join("program");
    std::fs::write(&out, program)?;
    Ok(File::new(out))
}

/// The program: every `src/*.c` of the working directory, by its relative path.
pub(crate) fn build() -> (Graph, Node<File>) {
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
    let program = g.add_named("program", Link, (&objects,));
    (g, program)
}

fn site() -> Site {
    let site = Site::new().with(PROGRAM, "items");
    for name in ["a", "b", "c"] {
        write(&site, name, &format!("// {name}.c\nint {name};\n"));
    }
    site
}

fn write(site: &Site, name: &str, text: &str) {
    let src = site.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(format!("{name}.c")), text).unwrap();
}

/// The lines of `text` that hold `word`, trimmed.
fn lines_with<'t>(text: &'t str, word: &str) -> Vec<&'t str> {
    text.lines()
        .filter(|line| line.contains(word))
        .map(str::trim)
        .collect()
}

#[test]
fn plan_run_and_status_name_each_item() {
    let site = site();
    let plan = site.expect(0, &["plan"]).stdout;
    assert_eq!(
        lines_with(&plan, "objects["),
        [
            "run  objects[src/a.c]: new item",
            "run  objects[src/b.c]: new item",
            "run  objects[src/c.c]: new item",
        ],
        "{plan}"
    );
    assert!(
        plan.contains("2 stations: 1 to run, 1 may run, 0 cached; 3 items: 3 to run, 0 cached"),
        "{plan}"
    );
    let status = site.expect(0, &["status"]).stdout;
    assert!(
        status
            .contains("items      objects[…]  3 items: 3 never run (`status --items` lists them)"),
        "{status}"
    );
    assert!(status.contains("never run  program"), "{status}");

    let first = site.expect(0, &["run", "-v"]).stdout;
    let ran: Vec<&str> = lines_with(&first, "objects[");
    assert_eq!(ran.len(), 3, "{first}");
    for (line, name) in ran.iter().zip(["a", "b", "c"]) {
        assert!(
            line.starts_with(&format!("ran  objects[src/{name}.c] (")),
            "{line}"
        );
        assert!(line.ends_with("): new item"), "{line}");
    }
    assert!(
        first.contains("2 stations: 2 ran; 3 items: 3 ran in "),
        "{first}"
    );

    // A comment-only edit: one item compiles again, to the same object; no relink.
    write(&site, "b", "// b.c, reworded\nint b;\n");
    let plan = site.expect(0, &["plan"]).stdout;
    assert!(
        plan.contains("run  objects[src/b.c]: input `source` changed"),
        "{plan}"
    );
    assert!(plan.contains("cached  objects[src/a.c]"), "{plan}");
    assert!(plan.contains("may run  program: after `objects`"), "{plan}");
    let second = site.expect(0, &["run", "-v"]).stdout;
    assert_eq!(
        lines_with(&second, "objects["),
        [
            "cached  objects[src/a.c]",
            lines_with(&second, "objects[src/b.c]")[0],
            "cached  objects[src/c.c]",
        ],
        "{second}"
    );
    assert!(
        lines_with(&second, "objects[src/b.c]")[0].ends_with("): input `source` changed"),
        "{second}"
    );
    assert!(second.contains("cached  program"), "{second}");
    assert!(
        second.contains("2 stations: 1 ran, 1 cached; 3 items: 1 ran, 2 cached in "),
        "{second}"
    );

    let status = site.expect(0, &["status"]).stdout;
    assert!(
        status.contains("objects[…]  3 items: 3 cached (`status --items` lists them)"),
        "{status}"
    );
    assert!(
        status.contains("2 stations: 2 cached; 3 items: 3 cached"),
        "{status}"
    );
    let listed = site.expect(0, &["status", "--items"]).stdout;
    let items = lines_with(&listed, "objects[src/");
    assert_eq!(items.len(), 3, "{listed}");
    for item in items {
        assert!(item.starts_with("cached     objects[src/"), "{item}");
        assert!(item.contains(" ran "), "the item's last run: {item}");
    }
    assert!(!listed.contains("objects[…]"), "{listed}");

    let dot = site.expect(0, &["graph", "--format", "dot"]).stdout;
    assert!(dot.contains("compile · 3 items: 3 ran"), "{dot}");
}

#[test]
fn a_failed_item_is_named_and_force_and_clean_take_item_names() {
    let site = site();
    site.expect(0, &["run"]);
    write(&site, "c", "#error broken\n");
    let failed = site.expect(1, &["run"]);
    assert!(
        failed.stderr.contains(
            "error: station `objects` failed: objects[src/c.c] failed: src/c.c:1: #error; 1 blocked"
        ),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("  objects[src/c.c] failed after "),
        "{}",
        failed.stderr
    );
    write(&site, "c", "int c;\n");

    let forced = site
        .expect(0, &["run", "-v", "--force", "objects[src/a.c]"])
        .stdout;
    assert!(
        lines_with(&forced, "objects[src/a.c]")[0].ends_with("): forced"),
        "{forced}"
    );
    assert!(
        forced.contains("2 stations: 1 ran, 1 cached; 3 items: 2 ran, 1 cached in "),
        "a.c forced, c.c fixed to the object it had: no relink: {forced}"
    );

    let cleaned = site
        .expect(0, &["clean", "--only", "--yes", "objects[src/b.c]"])
        .stdout;
    assert_eq!(cleaned.trim(), "cleaned 1: objects[src/b.c]");
    let after = site.expect(0, &["run", "-v"]).stdout;
    assert!(after.contains("; 3 items: 1 ran, 2 cached in "), "{after}");

    let cleaned = site.expect(0, &["clean", "--yes"]).stdout;
    assert!(
        cleaned.starts_with(
            "cleaned 5: program, objects[src/c.c], objects[src/b.c], objects[src/a.c], objects"
        ),
        "{cleaned}"
    );
    let again = site.expect(0, &["run"]).stdout;
    assert!(
        again.contains("2 stations: 2 ran; 3 items: 3 ran in "),
        "every item runs again after a clean: {again}"
    );
    let trace = site.expect(0, &["trace"]).stdout;
    for name in ["a", "b", "c"] {
        assert!(
            trace.contains(&format!("\"objects[src/{name}.c]\"")),
            "{trace}"
        );
    }
}
