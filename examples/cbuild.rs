//! A C build: the `.c` files of `src/` compiled one by one (`cc -c -MMD`), archived, linked
//! and run. Each source is an item of a map, named by its path (`objects[src/lexer.c]`);
//! the headers it includes are found by the compiler and recorded from its depfile, so
//! nothing scans the sources first.
//!
//! `cd examples/cbuild && cargo run --release --example cbuild -- run` (then `plan`,
//! `status --items`, `run -v` after an edit, `clean`), or from any directory that has a
//! `src/` of C files. The compiler is `$CC` (default `cc`); the store is `.choochoo`.
//!
//! What a build does again after an edit: a `.c` edit compiles that file; a header edit
//! compiles the files that include it; a comment-only edit compiles that file to the same
//! object, at the same path, and the archive, the link and the run are cut off.

use choochoo::{Ctx, Dir, File, Graph, Node, station};
use std::path::Path;
use std::process::Output;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The flags every source is compiled with.
const CFLAGS: [&str; 4] = ["-O2", "-Wall", "-Wextra", "-std=c11"];

/// The sources: every `.c` file the tree lets through, by its path (`src/lexer.c`).
#[station]
fn sources(tree: &Dir) -> Result<Vec<File>, choochoo::Error> {
    Ok(tree.files()?.into_iter().map(File::new).collect())
}

/// Compiles one source to an object in this item's own directory; the headers the compiler
/// read, named in its depfile, become inputs of this item.
#[station]
fn compile(ctx: &Ctx, source: &File, cflags: &[String]) -> Result<File, Error> {
    let stem = stem(source.path())?;
    let object = ctx.output(format!("{stem}.o"))?;
    let depfile = ctx.output(format!("{stem}.d"))?;
    let output = ctx
        .command(compiler(ctx))
        .args(cflags)
        .args(["-c", "-MMD", "-MF"])
        .arg(&depfile)
        .arg(source.path())
        .arg("-o")
        .arg(&object)
        .output()?;
    checked(ctx, "cc", output)?;
    ctx.depfile(&depfile)?;
    Ok(File::new(object))
}

/// Archives the objects into `libcalc.a` (made anew, so a removed source leaves it).
#[station]
fn archive(ctx: &Ctx, objects: &[File]) -> Result<File, Error> {
    let library = ctx.output("libcalc.a")?;
    match std::fs::remove_file(&library) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
        _ => {}
    }
    let output = ctx
        .command("ar")
        .arg("rcs")
        .arg(&library)
        .args(objects.iter().map(File::path))
        .output()?;
    checked(ctx, "ar", output)?;
    Ok(File::new(library))
}

/// Links the program from the archive (its `main` pulls in the rest).
#[station]
fn link(ctx: &Ctx, library: &File) -> Result<File, Error> {
    let program = ctx.output("calc")?;
    let output = ctx
        .command(compiler(ctx))
        .arg("-o")
        .arg(&program)
        .arg(library.path())
        .output()?;
    checked(ctx, "the link", output)?;
    Ok(File::new(program))
}

/// Runs the program and returns what it printed.
#[station]
fn run_program(ctx: &Ctx, program: &File) -> Result<String, Error> {
    let output = ctx.command(program.path()).output()?;
    if !output.status.success() {
        return Err(format!(
            "{} exited with {}: {}",
            program.path().display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The compiler: `$CC`, recorded as an input, or `cc`.
fn compiler(ctx: &Ctx) -> String {
    ctx.env("CC").unwrap_or_else(|| "cc".to_owned())
}

/// A source's file name without `.c`: its object's name, and its member's in the archive.
fn stem(source: &Path) -> Result<&str, Error> {
    source
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| format!("{} has no file name", source.display()).into())
}

/// `Ok` if the tool succeeded, its diagnostics (warnings) the station's warnings, shown at
/// the end of the run; otherwise an error holding them. (The tool's stderr is in the
/// station's log either way: `Ctx::command` puts it there.)
fn checked(ctx: &Ctx, tool: &str, output: Output) -> Result<(), Error> {
    let diagnostics = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        diagnostics.lines().for_each(|line| ctx.warn(line));
        return Ok(());
    }
    Err(format!(
        "{tool} failed ({}):\n{}",
        output.status,
        diagnostics.trim_end()
    )
    .into())
}

/// The build: sources → objects (one item per source) → library → program → its output.
fn build() -> (Graph, Node<String>) {
    let mut graph = Graph::new();
    let tree = graph.input_named("tree", Dir::new("src").include("*.c"));
    let cflags = graph.input_named("cflags", CFLAGS.map(str::to_owned).to_vec());
    let sources = graph.add_named("sources", Sources, (&tree,));
    let objects = graph.map_named("objects", Compile, &sources, (&cflags,));
    let library = graph.add_named("library", Archive, (&objects,));
    let program = graph.add_named("program", Link, (&library,));
    let output = graph.add_named("output", RunProgram, (&program,));
    (graph, output)
}

fn main() -> std::process::ExitCode {
    choochoo::cli::main(build)
}
