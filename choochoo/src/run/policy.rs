//! Overriding stations' attempt policies for one run: [`Runner::retries`],
//! [`Runner::backoff`] and [`Runner::timeout`] (the command line's `--retries NAME=N`,
//! `--backoff NAME=200ms`, `--timeout NAME=30s`). A name matches stations as
//! [`Runner::force`] does.

use super::Runner;
use crate::error::Error;
use crate::execution::Execution;
use crate::execution::policy::{Overrides, Setting};
use crate::graph::Graph;
use crate::select::matching;
use std::time::Duration;

impl<'s> Runner<'s> {
    /// Tries the named stations again up to `retries` times after a transient failure, in
    /// this runner's runs, whatever their `#[station(retries = …)]` says: an operator
    /// riding out an outage. Like every policy override, it changes no key, so a station
    /// the store remembers is not run again for it. `name` matches as in
    /// [`force`](Runner::force); a name that matches no station fails the run before it
    /// starts.
    ///
    /// ```
    /// use choochoo::{station, workflow, Runner, Store, Transient};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// static CALLS: AtomicU32 = AtomicU32::new(0);
    ///
    /// /// Fails twice, as a flaky service would, then answers.
    /// #[station]
    /// fn ping(host: &str) -> Result<String, Transient> {
    ///     match CALLS.fetch_add(1, Ordering::SeqCst) {
    ///         0 | 1 => Err(Transient::new(format!("{host} is not answering"))),
    ///         _ => Ok(format!("{host} is up")),
    ///     }
    /// }
    ///
    /// workflow! {
    ///     fn probe(host: String) -> String { ping(host) }
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let dir = std::env::temp_dir().join(format!("choochoo-retries-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let run = Runner::new(&store)
    ///     .retries("ping", 2)
    ///     .backoff("ping", std::time::Duration::from_millis(1))
    ///     .run(probe("db".to_owned()))?;
    /// assert_eq!(run.output(), "db is up");
    /// assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn retries(self, name: impl Into<String>, retries: u32) -> Runner<'s> {
        self.set(name, Setting::Retries(retries))
    }

    /// Waits `backoff` before the named stations' first retry (twice as long before each
    /// next one), in this runner's runs, whatever their `#[station(backoff = …)]` says.
    /// Names match as in [`retries`](Runner::retries).
    pub fn backoff(self, name: impl Into<String>, backoff: Duration) -> Runner<'s> {
        self.set(name, Setting::Backoff(backoff))
    }

    /// Fails an attempt of the named stations that takes longer than `timeout`, in this
    /// runner's runs, whatever their `#[station(timeout = …)]` says. Names match as in
    /// [`retries`](Runner::retries).
    pub fn timeout(self, name: impl Into<String>, timeout: Duration) -> Runner<'s> {
        self.set(name, Setting::Timeout(timeout))
    }

    fn set(mut self, name: impl Into<String>, setting: Setting) -> Runner<'s> {
        self.policies.push((name.into(), setting));
        self
    }

    /// The overrides by node. A name that matches no station is an error naming the option.
    pub(super) fn overrides(
        &self,
        graph: &Graph,
        execution: &Execution<'_>,
    ) -> Result<Overrides, Error> {
        let mut overrides = Overrides::default();
        for (name, setting) in &self.policies {
            let ids = matching(graph, &execution.paths, name).map_err(|error| {
                Error::usage(format!(
                    "cannot set the {} of `{name}`: {error}",
                    setting.name()
                ))
            })?;
            for id in ids {
                overrides.set(id, *setting);
            }
        }
        Ok(overrides)
    }
}
