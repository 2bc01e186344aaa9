//! What a station warns of while it runs ([`Ctx::warn`]): a compiler's warnings, a
//! deprecation, whatever the person running the workflow should see although the station
//! succeeded. They are kept per station in the run's report and record, within limits, so
//! a chatty station cannot bloat the store.

use crate::station::Ctx;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many warning lines of one station a run keeps; past them, only how many more came.
/// (`Ctx::warn`'s docs give both limits.)
pub(crate) const KEPT_LINES: usize = 100;

/// How many characters of one warning line are kept; a longer line is cut, ending in `…`.
pub(crate) const LINE_CHARS: usize = 1000;

/// What the stations of a run warned of, by node name: the list of each station's last
/// attempt that warned, with that attempt's number. A station that warns of nothing takes
/// no room in it (most stations of a large run).
pub(crate) type Board = Arc<Mutex<HashMap<Box<str>, (u32, Warnings)>>>;

/// The warnings of one attempt of a station, shared by its [`Ctx`] and the run.
#[derive(Clone, Default)]
pub(crate) struct Warnings(Arc<Mutex<Kept>>);

#[derive(Default)]
struct Kept {
    lines: Vec<String>,
    /// Lines that came past [`KEPT_LINES`].
    more: usize,
    /// The run's board and the attempt's number, until its first line puts it there.
    home: Option<(Board, u32)>,
}

impl Warnings {
    /// The list of attempt `number` of a station, which goes on `board` at its first line.
    pub(crate) fn on(board: &Board, number: u32) -> Warnings {
        let kept = Kept {
            home: Some((board.clone(), number)),
            ..Kept::default()
        };
        Warnings(Arc::new(Mutex::new(kept)))
    }

    /// Puts this list of attempt `number` on `board` as node `node`'s, in place of an
    /// earlier attempt's (or another call's of the same node), not of a later attempt's: a
    /// timed-out attempt that warns late leaves its successor's list alone.
    pub(crate) fn post(&self, board: &Board, node: &str, number: u32) {
        let mut posted = board.lock().unwrap_or_else(|e| e.into_inner());
        match posted.get(node) {
            Some((later, _)) if *later > number => {}
            _ => {
                posted.insert(node.into(), (number, self.clone()));
            }
        }
    }

    fn push(&self, node: &str, line: String) {
        let home = {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if kept.lines.len() < KEPT_LINES {
                kept.lines.push(line);
            } else {
                kept.more += 1;
            }
            kept.home.take()
        };
        if let Some((board, number)) = home {
            self.post(&board, node, number);
        }
    }

    /// The lines kept, and a last one saying how many more there were, if any.
    pub(crate) fn take(&self) -> Vec<String> {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines = std::mem::take(&mut kept.lines);
        match std::mem::take(&mut kept.more) {
            0 => {}
            1 => lines.push("(1 more warning line was not kept)".to_owned()),
            more => lines.push(format!("({more} more warning lines were not kept)")),
        }
        lines
    }
}

/// `line`, cut to [`LINE_CHARS`] characters.
fn cut(line: &str) -> String {
    match line.char_indices().nth(LINE_CHARS) {
        None => line.to_owned(),
        Some((end, _)) => format!("{}…", &line[..end]),
    }
}

/// Warnings a station gives while it runs.
///
/// ```
/// use choochoo::{station, workflow, Ctx, Runner, Status, Store};
///
/// /// Counts the words of a text, and warns of the ones it does not know.
/// #[station]
/// fn count(ctx: &Ctx, text: &str) -> usize {
///     for word in text.split_whitespace().filter(|w| w.contains('?')) {
///         ctx.warn(format!("`{word}` is not a word; counted anyway"));
///     }
///     text.split_whitespace().count()
/// }
///
/// workflow! {
///     fn words(text: String) -> usize { count(text) }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-warn-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let runner = Runner::new(&store);
/// let run = runner.run(words("a b? c".to_owned()))?;
/// let entry = &run.report().entries()[0];
/// assert_eq!(entry.warnings(), ["`b?` is not a word; counted anyway"]);
///
/// // Found in the store, it did not run this time: it warns of nothing.
/// let again = runner.run(words("a b? c".to_owned()))?;
/// assert_eq!(again.report().entries()[0].status(), Status::Cached);
/// assert!(again.report().entries()[0].warnings().is_empty());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
impl Ctx {
    /// Warns the person running the workflow: each line of `text` is a warning line of this
    /// station, such as a line a compiler wrote to its standard error. They are in this
    /// run's [`Entry::warnings`](crate::Entry::warnings), saved with the run (`status` and
    /// `report` show them later), printed by the command line at the end of the run and,
    /// with `--verbose`, as they come ([`Event::Warning`](crate::Event::Warning)); the last
    /// lines logged with a failure have them too.
    ///
    /// They are what this run of the station said: when a later run finds the station's
    /// result in the store, the station does not run and warns of nothing, as `make` says
    /// nothing of a file it does not compile again. A run keeps at most 100 lines of one
    /// station, each cut to 1,000 characters, and then a line saying how many more came.
    ///
    /// A station tried again (after a [`Transient`](crate::Transient) failure) starts each
    /// attempt with no warnings: its entry has what its last attempt warned of, whether it
    /// succeeded or failed, and the defect ledger's observation of a failure has what it
    /// warned of among the lines it logged (`warning: …`). An item of a map warns as a station of
    /// its own: its lines are in its entry (`objects[src/lapi.c]`), the map's entry has
    /// none. A warning is the text the station gave and nothing else (no input value, no
    /// variable of its environment is added), so it holds a secret only if the station
    /// wrote one.
    pub fn warn(&self, text: impl std::fmt::Display) {
        for line in text.to_string().lines() {
            let line = cut(line);
            if let Some(listener) = &self.listener {
                listener(&crate::progress::Event::Warning {
                    node: &self.node,
                    line: &line,
                });
            }
            self.keep_in_log(format!("warning: {line}"));
            self.warnings.push(&self.node, line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chatty_station_keeps_its_first_lines_and_how_many_more() {
        let warnings = Warnings::default();
        for i in 0..KEPT_LINES + 7 {
            warnings.push("node", format!("line {i}"));
        }
        let lines = warnings.take();
        assert_eq!(lines.len(), KEPT_LINES + 1);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[KEPT_LINES - 1], format!("line {}", KEPT_LINES - 1));
        assert_eq!(lines[KEPT_LINES], "(7 more warning lines were not kept)");
        assert!(warnings.take().is_empty(), "taken once");
    }

    #[test]
    fn a_long_line_is_cut_on_a_character() {
        let long = "é".repeat(LINE_CHARS + 5);
        let kept = cut(&long);
        assert_eq!(kept.chars().count(), LINE_CHARS + 1);
        assert!(kept.ends_with("é…"));
        assert_eq!(cut("short"), "short");
        assert_eq!(cut(&"x".repeat(LINE_CHARS)), "x".repeat(LINE_CHARS));
    }
}
