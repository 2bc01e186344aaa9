//! The calls a running station makes to say what it read.

use super::sighting::named;
use crate::station::Ctx;
use std::io;
use std::path::Path;

/// Inputs a station finds while it runs.
///
/// A station that reads files it was not given — the headers a compiler opened, a file
/// named inside another — says so through these, and they count like its declared inputs:
/// they are stored with its result, with their content hashes, and checked on every lookup
/// through the stat cache. When one changes the station runs again, and the reason names
/// it (`file src/lua.h it read changed`); touching one without changing it runs nothing;
/// deleting one runs the station. A file that changes while the station runs leaves its
/// result unrecorded, and the next run computes it again.
///
/// Paths are kept as given: a relative path is relative to the program's working directory,
/// and is looked up there again on the next run, so a program run from the same directory
/// (or from another checkout of the same tree, whose files are then compared) finds them.
/// Give a depfile's compiler the program's working directory, or absolute paths.
///
/// A result with discovered inputs stays in the local store: the remote cache neither
/// uploads it nor has it to give, since its inputs are files of this machine (the stations
/// after it still share theirs).
///
/// ```
/// use choochoo::{station, workflow, Ctx, File, Runner, Status, Store};
///
/// type BoxError = Box<dyn std::error::Error + Send + Sync>;
///
/// /// Expands `include NAME` lines with the named file's text, read through `ctx`.
/// #[station]
/// fn expand(ctx: &Ctx, doc: &File) -> Result<String, BoxError> {
///     let dir = doc.path().parent().unwrap();
///     let mut out = String::new();
///     for line in std::fs::read_to_string(doc.path())?.lines() {
///         match line.strip_prefix("include ") {
///             Some(name) => out += &String::from_utf8(ctx.read(dir.join(name))?)?,
///             None => out += line,
///         }
///     }
///     Ok(out)
/// }
///
/// workflow! {
///     fn page(doc: File) -> String {
///         expand(doc)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-discovered-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("page.txt"), "include header.txt")?;
/// std::fs::write(dir.join("header.txt"), "# Title")?;
/// let store = Store::open(dir.join(".choochoo"))?;
/// let runner = Runner::new(&store);
/// let run = || runner.run(page(File::new(dir.join("page.txt"))));
/// assert_eq!(*run()?.output(), "# Title");
///
/// std::fs::write(dir.join("header.txt"), "# New title")?; // an input it found changed
/// let again = run()?;
/// assert_eq!(*again.output(), "# New title");
/// let reason = again.report().entries()[0].reason().unwrap().to_owned();
/// assert!(reason.starts_with("file ") && reason.ends_with("header.txt it read changed"));
///
/// assert_eq!(run()?.report().count(Status::Cached), 1); // nothing changed
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
impl Ctx {
    /// Reads a whole file, like [`std::fs::read`], and records it as an input of this
    /// station, with the hash of the bytes read. A file that does not exist is recorded as
    /// absent (creating it runs the station again) and its error returned.
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        self.discovery.read(path.as_ref())
    }

    /// Records a file or a directory as an input of this station without reading it here
    /// (another program reads it). A directory counts by its names and contents, as a
    /// [`Dir`](crate::Dir) does; a path where nothing is counts as absent, and creating
    /// something there runs the station again.
    pub fn depend(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.discovery.depend(path.as_ref())
    }

    /// Reads a Make-style depfile, as `cc -MD` or `-MMD`, clang and
    /// `rustc --emit=dep-info` write them, and records every prerequisite it names as an
    /// input of this station ([`depend`](Ctx::depend)). It understands continued lines,
    /// `\ ` in names, `$$`, several targets and rules, and phony rules (`-MP`); relative
    /// names are relative to the program's working directory. A file that is not a depfile
    /// is an [`InvalidData`](io::ErrorKind::InvalidData) error naming it and the line.
    ///
    /// ```no_run
    /// # use choochoo::{station, Ctx, File};
    /// # type BoxError = Box<dyn std::error::Error + Send + Sync>;
    /// #[station]
    /// fn compile(ctx: &Ctx, source: &File) -> Result<File, BoxError> {
    ///     let (object, deps) = (ctx.output("out.o")?, ctx.output("out.d")?);
    ///     let status = std::process::Command::new("cc")
    ///         .args(["-c", "-MMD", "-MF"]).arg(&deps)
    ///         .arg(source.path()).arg("-o").arg(&object)
    ///         .status()?;
    ///     if !status.success() {
    ///         return Err(format!("cc failed on {}", source.path().display()).into());
    ///     }
    ///     ctx.depfile(&deps)?; // the headers it read are inputs now
    ///     Ok(File::new(object))
    /// }
    /// ```
    pub fn depfile(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|error| named(path, error))?;
        let prerequisites = crate::depfile::prerequisites(&text).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "depfile {}, line {}: {}",
                    path.display(),
                    error.line,
                    error.message
                ),
            )
        })?;
        for prerequisite in prerequisites {
            self.discovery.depend(&prerequisite)?;
        }
        Ok(())
    }

    /// The value of an environment variable, like [`std::env::var`] (`None` when it is
    /// unset or not Unicode), recorded as an input of this station: when it changes, is set
    /// or unset, the station runs again. Only a hash of the value is stored.
    pub fn env(&self, name: &str) -> Option<String> {
        let value = self.discovery.env(name);
        value.and_then(|value| value.into_string().ok())
    }
}
