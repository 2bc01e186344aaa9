//! Depfiles: the Make rules a compiler writes to say which files a compilation read
//! (`cc -MD`/`-MMD`, clang, `rustc --emit=dep-info`). [`Ctx::depfile`](crate::Ctx::depfile)
//! records every prerequisite they name as an input the station read.
//!
//! The format is the subset of Make those tools write: one or more rules
//! `target…: prerequisite…`, a rule continued over lines ending in `\`, a space inside a
//! name written `\ ` (any backslashes right before it doubled), `#` written `\#`, `$` written
//! `$$`, phony rules without prerequisites (`header.h:`, from `-MP`), and `#` comments.
//! Other backslashes are part of the name (`C:\src\main.c`), and a colon ends the targets
//! only where a space or the end of the line follows it.

use std::path::PathBuf;

/// A depfile that is not made of rules, and where.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// The line, from 1, of the first byte that was not understood.
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// Every prerequisite of every rule in `text`, in order, each once.
pub(crate) fn prerequisites(text: &[u8]) -> Result<Vec<PathBuf>, ParseError> {
    let mut parser = Parser {
        text,
        at: 0,
        line: 1,
        in_rule: false,
        targets: Vec::new(),
        found: Vec::new(),
    };
    parser.run()?;
    Ok(parser.found)
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
    /// Whether the current logical line has had its `:`.
    in_rule: bool,
    /// Names of the current line before its `:`, with the line each started on.
    targets: Vec<(Vec<u8>, usize)>,
    found: Vec<PathBuf>,
}

/// What ended a name.
enum End {
    /// A space, a tab or a continuation: the line goes on.
    Space,
    /// A colon that ends the targets.
    Colon,
    /// The end of the logical line (or of the text).
    Line,
}

impl Parser<'_> {
    fn run(&mut self) -> Result<(), ParseError> {
        while self.at < self.text.len() {
            let started = self.line;
            let (name, end) = self.name();
            if !name.is_empty() {
                self.take(name, started)?;
            }
            match end {
                End::Space => {}
                // `name` stops at a colon only before the rule's own.
                End::Colon => {
                    self.in_rule = true;
                    self.targets.clear();
                }
                End::Line => self.end_line()?,
            }
        }
        self.end_line()
    }

    /// A name before the rule's colon is a target; after it, a prerequisite.
    fn take(&mut self, name: Vec<u8>, line: usize) -> Result<(), ParseError> {
        if !self.in_rule {
            self.targets.push((name, line));
            return Ok(());
        }
        let path = path_from_bytes(name).map_err(|message| ParseError { line, message })?;
        if !self.found.contains(&path) {
            self.found.push(path);
        }
        Ok(())
    }

    /// A logical line ended: names without a colon after them are not a rule.
    fn end_line(&mut self) -> Result<(), ParseError> {
        self.in_rule = false;
        match self.targets.first() {
            Some((name, line)) => Err(ParseError {
                line: *line,
                message: format!(
                    "`{}` is not followed by `:`; a depfile is made of `target: prerequisites` rules",
                    String::from_utf8_lossy(name)
                ),
            }),
            None => Ok(()),
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.at + ahead).copied()
    }

    /// Reads one name, unescaped, and what ended it.
    fn name(&mut self) -> (Vec<u8>, End) {
        let mut name = Vec::new();
        while let Some(byte) = self.peek(0) {
            match byte {
                b' ' | b'\t' => {
                    self.at += 1;
                    return (name, End::Space);
                }
                b'\r' if self.peek(1) == Some(b'\n') => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    return (name, End::Line);
                }
                b'#' if name.is_empty() => {
                    self.skip_comment();
                    return (name, End::Line);
                }
                b':' if !self.in_rule && self.colon_ends_targets() => {
                    self.at += 1;
                    return (name, End::Colon);
                }
                b'$' if self.peek(1) == Some(b'$') => {
                    name.push(b'$');
                    self.at += 2;
                }
                b'\\' => {
                    if self.backslashes(&mut name) {
                        return (name, End::Space);
                    }
                }
                _ => {
                    name.push(byte);
                    self.at += 1;
                }
            }
        }
        (name, End::Line)
    }

    /// Whether the colon here ends a rule's targets: a space, a line's end or the text's
    /// end follows it (`C:\src` is a name).
    fn colon_ends_targets(&self) -> bool {
        matches!(self.peek(1), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
    }

    /// Reads a run of backslashes into `name`: a continuation, escaped spaces, an escaped
    /// `#`, or backslashes that are part of the name. True when the run ends the name.
    fn backslashes(&mut self, name: &mut Vec<u8>) -> bool {
        let run = self.text[self.at..]
            .iter()
            .take_while(|&&byte| byte == b'\\')
            .count();
        let after = self.peek(run);
        match after {
            Some(b' ' | b'\t') => {
                // 2n backslashes and a space: n backslashes, then a separator; 2n + 1: n
                // backslashes and a space inside the name.
                name.extend(std::iter::repeat_n(b'\\', run / 2));
                self.at += run;
                if run % 2 == 1 {
                    name.push(after.unwrap_or(b' '));
                    self.at += 1;
                    false
                } else {
                    true
                }
            }
            Some(b'\n') | Some(b'\r') if run == 1 => {
                self.at += 1;
                if self.peek(0) == Some(b'\r') {
                    self.at += 1;
                }
                if self.peek(0) == Some(b'\n') {
                    self.at += 1;
                }
                self.line += 1;
                true
            }
            Some(b'#') if run == 1 => {
                name.push(b'#');
                self.at += 2;
                false
            }
            _ => {
                name.push(b'\\');
                self.at += 1;
                false
            }
        }
    }

    /// Skips a comment, up to and with the end of its line.
    fn skip_comment(&mut self) {
        while let Some(byte) = self.peek(0) {
            self.at += 1;
            if byte == b'\n' {
                self.line += 1;
                return;
            }
        }
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> Result<PathBuf, String> {
    use std::os::unix::ffi::OsStringExt;
    Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> Result<PathBuf, String> {
    String::from_utf8(bytes)
        .map(PathBuf::from)
        .map_err(|_| "a name that is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<String> {
        prerequisites(text.as_bytes())
            .unwrap()
            .iter()
            .map(|path| path.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn one_rule_continued_over_lines() {
        let text =
            "lapi.o: src/lapi.c src/lprefix.h \\\n  src/lua.h src/luaconf.h \\\n src/lapi.h\n";
        assert_eq!(
            parse(text),
            [
                "src/lapi.c",
                "src/lprefix.h",
                "src/lua.h",
                "src/luaconf.h",
                "src/lapi.h"
            ]
        );
    }

    #[test]
    fn escapes_are_undone() {
        assert_eq!(
            parse("a.o: my\\ dir/a.c cost$$.h hash\\#.h C:\\src\\x.h\n"),
            ["my dir/a.c", "cost$.h", "hash#.h", "C:\\src\\x.h"]
        );
        // 2n backslashes before a space are n backslashes and a separator; 2n + 1 are n
        // backslashes and a space in the name.
        assert_eq!(parse("a.o: x\\\\ y\\\\\\ z\n"), ["x\\", "y\\ z"]);
    }

    #[test]
    fn several_targets_several_rules_and_phony_ones() {
        let text = "a.o a.d: a.c b.h\r\nb.h:\n\n# generated\nc.o: c.c b.h\n";
        assert_eq!(parse(text), ["a.c", "b.h", "c.c"]);
    }

    #[test]
    fn rustc_dep_info() {
        let text = "/t/debug/deps/app-1.d: src/main.rs src/cli.rs\n\n/t/debug/deps/libapp.rmeta: src/main.rs src/cli.rs\n\nsrc/main.rs:\nsrc/cli.rs:\n\n# env-dep:CARGO_PKG_NAME=app\n";
        assert_eq!(parse(text), ["src/main.rs", "src/cli.rs"]);
    }

    #[test]
    fn a_colon_in_a_windows_target_does_not_end_it() {
        assert_eq!(parse("C:\\out\\a.o: C:\\src\\a.c\n"), ["C:\\src\\a.c"]);
    }

    #[test]
    fn empty_and_comment_only_depfiles_name_nothing() {
        assert!(parse("").is_empty());
        assert!(parse("\n# nothing\n").is_empty());
    }

    #[test]
    fn names_without_a_rule_are_refused_with_their_line() {
        let error = prerequisites(b"a.o: a.c\nstray words\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.starts_with("`stray` is not followed by `:`"));
        let error = prerequisites(b"a.o: a.c \\\n b.h\nlast").unwrap_err();
        assert_eq!(error.line, 3);
    }

    /// The depfile a real compiler writes: `cc -MMD -MP` on a file including two headers,
    /// one in a directory whose name has a space.
    #[test]
    fn real_compiler_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("my include")).unwrap();
        std::fs::write(dir.path().join("one.h"), "#define ONE 1\n").unwrap();
        std::fs::write(dir.path().join("my include/two.h"), "#define TWO 2\n").unwrap();
        std::fs::write(
            dir.path().join("main.c"),
            "#include \"one.h\"\n#include \"my include/two.h\"\n#include <stddef.h>\nint main(void) { return ONE + TWO - 3; }\n",
        )
        .unwrap();
        let status = std::process::Command::new("cc")
            .args(["-MMD", "-MP", "-c", "main.c", "-o", "main.o"])
            .current_dir(dir.path())
            .status()
            .expect("a C compiler, `cc`, is needed (it is also Rust's linker)");
        assert!(status.success());
        let text = std::fs::read(dir.path().join("main.d")).unwrap();
        let found = prerequisites(&text)
            .unwrap_or_else(|error| panic!("{error:?} in:\n{}", String::from_utf8_lossy(&text)));
        assert_eq!(
            found,
            [
                PathBuf::from("main.c"),
                PathBuf::from("one.h"),
                PathBuf::from("my include/two.h")
            ],
            "{}",
            String::from_utf8_lossy(&text)
        );
    }
}
