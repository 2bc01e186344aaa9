//! The C build example (`examples/cbuild.rs`) on a copy of its sources, through its command
//! line: what each edit compiles, from the `run -v` lines naming the items that ran. The
//! expected sets come from the sources themselves (their `#include` lines), and the
//! program's output from building the same sources with `cc` directly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cbuild example, built next to this test binary by `cargo test`.
fn example() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("examples").join("cbuild");
    path.exists().then_some(path)
}

/// Whether a C compiler runs.
fn cc_works() -> bool {
    Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A copy of the example's sources in a temporary directory, and the example to build it.
struct Tree {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// What one `run -v` did.
struct Build {
    /// The sources compiled (`src/lexer.c`), from the `objects[…]` items that ran.
    compiled: BTreeSet<String>,
    /// Each station (not item) and its status: `library` → `ran`.
    stations: BTreeMap<String, String>,
    /// What the program printed, if the run got that far.
    output: Option<String>,
    /// Everything the run printed, for failure messages.
    text: String,
    code: i32,
}

impl Tree {
    /// A fresh copy, or `None` (after saying why) when the test cannot run here.
    fn new() -> Option<Tree> {
        if !cc_works() {
            crate::support::skip(
                "a C compiler (`cc`)",
                "none runs here",
                "install gcc or clang (`apt-get install gcc`)",
            );
            return None;
        }
        let Some(bin) = example() else {
            crate::support::skip(
                "the cbuild example",
                "it is not built next to this test binary",
                "run `cargo test --workspace`, which builds it, or `cargo build -p examples --example cbuild`",
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cbuild/src");
        std::fs::create_dir(dir.path().join("src")).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(
                &path,
                dir.path().join("src").join(path.file_name().unwrap()),
            )
            .unwrap();
        }
        Some(Tree { bin, dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("CC");
        command
    }

    /// `run -v` with `CC` set to `cc`, or unset.
    fn build_with(&self, cc: Option<&str>) -> Build {
        let mut command = self.command(&["run", "-v", "--jobs", "2"]);
        if let Some(cc) = cc {
            command.env("CC", cc);
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let text = stdout.clone() + &String::from_utf8_lossy(&output.stderr);
        Build {
            compiled: ran_items(&stdout),
            stations: stations(&stdout),
            output: program_output(&stdout),
            text,
            code: output.status.code().unwrap_or(-1),
        }
    }

    /// A successful `run -v`.
    fn build(&self) -> Build {
        let build = self.build_with(None);
        assert_eq!(build.code, 0, "{}", build.text);
        build
    }

    /// Replaces `from` by `to` in `src/<name>` (which must hold it).
    fn edit(&self, name: &str, from: &str, to: &str) {
        let path = self.path("src").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{name} holds {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    /// Adds a line at the end of `src/<name>`.
    fn append(&self, name: &str, line: &str) {
        let path = self.path("src").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{line}\n")).unwrap();
    }

    /// The sources, as the items name them (`src/lexer.c`).
    fn sources(&self) -> BTreeSet<String> {
        self.files_ending(".c")
    }

    fn headers(&self) -> BTreeSet<String> {
        self.files_ending(".h")
    }

    fn files_ending(&self, suffix: &str) -> BTreeSet<String> {
        std::fs::read_dir(self.path("src"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(suffix))
            .map(|name| format!("src/{name}"))
            .collect()
    }

    /// The sources that include `header` (`src/vm.h`), directly or through other headers,
    /// from their `#include "…"` lines.
    fn includers(&self, header: &str) -> BTreeSet<String> {
        self.sources()
            .into_iter()
            .filter(|source| self.included_by(source).contains(header))
            .collect()
    }

    /// Every header `file` includes, directly or not.
    fn included_by(&self, file: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut pending = vec![file.to_owned()];
        while let Some(next) = pending.pop() {
            let text = std::fs::read_to_string(self.dir.path().join(&next)).unwrap();
            for header in quoted_includes(&text) {
                if found.insert(format!("src/{header}")) {
                    pending.push(format!("src/{header}"));
                }
            }
        }
        found
    }

    /// What the program prints, built from the same sources with `cc` alone.
    fn reference_output(&self) -> String {
        let program = self.path("reference");
        let status = Command::new("cc")
            .args(self.sources())
            .arg("-o")
            .arg(&program)
            .current_dir(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let output = Command::new(&program).output().unwrap();
        String::from_utf8(output.stdout).unwrap()
    }
}

/// The names in a file's `#include "name"` lines.
fn quoted_includes(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("#include \""))
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

/// The items of `objects` that ran, by the source they compiled.
fn ran_items(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("ran  objects["))
        .filter_map(|rest| rest.split(']').next())
        .map(str::to_owned)
        .collect()
}

/// Each station's status in `run -v`: `     ran  library (30ms): no record`.
fn stations(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let status = words.next()?;
            let node = words.next()?.trim_end_matches(':');
            let known = ["sources", "objects", "library", "program", "output"];
            known
                .contains(&node)
                .then(|| (node.to_owned(), status.to_owned()))
        })
        .collect()
}

/// What the program printed: a text of several lines, which the run prints as it is after
/// a line `output:`, last.
fn program_output(stdout: &str) -> Option<String> {
    let (_, text) = stdout.split_once("\noutput:\n")?;
    Some(text.to_owned())
}

fn set<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn a_clean_build_compiles_every_source_and_a_second_compiles_none() {
    let Some(tree) = Tree::new() else { return };
    let first = tree.build();
    assert!(tree.sources().len() >= 10, "{:?}", tree.sources());
    assert_eq!(first.compiled, tree.sources(), "{}", first.text);
    assert_eq!(
        first.output,
        Some(tree.reference_output()),
        "{}",
        first.text
    );
    assert!(
        first.output.as_deref().unwrap().contains("area = 42\n"),
        "{}",
        first.text
    );
    for station in ["sources", "library", "program", "output"] {
        assert_eq!(first.stations[station], "ran", "{}", first.text);
    }

    let again = tree.build();
    assert_eq!(again.compiled, set([]), "{}", again.text);
    assert!(
        again.stations.values().all(|status| status == "cached"),
        "{}",
        again.text
    );
    assert_eq!(again.output, first.output);

    // Touching every file changes no content: still nothing.
    for file in tree.sources().iter().chain(&tree.headers()) {
        let text = std::fs::read(tree.path(file)).unwrap();
        std::fs::write(tree.path(file), text).unwrap();
    }
    assert_eq!(tree.build().compiled, set([]));
}

#[test]
fn editing_a_header_recompiles_exactly_the_sources_that_include_it() {
    let Some(tree) = Tree::new() else { return };
    tree.build();
    let all = tree.sources();
    let mut sizes = BTreeSet::new();
    for header in tree.headers() {
        let expected = tree.includers(&header);
        assert!(!expected.is_empty(), "{header} is included somewhere");
        sizes.insert(expected.len());
        let name = header.trim_start_matches("src/");
        tree.append(name, "#define CALC_EDITED 1");
        let after = tree.build();
        assert_eq!(
            after.compiled, expected,
            "after editing {header}: {}",
            after.text
        );
        // An unused macro changes no object: the archive and the link are cut off.
        assert_eq!(after.stations["library"], "cached", "{}", after.text);
    }
    // The headers tell the sources apart: some reach every source, some only a few.
    assert!(sizes.contains(&all.len()), "{sizes:?}");
    assert!(sizes.iter().any(|&size| size < all.len() / 2), "{sizes:?}");
}

#[test]
fn a_comment_only_edit_recompiles_one_source_and_does_not_relink() {
    let Some(tree) = Tree::new() else { return };
    tree.build();
    let object = tree.path(".choochoo/work/default/objects/src_lexer.c/lexer.o");
    let before = std::fs::read(&object).unwrap();
    tree.edit(
        "lexer.c",
        "/* Splits a statement into tokens. */",
        "/* Splits a statement into tokens,\n   the words of the calculator. */",
    );
    let after = tree.build();
    assert_eq!(after.compiled, set(["src/lexer.c"]), "{}", after.text);
    assert_eq!(std::fs::read(&object).unwrap(), before, "the same object");
    for station in ["library", "program", "output"] {
        assert_eq!(after.stations[station], "cached", "{}", after.text);
    }

    // A change to the code itself does compile, archive, link and run again.
    tree.edit(
        "lexer.c",
        "an unknown character",
        "a character it does not know",
    );
    let after = tree.build();
    assert_eq!(after.compiled, set(["src/lexer.c"]), "{}", after.text);
    for station in ["library", "program", "output"] {
        assert_eq!(after.stations[station], "ran", "{}", after.text);
    }
}

#[test]
fn a_new_include_is_found_without_a_rescan() {
    let Some(tree) = Tree::new() else { return };
    tree.build();
    // A new header nobody includes yet: nothing runs, not even the listing of the sources.
    std::fs::write(
        tree.path("src/limits.h"),
        "#define SYMTAB_NOTE \"symtab\"\n",
    )
    .unwrap();
    let after = tree.build();
    assert_eq!(after.compiled, set([]), "{}", after.text);
    assert!(
        after.stations.values().all(|status| status == "cached"),
        "{}",
        after.text
    );

    tree.edit(
        "symtab.c",
        "#include \"calc.h\"",
        "#include \"calc.h\"\n#include \"limits.h\"",
    );
    assert_eq!(tree.build().compiled, set(["src/symtab.c"]));

    // The compiler said it read limits.h: editing it recompiles symtab.c, and only it.
    std::fs::write(
        tree.path("src/limits.h"),
        "#define SYMTAB_NOTE \"variables\"\n",
    )
    .unwrap();
    let after = tree.build();
    assert_eq!(after.compiled, set(["src/symtab.c"]), "{}", after.text);
    let line = after
        .text
        .lines()
        .find(|line| line.contains("ran  objects[src/symtab.c]"))
        .unwrap_or_default();
    assert!(
        line.ends_with(": file src/limits.h it read changed"),
        "{}",
        after.text
    );
}

#[test]
fn adding_a_source_compiles_only_it_and_relinks() {
    let Some(tree) = Tree::new() else { return };
    let first = tree.build();
    std::fs::write(
        tree.path("src/square.c"),
        "#include \"calc.h\"\n\nnum calc_square(num x)\n{\n    return x * x;\n}\n",
    )
    .unwrap();
    let after = tree.build();
    assert_eq!(after.compiled, set(["src/square.c"]), "{}", after.text);
    for station in ["sources", "library", "program"] {
        assert_eq!(after.stations[station], "ran", "{}", after.text);
    }
    assert_eq!(after.output, first.output, "{}", after.text);

    // And removing it archives and links without it.
    std::fs::remove_file(tree.path("src/square.c")).unwrap();
    let after = tree.build();
    assert_eq!(after.compiled, set([]), "{}", after.text);
    assert_eq!(after.stations["library"], "ran", "{}", after.text);
}

#[test]
fn the_compiler_is_an_input_and_its_errors_name_the_source() {
    let Some(tree) = Tree::new() else { return };
    tree.build();
    // `CC` set (to the same compiler) where it was unset: every source compiles again.
    let other = tree.build_with(Some("cc"));
    assert_eq!(other.code, 0, "{}", other.text);
    assert_eq!(other.compiled, tree.sources(), "{}", other.text);

    tree.edit("vm.c", "return 1;\n}", "return 1 }\n}");
    let failed = tree.build_with(Some("cc"));
    assert_eq!(failed.code, 1, "{}", failed.text);
    assert!(
        failed.text.contains("objects[src/vm.c]") && failed.text.contains("src/vm.c:"),
        "the error names the item and the compiler's line: {}",
        failed.text
    );
}
