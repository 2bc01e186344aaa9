//! Stations: the steps of a workflow. A station is a plain function marked `#[station]`;
//! the macro generates a unit struct implementing [`Station`], which tells the runtime the
//! station's identity, its code fingerprint, its input and output types, and how to call it.

use crate::checked::Checked;
use crate::hash::Digest;
use crate::value::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::inputs::{Fingerprint, InputAt, Inputs};

/// The boxed error a failing station returns, whatever its own error type was.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A step of a workflow, implemented by [`#[station]`](crate::station).
///
/// The macro implements it on the unit struct it generates (`WordCount` for
/// `fn word_count`); a program passes that struct to [`Graph::add`](crate::Graph::add) and
/// rarely calls these methods itself.
///
/// The station's key in the store is built from its [`id`](Station::id), its
/// [`fingerprint`](Station::fingerprint), its output type and the content of its inputs.
/// Its methods return errors as `Box<dyn std::error::Error + Send + Sync>`.
///
/// ```
/// use choochoo::{station, Station};
///
/// /// Counts the words of a text.
/// #[station(name = "Count words", version = 3)]
/// fn word_count(text: &str) -> usize {
///     text.split_whitespace().count()
/// }
///
/// assert!(WordCount.id().ends_with("::word_count")); // the module path, then the name
/// assert_eq!(WordCount.name(), "Count words");
/// assert_eq!(WordCount.input_names(), ["text"]);
///
/// #[station(name = "Count words", version = 4)]
/// fn word_count_v4(text: &str) -> usize {
///     text.split_whitespace().count()
/// }
/// assert_ne!(WordCount.fingerprint(), WordCountV4.fingerprint());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a station",
    label = "not a station",
    note = "mark the function with `#[station]`; a workflow calls it by the function's name"
)]
pub trait Station: Send + Sync + 'static {
    /// The inputs, as a tuple: `(A, B)` for `fn f(a: &A, b: &B)`.
    type Input: Inputs;
    /// The value the station produces.
    type Output: Value;

    /// A stable identity: the module path and function name, such as `app::word_count`.
    fn id(&self) -> &'static str;

    /// A human name for reports (the function name unless `name = "..."` was given).
    fn name(&self) -> &'static str;

    /// The hash of the function's tokens and its `version` option.
    fn fingerprint(&self) -> Digest;

    /// The names of the function's input parameters, to say which input changed.
    fn input_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Calls the function.
    fn run(
        &self,
        ctx: &Ctx,
        input: <Self::Input as Inputs>::Refs<'_>,
    ) -> Result<Self::Output, BoxError>;

    /// Whether the station has a check (`#[station(check = path)]`): it acts on the world
    /// outside, and a remembered result counts only while the check says the state holds.
    fn has_check(&self) -> bool {
        false
    }

    /// Asks whether the desired state is there for these inputs and this output: called on a
    /// remembered result (drifted: run again) and after every run (drifted: the station or
    /// its check is wrong). An error is a failed attempt: the check cannot tell.
    fn check(
        &self,
        input: <Self::Input as Inputs>::Refs<'_>,
        output: &Self::Output,
    ) -> Result<Checked, BoxError> {
        let _ = (input, output);
        Ok(Checked::Holds)
    }

    /// Whether the station has a clean function (`#[station(clean = path)]`).
    fn has_clean(&self) -> bool {
        false
    }

    /// Undoes what the station did, given the inputs and output of its last run.
    fn clean(
        &self,
        input: <Self::Input as Inputs>::Refs<'_>,
        output: &Self::Output,
    ) -> Result<(), BoxError> {
        let _ = (input, output);
        Ok(())
    }

    /// How many times a [`Transient`] failure is tried again (`#[station(retries = N)]`).
    fn retries(&self) -> u32 {
        0
    }

    /// The wait before the first retry, doubled for each one after (`backoff = "200ms"`).
    fn backoff(&self) -> std::time::Duration {
        std::time::Duration::from_millis(100)
    }

    /// How long one attempt may take before it counts as failed (`timeout = "30s"`).
    fn timeout(&self) -> Option<std::time::Duration> {
        None
    }

    /// The resources the station holds a unit of while it runs
    /// (`#[station(resources = ["db"])]`), limited by
    /// [`Runner::resource`](crate::Runner::resource).
    fn resources(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the station is an `async fn` (`#[station] async fn`, with the `tokio`
    /// feature), whose time limit cancels its future rather than abandoning its thread.
    #[doc(hidden)]
    fn is_async(&self) -> bool {
        false
    }
}

/// Marks a station's error as transient: worth trying again.
///
/// A station with `#[station(retries = N)]` is retried only after errors that are, or are
/// caused by, a `Transient` (a refused connection, a busy server), never after others.
///
/// ```
/// # use choochoo::Transient;
/// fn fetch() -> Result<String, Transient> {
///     Err(Transient::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)))
/// }
/// ```
#[derive(Debug)]
pub struct Transient(BoxError);

impl Transient {
    /// Wraps an error as transient.
    pub fn new(error: impl Into<BoxError>) -> Transient {
        Transient(error.into())
    }

    /// Whether `error` is or was caused by a `Transient`.
    pub(crate) fn marks(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut current = Some(error);
        while let Some(error) = current {
            if error.is::<Transient>() {
                return true;
            }
            current = error.source();
        }
        false
    }
}

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Transient {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// What a running station can ask of the runtime.
///
/// Its own directory for the files it writes, a log kept with its failures, warnings for
/// the person running it ([`warn`](Ctx::warn)), progress for the command line's bars,
/// whether the run is stopping, and the inputs it finds while it runs
/// ([`read`](Ctx::read), [`depend`](Ctx::depend), [`depfile`](Ctx::depfile),
/// [`env`](Ctx::env): files, directories and variables it was not given, which count like
/// its inputs). Take `ctx: &Ctx` as a station's first parameter to get it; it is not an
/// input (a workflow passes no argument for it).
///
/// ```
/// use choochoo::{station, workflow, Ctx, File, Runner, Store};
///
/// type BoxError = Box<dyn std::error::Error + Send + Sync>;
///
/// /// Writes a summary into this station's own directory.
/// #[station]
/// fn write_summary(ctx: &Ctx, words: &usize) -> Result<File, BoxError> {
///     ctx.log(format!("summarizing {words} words"));
///     let path = ctx.output("report/summary.txt")?;
///     std::fs::write(&path, format!("{words} words\n"))?;
///     ctx.progress(1, Some(1));
///     Ok(File::new(path))
/// }
///
/// workflow! {
///     fn summary(words: usize) -> File {
///         write_summary(words)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-ctx-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let run = Runner::new(&store).run(summary(3))?;
/// let file = run.output();
/// assert!(file.path().starts_with(store.dir().join("work/default/summary.output")));
/// assert_eq!(std::fs::read_to_string(file.path())?, "3 words\n");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
pub struct Ctx {
    pub(crate) id: &'static str,
    pub(crate) out_dir: std::path::PathBuf,
    /// Set once a station of the run may have made its directory.
    pub(crate) dirs_made: Arc<AtomicBool>,
    pub(crate) label: Option<Box<str>>,
    pub(crate) stopping: Arc<AtomicBool>,
    /// Set when this attempt timed out: the station should give up.
    pub(crate) cancelled: Arc<AtomicBool>,
    pub(crate) log: crate::capture::Log,
    pub(crate) capture: tracing::Dispatch,
    pub(crate) node: Box<str>,
    pub(crate) listener: Option<crate::progress::Listener>,
    /// What the station says it read while it runs.
    pub(crate) discovery: crate::discovered::Discovery,
    /// The children it started through [`Ctx::command`] that still run.
    pub(crate) children: crate::child::Children,
    /// The run's journal, written before a program starts, so a kill names the station.
    pub(crate) journal: Option<Arc<crate::store::journal::Journal>>,
    /// What it warns of ([`Ctx::warn`]).
    pub(crate) warnings: crate::warnings::Warnings,
    /// The runtime an async station's future is driven on, and its attempt's time limit.
    #[cfg(feature = "tokio")]
    pub(crate) tokio: Arc<crate::asynchronous::Tokio>,
    #[cfg(feature = "tokio")]
    pub(crate) limit: Option<std::time::Duration>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("station", &self.id)
            .field("node", &self.node)
            .field("out_dir", &self.out_dir)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    /// The id of the running station.
    pub fn station_id(&self) -> &str {
        self.id
    }

    /// The node's label in its workflow: the binding name in `workflow!` or the name given
    /// to a builder node, if any; for an item of a map, `label[item]`.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// This station's own directory, created on first use: `work/<profile>/<node>/` in the
    /// store, and for an item of a map `work/<profile>/<map node>/<item>/`, the same from run
    /// to run (see [`Entry::item`](crate::Entry::item)). Files a station returns usually live
    /// here. Deleting the directory makes the
    /// station run again (its output files are missing).
    pub fn out_dir(&self) -> &std::path::Path {
        // A failure to create it surfaces as a clear I/O error on the station's first write.
        self.dirs_made
            .store(true, std::sync::atomic::Ordering::Release);
        let _ = crate::privacy::create_dir_all(&self.out_dir);
        &self.out_dir
    }

    /// The path of an output named `name` inside this station's directory, with its parent
    /// directories created: `ctx.output("report/summary.txt")?`. A name with `..`, an absolute
    /// path, a NUL byte, or an ancestor that is a symbolic link is refused with an error naming
    /// it, so a station never writes outside its directory by accident.
    pub fn output(
        &self,
        name: impl AsRef<std::path::Path>,
    ) -> Result<std::path::PathBuf, crate::error::Error> {
        let path = crate::names::join(&self.out_dir, name.as_ref())?;
        self.dirs_made
            .store(true, std::sync::atomic::Ordering::Release);
        if let Some(parent) = path.parent() {
            crate::privacy::create_dir_all(parent)
                .map_err(|error| crate::error::Error::io("create the directory", parent, error))?;
        }
        Ok(path)
    }

    /// Whether the run is stopping because a station failed elsewhere. A long station may
    /// check it now and then and return early; its result is then up to it (an `Err` is a
    /// failure like any other).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire) || self.cancelled.load(Ordering::Acquire)
    }

    pub(crate) fn timed_out(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Reports this station's progress: `done` of `total` steps (if known). A CLI shows it as
    /// the station's own bar.
    pub fn progress(&self, done: u64, total: Option<u64>) {
        self.emit(done, total, crate::progress::Unit::Steps);
    }

    /// Reports progress in bytes, such as an upload's.
    pub fn progress_bytes(&self, done: u64, total: Option<u64>) {
        self.emit(done, total, crate::progress::Unit::Bytes);
    }

    fn emit(&self, done: u64, total: Option<u64>, unit: crate::progress::Unit) {
        if let Some(listener) = &self.listener {
            listener(&crate::progress::Event::Progress {
                node: &self.node,
                done,
                total,
                unit,
            });
        }
    }
}
