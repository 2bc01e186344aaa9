//! Filtered directories: only the files a `Dir`'s globs let through count, so outputs and
//! unrelated files inside a source tree run nothing.

use crate::discovered::write_settled;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, Dir, Runner, Status, station, workflow};
use std::path::Path;

/// Lists the files of a tree that count, by name relative to it.
#[station]
fn list_sources(tree: &Dir) -> Result<Vec<String>, choochoo::Error> {
    executed("list_sources");
    let files = tree.files()?;
    Ok(files
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(tree.path()).unwrap_or(path);
            relative.display().to_string()
        })
        .collect())
}

workflow! {
    fn sources(tree: Dir) -> Vec<String> {
        list_sources(tree)
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_settled(path, text);
}

fn tree(root: &Path) -> Dir {
    Dir::new(root)
        .include("**/*.c")
        .include("**/*.h")
        .exclude("build/**")
}

#[test]
fn files_the_globs_leave_out_run_nothing_and_files_they_count_run_it() {
    let _serial = serial();
    let tmp = temp_store();
    let root = tmp.dir.path().join("src");
    write(&root.join("main.c"), "int main(void) { return 0; }\n");
    write(&root.join("lib/util.h"), "#pragma once\n");
    write(&root.join("README.md"), "# notes\n");
    let runner = Runner::new(&tmp.store);
    let run = || runner.run(sources(tree(&root))).unwrap();
    assert_eq!(*run().output(), ["lib/util.h", "main.c"]);
    assert_eq!(take_executions(), counts(&[("list_sources", 1)]));

    write(&root.join("README.md"), "# more notes\n");
    write(&root.join("build/main.o"), "\x7fELF object\n");
    write(&root.join("build/generated.c"), "int generated;\n");
    write(&root.join("docs/guide.md"), "# guide\n");
    assert_eq!(run().report().count(Status::Cached), 1);
    assert_eq!(
        take_executions(),
        counts(&[]),
        "a README edit, build outputs and new documents"
    );

    write(&root.join("main.c"), "int main(void) { return 1; }\n");
    run();
    assert_eq!(take_executions(), counts(&[("list_sources", 1)]), "an edit");
    write(&root.join("lib/extra.h"), "#pragma once\n");
    assert_eq!(*run().output(), ["lib/extra.h", "lib/util.h", "main.c"]);
    assert_eq!(
        take_executions(),
        counts(&[("list_sources", 1)]),
        "a new header"
    );
    std::fs::remove_file(root.join("lib/util.h")).unwrap();
    assert_eq!(*run().output(), ["lib/extra.h", "main.c"]);
    assert_eq!(
        take_executions(),
        counts(&[("list_sources", 1)]),
        "a deletion"
    );
    run();
    assert_eq!(take_executions(), counts(&[]));
}

#[test]
fn the_globs_are_part_of_the_input() {
    let _serial = serial();
    let tmp = temp_store();
    let root = tmp.dir.path().join("src");
    write(&root.join("main.c"), "int main(void) { return 0; }\n");
    write(&root.join("README.md"), "# notes\n");
    let runner = Runner::new(&tmp.store);
    assert_eq!(
        *runner.run(sources(tree(&root))).unwrap().output(),
        ["main.c"]
    );
    assert_eq!(
        *runner.run(sources(Dir::new(&root))).unwrap().output(),
        ["README.md", "main.c"]
    );
    assert_eq!(
        take_executions(),
        counts(&[("list_sources", 2)]),
        "the same path with other globs is another input"
    );
    runner.run(sources(tree(&root))).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[]),
        "the first record is still there"
    );
}

#[test]
fn a_glob_that_does_not_parse_is_an_error_naming_it() {
    let _serial = serial();
    let tmp = temp_store();
    let root = tmp.dir.path().join("src");
    write(&root.join("main.c"), "int main(void) { return 0; }\n");
    let error = Runner::new(&tmp.store)
        .run(sources(Dir::new(&root).include("src/[")))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("the filter of directory {}", root.display()))
            && error.contains("src/["),
        "{error}"
    );
    assert_eq!(take_executions(), counts(&[]));
}

/// Builds a site into its own directory, with a cache file beside the pages that does not
/// count as part of its output.
#[station]
fn build_site(ctx: &Ctx, title: &String) -> Result<Dir, Box<dyn std::error::Error + Send + Sync>> {
    executed("build_site");
    let page = ctx.output("site/index.html")?;
    std::fs::write(&page, format!("<h1>{title}</h1>"))?;
    std::fs::write(ctx.output("site/.cache")?, "warm")?;
    Ok(Dir::new(page.parent().unwrap()).exclude(".cache"))
}

workflow! {
    fn site(title: String) -> Dir {
        build_site(title)
    }
}

#[test]
fn a_filtered_output_directory_is_checked_through_its_globs() {
    let _serial = serial();
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let run = || runner.run(site("Home".to_owned())).unwrap();
    let dir = run().into_output();
    assert_eq!(take_executions(), counts(&[("build_site", 1)]));
    run();
    assert_eq!(take_executions(), counts(&[]), "its output is intact");

    write_settled(&dir.path().join(".cache"), "cold");
    run();
    assert_eq!(take_executions(), counts(&[]), "a file its globs leave out");

    write_settled(&dir.path().join("index.html"), "<h1>Edited</h1>");
    let again = run();
    assert_eq!(take_executions(), counts(&[("build_site", 1)]));
    let reason = again.report().entries()[0].reason().unwrap();
    assert_eq!(
        reason,
        format!(
            "output {} (exclude .cache) was modified",
            dir.path().display()
        )
    );
}
