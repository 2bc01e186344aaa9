//! `clean`: says what it will undo, in the order it will, and asks before it does.
//!
//! `clean` undoes every station the store remembers; `clean ID..` the named stations and,
//! before them, every station downstream of them (the app goes before the database it
//! serves from); `clean --only ID..` the named ones alone. A named map item's dependents
//! are its map's. The list comes first, last station first, each line with what cleaning it
//! does and the output it had produced; then, on a terminal, `y` goes on and anything else
//! cleans nothing. `--yes` goes on without asking (scripts); `--dry-run` prints the list and
//! touches nothing. Without a terminal and without `--yes`, `clean` refuses (exit code 2,
//! nothing cleaned). `--only` asks in the same way: it destroys as much as any clean.

use super::{FAILED, Session, say};
use crate::clean::{self, Reach, Selection, Undo};
use crate::error::Error;
use crate::execution::{Execution, Settings};
use crate::workflow::Workflow;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

/// `clean`'s arguments.
#[derive(Debug, clap::Args)]
pub(super) struct CleanOptions {
    /// Cleans these stations, after everything downstream of them (a binding, a node name,
    /// a function name, or a map's item `map[item]`).
    #[arg(value_name = "ID")]
    ids: Vec<String>,
    /// Cleans the named stations only, not what depends on them.
    #[arg(long, requires = "ids")]
    only: bool,
    /// Cleans without asking, for scripts.
    #[arg(long, short)]
    yes: bool,
    /// Lists what would be cleaned, and cleans nothing.
    #[arg(long, conflicts_with = "yes")]
    dry_run: bool,
}

pub(super) fn run<W, F>(s: &Session<'_, F>, options: &CleanOptions) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let store = s.store()?;
    let (_, graph) = s.graph()?;
    let settings = Settings {
        profile: s.args.profile.clone(),
        ..Settings::default()
    };
    let execution = Execution::new(&graph, &store, &settings)?;
    let selection = match (options.ids.is_empty(), options.only) {
        (true, _) => Selection::All,
        (false, false) => Selection::named(&execution, &options.ids, Reach::Dependents)?,
        (false, true) => Selection::named(&execution, &options.ids, Reach::Only)?,
    };
    let targets = clean::targets(&execution, &selection)?;
    let steps = clean::plan(&execution, &targets);
    let profile = &s.args.profile;
    if steps.is_empty() {
        say(format_args!(
            "nothing to clean: the store remembers none of these stations in the profile \
             `{profile}`"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    if options.dry_run {
        say(listing("would undo", &steps, profile));
        say("nothing was cleaned (dry run)");
        return Ok(ExitCode::SUCCESS);
    }
    if !go_ahead(s, options, &steps)? {
        say("nothing was cleaned");
        return Ok(ExitCode::SUCCESS);
    }
    finish(clean::undo(&execution, targets))
}

/// `clean would undo these 3, the last station first, in the profile `default`:` and a
/// line per step.
fn listing(verb: &str, steps: &[Undo], profile: &str) -> String {
    let what = match steps.len() {
        1 => "this one".to_owned(),
        n => format!("these {n}, the last station first,"),
    };
    let mut text = format!("clean {verb} {what} in the profile `{profile}`:");
    for step in steps {
        text.push_str(&format!("\n  {step}"));
    }
    text
}

/// Whether to clean: with `--yes`, after showing the list (unless `--quiet`); on a
/// terminal, if the answer is yes; without one, it refuses.
fn go_ahead<F>(s: &Session<'_, F>, options: &CleanOptions, steps: &[Undo]) -> Result<bool, Error> {
    let list = listing("will undo", steps, &s.args.profile);
    if options.yes {
        if !s.args.quiet {
            eprintln!("{list}");
        }
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!("{list}");
        return Err(Error::usage(
            "`clean` asks before it undoes anything, and standard input is not a terminal to \
             ask on; pass `--yes` to clean without asking, or `--dry-run` to only see the list",
        ));
    }
    ask(&mut stdin.lock(), &mut std::io::stderr(), &list)
        .map_err(|error| Error::io("read the answer from", "standard input".as_ref(), error))
}

/// Shows `list` on `out`, asks, and reads the answer from `input`: yes is `y` or `yes`;
/// anything else, an empty line or the end of the input is no.
fn ask(input: &mut impl BufRead, out: &mut impl Write, list: &str) -> std::io::Result<bool> {
    write!(out, "{list}\nclean them? [y/N] ")?;
    out.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// What the clean did: `cleaned 3: …`, or what it did before a clean function failed.
fn finish(cleaned: Result<crate::cleaned::Cleaned, Error>) -> Result<ExitCode, Error> {
    match cleaned {
        Ok(cleaned) => {
            say(cleaned);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => match error.cleaned() {
            Some(cleaned) => {
                eprintln!("error: {cleaned}");
                Ok(ExitCode::from(FAILED))
            }
            None => Err(error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::ask;

    fn answer(typed: &str) -> (bool, String) {
        let mut shown = Vec::new();
        let yes = ask(&mut typed.as_bytes(), &mut shown, "clean will undo these 2").unwrap();
        (yes, String::from_utf8(shown).unwrap())
    }

    #[test]
    fn only_a_yes_goes_on() {
        for typed in ["y\n", "Y\n", "yes\n", " YES \n"] {
            assert!(answer(typed).0, "{typed:?}");
        }
        for typed in ["\n", "", "n\n", "no\n", "yep\n", "y es\n"] {
            assert!(!answer(typed).0, "{typed:?}");
        }
    }

    #[test]
    fn the_question_follows_the_list() {
        assert_eq!(
            answer("n\n").1,
            "clean will undo these 2\nclean them? [y/N] "
        );
    }
}
