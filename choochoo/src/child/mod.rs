//! Child processes a station starts: [`Ctx::command`] gives a [`Command`] that runs a program
//! the way `std::process::Command` does, but as the run's own: its output goes to the
//! station's log, and it does not outlive the station's call.

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod clone;
mod group;
mod os;
mod pipe;
#[cfg(target_os = "linux")]
mod poll;
mod spawn;

pub(crate) use group::Children;
pub(crate) use os::interrupted;
#[cfg(feature = "watch")]
pub(crate) use os::{Interrupts, catch_interrupts};

use crate::station::Ctx;
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

/// A program a station runs, built like [`std::process::Command`] and started with
/// [`run`](Command::run), [`status`](Command::status) or [`output`](Command::output) (or,
/// for a process meant to outlive the run, [`daemon`](Command::daemon)).
///
/// Made by [`Ctx::command`]. Unlike a plain `std::process::Command`:
///
/// - **Its output is the station's log.** Each line it writes to stdout or stderr is a
///   [`Ctx::log`] line (`output` keeps stdout for the caller instead): the last lines are
///   kept with a failure, and the command line shows them with `run -v`.
/// - **It ends with the station's call.** On Unix the child leads a process group of its
///   own, which holds its own children too. When the child exits, what is left of its group
///   is asked to stop (SIGTERM), then killed (SIGKILL) two seconds later; when the station
///   times out (`timeout = "…"`), the same happens at once. On Linux the child is also killed
///   when the runner dies (`PR_SET_PDEATHSIG`), even by SIGKILL or Ctrl-C, so no child keeps
///   working on the world after its run is gone.
/// - **Its stdin is empty** unless [`stdin`](Command::stdin) says otherwise: a station does
///   not read the terminal.
///
/// A station interrupted this way runs again from the start in the next run: see
/// [the effects guide](crate::guide::effects) for writing it so that this is safe.
///
/// ```
/// use choochoo::{station, workflow, Ctx, File, Runner, Store};
///
/// /// Compiles one C file, the compiler's messages going to the station's log.
/// #[station]
/// fn compile(ctx: &Ctx, source: &File) -> Result<File, Box<dyn std::error::Error + Send + Sync>> {
///     let object = ctx.output("main.o")?;
///     ctx.command("cc").arg("-c").arg(source.path()).arg("-o").arg(&object).run()?;
///     Ok(File::new(object))
/// }
///
/// workflow! {
///     fn build(source: File) -> File { compile(source) }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-command-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("main.c"), "int main(void) { return 0; }\n")?;
/// let store = Store::open(dir.join(".choochoo"))?;
/// let object = Runner::new(&store).run(build(File::new(dir.join("main.c"))))?.into_output();
/// assert!(object.path().ends_with("main.o"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Command<'a> {
    ctx: &'a Ctx,
    inner: std::process::Command,
    program: String,
    stdin: bool,
    cleared: bool,
}

impl Ctx {
    /// Writes the run's journal before a program starts: a kill from now on names this
    /// station, whose program may be acting on the world.
    fn journal_now(&self) {
        if let Some(journal) = &self.journal {
            journal.write_now();
        }
    }

    /// A program to run as this station's child: see [`Command`].
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command<'_> {
        Command {
            ctx: self,
            inner: std::process::Command::new(program.as_ref()),
            program: program.as_ref().to_string_lossy().into_owned(),
            stdin: false,
            cleared: false,
        }
    }
}

impl Command<'_> {
    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.inner.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.inner.env(key, value);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.inner.env_remove(key);
        self
    }

    /// Starts the child with no environment variables but those set with [`env`](Self::env).
    pub fn env_clear(&mut self) -> &mut Self {
        self.inner.env_clear();
        self.cleared = true;
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.inner.current_dir(dir);
        self
    }

    /// Sets the child's stdin (empty by default).
    pub fn stdin(&mut self, stdin: impl Into<Stdio>) -> &mut Self {
        self.inner.stdin(stdin);
        self.stdin = true;
        self
    }

    /// Runs the child to its end; a failing exit is an error naming the program and how it
    /// ended (`` `cc` exited with status 1 ``), the log holding what it wrote.
    pub fn run(&mut self) -> io::Result<()> {
        let status = self.status()?;
        match status.success() {
            true => Ok(()),
            false => Err(io::Error::other(format!(
                "`{}` {}",
                self.program,
                ended(status)
            ))),
        }
    }

    /// Runs the child to its end and returns how it ended.
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.supervise(false).map(|output| output.status)
    }

    /// Runs the child to its end and returns how it ended with what it wrote: stdout is kept
    /// for the caller (not logged), stderr is logged and kept.
    pub fn output(&mut self) -> io::Result<Output> {
        self.supervise(true)
    }

    /// Starts a process meant to outlive the run, such as a server a deployment leaves
    /// running: in a session of its own, with its output appended to `log`, and neither
    /// ended with the station nor killed with the runner. Returns its pid (a station's clean
    /// is what stops it). The station's log says it was started.
    pub fn daemon(&mut self, log: impl AsRef<Path>) -> io::Result<u32> {
        let log = log.as_ref();
        let opened = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
        };
        let cannot = |error: io::Error| self.cannot("open its log", log, error);
        let stdout = opened().map_err(cannot)?;
        let stderr = opened().map_err(cannot)?;
        self.inner.stdout(stdout).stderr(stderr);
        if !self.stdin {
            self.inner.stdin(Stdio::null());
        }
        os::detach(&mut self.inner);
        self.ctx.journal_now();
        let child = self
            .inner
            .spawn()
            .map_err(|error| self.cannot_start(error))?;
        let pid = child.id();
        self.ctx.log(format!(
            "started `{}` (pid {pid}) to outlive the run; its output goes to {}",
            self.program,
            log.display()
        ));
        Ok(pid)
    }

    fn supervise(&mut self, keep: bool) -> io::Result<Output> {
        self.ctx.journal_now();
        let child = spawn::start(&mut self.inner, self.stdin, self.cleared)
            .map_err(|error| self.cannot_start(error))?;
        let membership = self.ctx.children.enter(child.id());
        if self.ctx.timed_out() {
            // Timed out before it started: nobody would end it.
            self.ctx.children.terminate();
        }
        child.collect(self.ctx, membership, keep)
    }

    fn cannot_start(&self, error: io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!("cannot start `{}`: {error}", self.program),
        )
    }

    fn cannot(&self, what: &str, path: &Path, error: io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!(
                "cannot {what} {} for `{}`: {error}",
                path.display(),
                self.program
            ),
        )
    }
}

/// How a child ended, for an error: `exited with status 1`, `was killed by signal 9`.
fn ended(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("was killed by signal {signal}");
    }
    format!("ended: {status}")
}
