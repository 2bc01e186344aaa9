//! Watch mode: [`Runner::watch`] runs a workflow, waits for a change to a file it depends
//! on, and runs it again, until told to stop or Ctrl-C. `watched` says which files, and
//! `changes` sees them change.

use super::changes::Changes;
use super::{Run, Runner};
use crate::error::Error;
use crate::graph::Graph;
use crate::store::Store;
use crate::workflow::Workflow;
use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::PathBuf;

impl Runner<'_> {
    /// Runs the workflow `workflow` builds, hands the result to `on_run`, waits for a change
    /// to a file the graph depends on, and runs it again, until `on_run` returns
    /// [`ControlFlow::Break`] or Ctrl-C is pressed; then returns `Ok(())`.
    ///
    /// The files watched are the [`File`](crate::File) and [`Dir`](crate::Dir) inputs of the
    /// graph (a directory with everything under it), and the files and directories its
    /// stations discovered ([`Ctx::read`](crate::Ctx::read), [`depend`](crate::Ctx::depend),
    /// [`depfile`](crate::Ctx::depfile)) as the records of their last runs keep them: a
    /// header a compile read is watched from the run that found it on. Nothing under the
    /// store is watched. A file counts by its content, as in a run: reading or touching one
    /// is no change. A burst of saves is one change: after the first, changes are gathered
    /// until none has come for 200 ms. A change made while a run goes on gives one more run
    /// after it, however many files changed. What each run did and why is in its report:
    /// each station's [`reason`](crate::Entry::reason) names the input or file that changed.
    ///
    /// A failed run is handed to `on_run` like any other, and the watch goes on. While it
    /// watches, Ctrl-C (`SIGINT`) is caught: the run in flight starts no more stations, the
    /// ones running finish and are recorded, and that run is handed to `on_run` as an error
    /// that [`is_interrupted`](Error::is_interrupted); a second Ctrl-C ends the process at
    /// once. When it returns, Ctrl-C does what it did before.
    ///
    /// An error that is not a run's (the graph cannot be built, the store cannot be read, a
    /// file cannot be watched) ends the watch and is returned. On Linux, when the system's
    /// limit of inotify watches is reached, the error names `fs.inotify.max_user_watches`.
    ///
    /// A program watches until Ctrl-C:
    ///
    /// ```no_run
    /// use choochoo::{station, workflow, File, Runner, Store};
    /// use std::ops::ControlFlow;
    ///
    /// #[station]
    /// fn words(doc: &File) -> std::io::Result<usize> {
    ///     Ok(std::fs::read_to_string(doc.path())?.split_whitespace().count())
    /// }
    ///
    /// workflow! {
    ///     fn count(doc: File) -> usize { words(doc) }
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let store = Store::open(".choochoo")?;
    /// // Prints the count each time doc.txt is saved, until Ctrl-C.
    /// Runner::new(&store).watch(
    ///     || count(File::new("doc.txt")),
    ///     |result| {
    ///         match result {
    ///             Ok(run) => println!("{} words\n{}", run.output(), run.report()),
    ///             Err(error) => eprintln!("error: {error}"),
    ///         }
    ///         ControlFlow::Continue(())
    ///     },
    /// )
    /// # }
    /// ```
    ///
    /// and `on_run` may stop it: here the first run's closure saves the file, so a second
    /// run follows at once, and that one stops the watch.
    ///
    /// ```
    /// use choochoo::{station, workflow, File, Runner, Store};
    /// use std::ops::ControlFlow;
    ///
    /// #[station]
    /// fn shout(doc: &File) -> std::io::Result<String> {
    ///     Ok(std::fs::read_to_string(doc.path())?.to_uppercase())
    /// }
    ///
    /// workflow! {
    ///     fn loud(doc: File) -> String { shout(doc) }
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// # let dir = std::env::temp_dir().join(format!("choochoo-doc-watch-{}", std::process::id()));
    /// let store = Store::open(dir.join(".choochoo"))?;
    /// let doc = dir.join("doc.txt");
    /// std::fs::write(&doc, "fail").unwrap();
    /// let mut seen = Vec::new();
    /// Runner::new(&store).watch(
    ///     || loud(File::new(&doc)),
    ///     |result| {
    ///         seen.push(result.map(|run| run.into_output()));
    ///         if seen.len() == 2 {
    ///             return ControlFlow::Break(());
    ///         }
    ///         std::fs::write(&doc, "fix").unwrap(); // an edit: it runs again
    ///         ControlFlow::Continue(())
    ///     },
    /// )?;
    /// assert_eq!(seen.into_iter().collect::<Result<Vec<_>, _>>()?, ["FAIL", "FIX"]);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn watch<W, B, F>(&self, workflow: B, mut on_run: F) -> Result<(), Error>
    where
        B: Fn() -> W,
        W: Workflow,
        F: FnMut(Result<Run<W::Output>, Error>) -> ControlFlow<()>,
    {
        let mut watch = Watch::start()?;
        loop {
            let workflow = workflow();
            let name = workflow.name().to_owned();
            let mut graph = Graph::new();
            let outputs = workflow.build(&mut graph)?;
            watch.look(self.store, &self.profile, &graph)?;
            let result = self.execute(&name, &graph, &*outputs);
            let stopped = Watch::interrupted();
            if on_run(result).is_break() || stopped {
                return Ok(());
            }
            let during = watch.look(self.store, &self.profile, &graph)?;
            if watch.next(during)?.is_none() {
                return Ok(());
            }
        }
    }
}

/// One watch: the files watched, and Ctrl-C caught while it lives.
pub(crate) struct Watch {
    changes: Changes,
    _interrupts: Option<crate::child::Interrupts>,
}

impl Watch {
    /// Starts watching nothing yet, with Ctrl-C caught.
    pub(crate) fn start() -> Result<Watch, Error> {
        Ok(Watch {
            changes: Changes::new()?,
            _interrupts: crate::child::catch_interrupts(),
        })
    }

    /// Watches what `graph` depends on now (its inputs, and what the store says its
    /// stations discovered); the watched paths that changed since the last look.
    pub(crate) fn look(
        &mut self,
        store: &Store,
        profile: &str,
        graph: &Graph,
    ) -> Result<BTreeSet<PathBuf>, Error> {
        let changed = self.changes.seen()?;
        self.changes
            .watch(super::watched::watched(store, profile, graph)?)?;
        Ok(changed)
    }

    /// How many files and directories are watched.
    #[cfg_attr(
        not(feature = "cli"),
        allow(dead_code, reason = "the command line says it")
    )]
    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    /// The next change, after `during` (the changes seen while a run went on, which need no
    /// wait) or a wait; `None` when Ctrl-C stopped the wait.
    pub(crate) fn next(
        &mut self,
        during: BTreeSet<PathBuf>,
    ) -> Result<Option<BTreeSet<PathBuf>>, Error> {
        self.changes.wait(during, Watch::interrupted)
    }

    /// Whether Ctrl-C was pressed during the watch.
    pub(crate) fn interrupted() -> bool {
        crate::child::interrupted()
    }
}
