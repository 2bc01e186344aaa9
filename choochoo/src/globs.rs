//! Matching a filter's globs. A glob of plain text and `*` (which never matches `/`), as
//! most are (`*.c`, `src/*.h`, `build`), is matched here, one path component at a time;
//! any other (`**`, `?`, classes, alternatives, escapes) by `globset`, compiled to a regex.
//! The two agree on every path (the tests compare them), and the plain match saves the
//! regex's compilation, which costs a run over a small tree more than anything else it does
//! with the tree.

use crate::error::Error;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

/// A set of globs, matched against paths relative to a directory.
pub(crate) enum Matcher {
    /// Globs of plain text and `*` only, each split into its components.
    Plain(Vec<Vec<Vec<u8>>>),
    Compiled(GlobSet),
}

impl Matcher {
    /// The globs, compiled when one needs it; one that does not parse is an error naming it
    /// and `dir`, the directory they filter.
    pub(crate) fn new<'a>(
        dir: &Path,
        globs: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<Matcher, Error> {
        if globs.clone().all(is_plain) {
            return Ok(Matcher::Plain(globs.map(components).collect()));
        }
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            let compiled = GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|error| {
                    Error::usage(format!(
                        "the filter of directory {} has a glob that does not parse: {error}",
                        dir.display()
                    ))
                })?;
            builder.add(compiled);
        }
        let set = builder
            .build()
            .map_err(|error| Error::usage(error.to_string()))?;
        Ok(Matcher::Compiled(set))
    }

    /// Whether some glob matches `relative`.
    pub(crate) fn is_match(&self, relative: &Path) -> bool {
        match self {
            Matcher::Compiled(set) => set.is_match(relative),
            Matcher::Plain(globs) => {
                let path = relative.as_os_str().as_encoded_bytes();
                // As `globset` reads a path: with either separator where the system has two.
                let separator = |b: &u8| *b == b'/' || *b == std::path::MAIN_SEPARATOR as u8;
                let path: Vec<&[u8]> = path.split(separator).collect();
                globs.iter().any(|glob| {
                    glob.len() == path.len()
                        && glob
                            .iter()
                            .zip(&path)
                            .all(|(glob, name)| matches(glob, name))
                })
            }
        }
    }
}

/// Whether `glob` has no special character but `*`, and no `**`.
fn is_plain(glob: &str) -> bool {
    !glob.contains("**")
        && !glob
            .bytes()
            .any(|b| matches!(b, b'?' | b'[' | b']' | b'{' | b'}' | b'\\'))
}

/// A plain glob's components, split at `/`.
fn components(path: impl AsRef<[u8]>) -> Vec<Vec<u8>> {
    path.as_ref()
        .split(|&b| b == b'/')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Whether one component of a plain glob matches one component of a path: `*` stands for
/// any bytes, the rest for itself. The last `*` met takes one byte more at each mismatch.
fn matches(glob: &[u8], name: &[u8]) -> bool {
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if glob.get(g) == Some(&b'*') {
            star = Some((g, n));
            g += 1;
        } else if glob.get(g) == Some(&name[n]) {
            g += 1;
            n += 1;
        } else if let Some((at, taken)) = star {
            star = Some((at, taken + 1));
            g = at + 1;
            n = taken + 1;
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(glob: &str) -> GlobSet {
        let mut builder = GlobSetBuilder::new();
        let glob = GlobBuilder::new(glob).literal_separator(true).build();
        builder.add(glob.unwrap());
        builder.build().unwrap()
    }

    #[test]
    fn plain_globs_match_what_globset_matches() {
        let globs = [
            "*.c", "*", "*.*", "a*", "*a", "a*b*c", "*ab*ab", "src/*.h", "*/*", "src", "main.c",
            "*_test.c", ".*", "a**", "src/", "/src", "*.c*", "**", "**/*.c", "src/**", "?.c",
        ];
        let paths = [
            "main.c",
            "lexer.h",
            "src",
            "src/vm.h",
            "src/a/b.h",
            "a",
            "ab",
            "abc",
            "aXbYc",
            "acb",
            "abab",
            "xabab",
            "ababab",
            "lex_test.c",
            ".hidden",
            "a.c.orig",
            "src/",
            "",
            "c",
            ".c",
            "dir/x.c",
            "d/e/f.c",
            "aaa",
            "x.cc",
        ];
        for glob in globs {
            let plain = Matcher::new(Path::new("src"), std::iter::once(glob)).unwrap();
            assert_eq!(matches!(plain, Matcher::Plain(_)), is_plain(glob), "{glob}");
            let set = compiled(glob);
            for path in paths {
                assert_eq!(
                    plain.is_match(Path::new(path)),
                    set.is_match(path),
                    "`{glob}` on `{path}`"
                );
            }
        }
    }

    #[test]
    fn a_set_matches_when_any_glob_does() {
        let set = Matcher::new(Path::new("src"), ["*.c", "*.h"].into_iter()).unwrap();
        assert!(set.is_match(Path::new("vm.h")));
        assert!(set.is_match(Path::new("vm.c")));
        assert!(!set.is_match(Path::new("vm.o")));
        let empty = Matcher::new(Path::new("src"), std::iter::empty()).unwrap();
        assert!(!empty.is_match(Path::new("vm.c")));
    }
}
