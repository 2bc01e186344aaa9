//! Depfiles written by a real compiler (`cc -MMD`): the headers a compilation read are
//! inputs of its station, for a station alone and for the items of a map.

use crate::discovered::write_settled;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Ctx, File, Runner, station, workflow};
use std::path::{Path, PathBuf};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Compiles one C file with the system's compiler, and records the headers it read from the
/// depfile the compiler wrote.
#[station]
fn compile(ctx: &Ctx, source: &File) -> Result<File, BoxError> {
    executed("compile");
    let object = ctx.output("out.o")?;
    let deps = ctx.output("out.d")?;
    let output = std::process::Command::new("cc")
        .args(["-c", "-MMD", "-MF"])
        .arg(&deps)
        .arg(source.path())
        .arg("-o")
        .arg(&object)
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    ctx.depfile(&deps)?;
    Ok(File::new(object))
}

workflow! {
    fn build_one(source: File) -> File {
        compile(source)
    }
}

/// A small C tree: `main.c` includes `a.h` and `b.h`; `other.h` is included by nothing.
fn c_tree(dir: &Path) -> PathBuf {
    write_settled(&dir.join("a.h"), "#define A 1\n");
    write_settled(&dir.join("b.h"), "#define B 2\n");
    write_settled(&dir.join("other.h"), "#define OTHER 3\n");
    let main = dir.join("main.c");
    write_settled(
        &main,
        "#include \"a.h\"\n#include \"b.h\"\nint main(void) { return A + B - 3; }\n",
    );
    main
}

#[test]
fn a_depfile_from_the_compiler_makes_its_headers_inputs() {
    let _serial = serial();
    let tmp = temp_store();
    let main = c_tree(tmp.dir.path());
    let runner = Runner::new(&tmp.store);
    let build = || runner.run(build_one(File::new(&main))).unwrap();
    build();
    assert_eq!(take_executions(), counts(&[("compile", 1)]));
    build();
    assert_eq!(take_executions(), counts(&[]));

    write_settled(&tmp.dir.path().join("other.h"), "#define OTHER 4\n");
    build();
    assert_eq!(
        take_executions(),
        counts(&[]),
        "a header it does not include"
    );

    write_settled(
        &tmp.dir.path().join("a.h"),
        "#define A 1 /* same value */\n",
    );
    let after = build();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1)]),
        "a header it includes"
    );
    let a = tmp.dir.path().join("a.h");
    assert_eq!(
        after.report().entries()[0].reason(),
        Some(format!("file {} it read changed", a.display()).as_str())
    );

    write_settled(&tmp.dir.path().join("b.h"), "#define B 2\n");
    build();
    assert_eq!(
        take_executions(),
        counts(&[]),
        "b.h rewritten with the same bytes"
    );
}

/// Compiles every source of a list, each on its own, then counts the objects.
#[station]
fn count_objects(objects: &Vec<File>) -> usize {
    executed("count_objects");
    objects.len()
}

workflow! {
    fn build_all(sources: Vec<File>) -> usize {
        let objects = map(compile, sources);
        count_objects(objects)
    }
}

#[test]
fn map_items_carry_their_own_discovered_inputs() {
    let _serial = serial();
    let tmp = temp_store();
    let dir = tmp.dir.path();
    write_settled(&dir.join("shared.h"), "#define SHARED 1\n");
    write_settled(&dir.join("lone.h"), "#define LONE 1\n");
    let sources: Vec<File> = ["x", "y", "z"]
        .iter()
        .map(|name| {
            let include = if *name == "z" { "lone.h" } else { "shared.h" };
            let path = dir.join(format!("{name}.c"));
            let text = format!("#include \"{include}\"\nint {name}(void) {{ return 1; }}\n");
            write_settled(&path, &text);
            File::new(path)
        })
        .collect();
    let runner = Runner::new(&tmp.store).jobs(2);
    let build = || runner.run(build_all(sources.clone())).unwrap();
    assert_eq!(*build().output(), 3);
    assert_eq!(
        take_executions(),
        counts(&[("compile", 3), ("count_objects", 1)])
    );
    build();
    assert_eq!(take_executions(), counts(&[]));

    write_settled(&dir.join("lone.h"), "#define LONE 2\n");
    let run = build();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 1)]),
        "only z includes it"
    );
    let objects = run.report().find("objects").next().unwrap();
    let reason = objects.reason().unwrap();
    assert!(
        reason.starts_with(&format!(
            "file {} it read changed",
            dir.join("lone.h").display()
        )) && reason.ends_with("1 of 3 items ran"),
        "{reason}"
    );

    write_settled(&dir.join("shared.h"), "#define SHARED 2\n");
    build();
    assert_eq!(
        take_executions(),
        counts(&[("compile", 2)]),
        "x and y include it"
    );
    build();
    assert_eq!(take_executions(), counts(&[]));
}
