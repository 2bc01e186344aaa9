//! The report of a run: one [`Entry`] per station saying what happened to it and why.

pub(crate) mod entry;

use entry::Entry;
use std::fmt;

/// A map item's node name, `map[item]`, as its map's node name and the item's name. No
/// other node's name has brackets: a name given with `add_named` may not.
pub(crate) fn split_item(node: &str) -> Option<(&str, &str)> {
    let open = node.find('[')?;
    let item = node.strip_suffix(']')?.get(open + 1..)?;
    (open > 0).then(|| (&node[..open], item))
}

/// The node name of a map's item.
pub(crate) fn item_node(map: &str, item: &str) -> String {
    format!("{map}[{item}]")
}

/// What happened to a station in a run.
///
/// It prints as `ran`, `cached`, `failed`, `blocked` or `skipped`.
///
/// ```
/// use choochoo::Status;
///
/// fn did_work(status: Status) -> bool {
///     match status {
///         Status::Ran | Status::Failed => true,
///         Status::Cached | Status::Blocked | Status::Skipped => false,
///         _ => false, // more statuses may come
///     }
/// }
/// assert!(!did_work(Status::Cached));
/// assert_eq!(Status::Blocked.to_string(), "blocked");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Status {
    /// The station's function was called and succeeded.
    Ran,
    /// The station's result was taken from the store; its function was not called.
    Cached,
    /// The station's function returned an error or panicked.
    Failed,
    /// The station did not run because a station it depends on failed.
    Blocked,
    /// The station did not run because the run stopped at a failure elsewhere
    /// (see [`Runner::keep_going`](crate::Runner::keep_going)).
    Skipped,
}

impl Status {
    /// Every status, in the order reports list them.
    pub(crate) const ALL: [Status; 5] = [
        Status::Ran,
        Status::Cached,
        Status::Failed,
        Status::Blocked,
        Status::Skipped,
    ];

    pub(crate) fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.to_string() == text)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ran => "ran",
            Status::Cached => "cached",
            Status::Failed => "failed",
            Status::Blocked => "blocked",
            Status::Skipped => "skipped",
        })
    }
}

/// Every station of a run, in the order they were added to the graph, each map followed by
/// the items it ran or found in the store ([`Entry::item`]; a map found in the store as a
/// whole lists none).
///
/// What happened to each ([`Entry`]), and why it ran. A successful run has it
/// ([`Run::report`](crate::Run::report)),
/// and so has a failed one ([`Error::report`](crate::Error::report)); [`Store::report`]
/// reads a past run's. It prints as one line per station and a summary.
///
/// ```
/// use choochoo::{station, workflow, Runner, Status, Store};
///
/// #[station]
/// fn words(text: &str) -> usize { text.split_whitespace().count() }
///
/// #[station]
/// fn double(n: &usize) -> usize { 2 * n }
///
/// workflow! {
///     fn count(text: String) -> usize {
///         let n = words(text);
///         double(n)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-report-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let runner = Runner::new(&store);
/// runner.run(count("fail fix run".to_owned()))?;
///
/// // Other words, the same count: `n` runs, and its unchanged output stops the cascade.
/// let run = runner.run(count("one two three".to_owned()))?;
/// let report = run.report();
/// assert_eq!((report.count(Status::Ran), report.count(Status::Cached)), (1, 1));
/// let n = report.find("n").next().unwrap();
/// assert_eq!(n.node(), "count.n");
/// assert_eq!(n.reason(), Some("input `text` changed: \"fail fix run\" → \"one two three\""));
/// println!("{report}");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
///
/// [`Store::report`]: crate::Store::report
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub(crate) run: i64,
    pub(crate) entries: Vec<Entry>,
    pub(crate) warnings: Vec<String>,
}

impl Report {
    /// The run's id in the store.
    pub fn run_id(&self) -> i64 {
        self.run
    }

    /// All entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Problems the run worked around, such as a corrupt store entry that was recomputed or
    /// a result that could not be recorded. They are also printed to stderr as they happen.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How many entries (stations and map items) ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.status == status)
            .count()
    }

    /// The entries with `status`.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |entry| entry.status == status)
    }

    /// The entries whose label, node name or id is `name` (ids match on the last path
    /// segment too, and a station's id matches the items of its maps).
    pub fn find<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |entry| {
            entry.label() == Some(name)
                || &*entry.node == name
                || entry.id() == name
                || entry.id().rsplit("::").next() == Some(name)
        })
    }

    /// `3 stations: 2 ran, 1 cached`, and `; 34 items: 1 ran, 33 cached` when maps ran:
    /// each status counted with `word` (`ran`, `failed`, …).
    pub(crate) fn tally(&self, word: impl Fn(Status) -> String) -> String {
        let (items, stations): (Vec<&Entry>, Vec<&Entry>) = self
            .entries
            .iter()
            .partition(|entry| entry.item().is_some());
        let mut tally = counted("stations", &stations, &word);
        if !items.is_empty() {
            tally.push_str("; ");
            tally.push_str(&counted("items", &items, &word));
        }
        tally
    }
}

/// How far the lines under a station's line are indented: past its status.
const NOTE_INDENT: &str = "          ";

/// `text` with each line after the first indented by `indent`, so a message of several
/// lines (a compiler's) stays one block under the line it starts on.
pub(crate) fn indented(text: &str, indent: &str) -> String {
    text.replace('\n', &format!("\n{indent}"))
}

/// The failure summary's lines about a defect: known or new, how often, and its notes.
fn write_defect(f: &mut fmt::Formatter<'_>, defect: &crate::defect::model::Defect) -> fmt::Result {
    // Counted in runs: the stations of one event and the retries of one station are one.
    let seen = match defect.runs_seen() {
        0 | 1 => "new defect, first seen now".to_owned(),
        n => format!("known defect, seen {n} times"),
    };
    let regressed = if defect.regressed() {
        "; it came back after being marked fixed"
    } else {
        ""
    };
    writeln!(
        f,
        "{NOTE_INDENT}defect {} ({seen}{regressed}): {}",
        defect.id(),
        defect.title()
    )?;
    for note in defect.notes() {
        writeln!(f, "{NOTE_INDENT}{}: {}", note.kind(), note.text())?;
    }
    Ok(())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for entry in &self.entries {
            write!(
                f,
                "{:>8}  {}",
                entry.status.to_string(),
                entry.label().unwrap_or(entry.name())
            )?;
            if entry.status == Status::Ran || entry.status == Status::Failed {
                write!(f, " ({:.1?})", entry.duration())?;
            }
            if let Some(reason) = entry.reason() {
                write!(f, ": {reason}")?;
            }
            if let Some(error) = entry.error() {
                write!(f, ": {}", indented(error, NOTE_INDENT))?;
            }
            writeln!(f)?;
            for warning in entry.warnings() {
                writeln!(f, "{NOTE_INDENT}warning: {warning}")?;
            }
            if let Some(defect) = entry.defect() {
                write_defect(f, defect)?;
            }
        }
        f.write_str(&self.tally(|status| status.to_string()))
    }
}

/// `3 stations: 2 ran, 1 cached`: how many `entries` there are, and how many of each status.
fn counted(what: &str, entries: &[&Entry], word: &impl Fn(Status) -> String) -> String {
    let counts: Vec<String> = Status::ALL
        .into_iter()
        .map(|status| {
            (
                status,
                entries.iter().filter(|e| e.status == status).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{n} {}", word(status)))
        .collect();
    format!("{} {what}: {}", entries.len(), counts.join(", "))
}
