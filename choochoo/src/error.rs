//! The error type of every fallible call: opaque, with a readable message and the chain of
//! causes, and for a failed run the report of what ran, failed and was blocked.

use crate::report::{Report, Status};
use std::fmt;
use std::path::{Path, PathBuf};

/// An error from choochoo: a station failed, or the store could not be used.
///
/// It is opaque: its message says what failed and where (`station `upload` failed: ...`,
/// `cannot open the store database ...`), its [`source`](std::error::Error::source) chain
/// has the causes, and a failed run carries its [`Report`]: what ran, what failed and what
/// was blocked. A station's error of several lines (a compiler's) keeps them, and then the
/// count of stations blocked is on a line of its own.
///
/// ```
/// use choochoo::{station, workflow, Runner, Status, Store};
///
/// #[station]
/// fn parse(text: &str) -> Result<u64, std::num::ParseIntError> {
///     text.parse()
/// }
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(text: String) -> u64 {
///         let x = parse(text);
///         double(x)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-error-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let error = Runner::new(&store).run(twice("forty-two".to_owned())).unwrap_err();
/// assert!(error.is_station_failure());
/// assert_eq!(error.to_string(), "station `x` failed: invalid digit found in string; 1 blocked");
/// let report = error.report().expect("a failed run has a report");
/// assert_eq!(report.count(Status::Failed), 1);
/// assert_eq!(report.count(Status::Blocked), 1);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
pub struct Error {
    kind: Kind,
}

enum Kind {
    /// One or more stations failed; the report says which and what else did not run.
    Failed(Box<Report>),
    /// Ctrl-C stopped the run: the stations running finished, no others started.
    Interrupted(Box<Report>),
    /// A file-system operation on `path` failed.
    Io {
        operation: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A clean function failed; what was and was not cleaned.
    CleanFailed(Box<crate::cleaned::Cleaned>),
    /// The store's database refused an operation.
    Db {
        operation: &'static str,
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// A value could not be encoded or decoded.
    Encoding {
        type_name: &'static str,
        source: postcard::Error,
    },
    /// A bad argument from the caller.
    Usage(String),
    /// A broken invariant inside choochoo.
    Internal(String),
}

impl Error {
    pub(crate) fn failed(report: Report) -> Error {
        Error {
            kind: Kind::Failed(Box::new(report)),
        }
    }

    pub(crate) fn interrupted(report: Report) -> Error {
        Error {
            kind: Kind::Interrupted(Box::new(report)),
        }
    }

    pub(crate) fn io(operation: &'static str, path: &Path, source: std::io::Error) -> Error {
        Error {
            kind: Kind::Io {
                operation,
                path: path.to_path_buf(),
                source,
            },
        }
    }

    pub(crate) fn clean_failed(cleaned: crate::cleaned::Cleaned) -> Error {
        Error {
            kind: Kind::CleanFailed(Box::new(cleaned)),
        }
    }

    pub(crate) fn db(operation: &'static str, path: &Path, source: rusqlite::Error) -> Error {
        Error {
            kind: Kind::Db {
                operation,
                path: path.to_path_buf(),
                source,
            },
        }
    }

    pub(crate) fn encoding(type_name: &'static str, source: postcard::Error) -> Error {
        Error {
            kind: Kind::Encoding { type_name, source },
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error {
            kind: Kind::Usage(message.into()),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error {
            kind: Kind::Internal(message.into()),
        }
    }

    /// The run's report, when the error is a failed or interrupted run.
    pub fn report(&self) -> Option<&Report> {
        match &self.kind {
            Kind::Failed(report) | Kind::Interrupted(report) => Some(report),
            _ => None,
        }
    }

    /// What a failed clean did and did not clean.
    pub fn cleaned(&self) -> Option<&crate::cleaned::Cleaned> {
        match &self.kind {
            Kind::CleanFailed(cleaned) => Some(cleaned),
            _ => None,
        }
    }

    /// Whether a station failed (as opposed to the store or the caller's arguments).
    pub fn is_station_failure(&self) -> bool {
        matches!(self.kind, Kind::Failed(_))
    }

    /// Whether Ctrl-C stopped the run during a [`watch`](crate::Runner::watch): the stations
    /// running finished and were recorded, and no others started.
    pub fn is_interrupted(&self) -> bool {
        matches!(self.kind, Kind::Interrupted(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Failed(report) => {
                // A map's failed items are in its error: the stations are counted.
                let mut failed = report
                    .with_status(Status::Failed)
                    .filter(|entry| entry.item().is_none());
                let mut error = "";
                match failed.next() {
                    Some(first) => {
                        write!(
                            f,
                            "station `{}` failed",
                            first.label().unwrap_or(first.name())
                        )?;
                        if let Some(first) = first.error() {
                            write!(f, ": {first}")?;
                            error = first;
                        }
                    }
                    None => write!(f, "the run failed")?,
                }
                let more = failed.count();
                if more > 0 {
                    write!(f, "{}(and {more} more failed)", joint(error, " "))?;
                }
                let blocked = report
                    .with_status(Status::Blocked)
                    .filter(|entry| entry.item().is_none())
                    .count();
                if blocked > 0 {
                    write!(f, "{}{blocked} blocked", joint(error, "; "))?;
                }
                Ok(())
            }
            Kind::Interrupted(report) => {
                let skipped = report
                    .with_status(Status::Skipped)
                    .filter(|entry| entry.item().is_none())
                    .count();
                write!(f, "interrupted: {skipped} not started")
            }
            Kind::CleanFailed(cleaned) => write!(f, "{cleaned}"),
            Kind::Io {
                operation,
                path,
                source,
            } => write!(f, "cannot {operation} {}: {source}", path.display()),
            Kind::Db {
                operation,
                path,
                source,
            } => write!(
                f,
                "cannot {operation} the store database {}: {source}",
                path.display()
            ),
            Kind::Encoding { type_name, source } => {
                write!(f, "cannot encode or decode a `{type_name}`: {source}")
            }
            Kind::Usage(message) => f.write_str(message),
            Kind::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `main` returning `Result<(), Error>` prints Debug: keep it as readable as Display.
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { source, .. } => Some(source),
            Kind::Encoding { source, .. } => Some(source),
            Kind::Db { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What goes between an error `message` and a note after it (`; 4 blocked`): `inline`, or
/// a line break when the message has several lines (a compiler's), so that the note is not
/// read as part of its last line.
pub(crate) fn joint<'a>(message: &str, inline: &'a str) -> &'a str {
    if message.contains('\n') { "\n" } else { inline }
}

/// A station error and its `source()` chain, joined by ": ".
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Many errors repeat their source in their own message; do not print it twice.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A station error and its `source()` chain, outermost first, without repeats.
pub(crate) fn chain_parts(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last().is_none_or(|last| !last.ends_with(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts
}
