//! Who may use the store at once: every run holds the activity lock shared, maintenance
//! holds it exclusive; a node being computed is held by a lease (see [`crate::lease`]).

use super::Store;
use crate::error::Error;
use crate::lease::Lease;

impl Store {
    /// Held (shared) by every run while it works on the store, so maintenance that must not
    /// remove what a run holds ([`Store::gc`], [`Store::fsck`]) waits for none to be active.
    /// A run starts from the record log as it is now: what other processes recorded or
    /// compacted since this store was opened is read first.
    pub(crate) fn active(&self) -> Result<std::fs::File, Error> {
        let file = self.activity_file()?;
        file.lock_shared()
            .map_err(|error| Error::io("lock", &self.dir.join("active.lock"), error))?;
        self.log.refresh()?;
        Ok(file)
    }

    /// Waits until no run is active on the store, and keeps new ones out while held.
    pub(crate) fn exclusive(&self) -> Result<std::fs::File, Error> {
        let file = self.activity_file()?;
        file.lock()
            .map_err(|error| Error::io("lock", &self.dir.join("active.lock"), error))?;
        Ok(file)
    }

    fn activity_file(&self) -> Result<std::fs::File, Error> {
        let path = self.dir.join("active.lock");
        crate::privacy::open_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| Error::io("open", &path, error))
    }

    /// Holds `node` against other processes until the lease is dropped.
    pub(crate) fn lease(
        &self,
        profile: &str,
        node: &str,
        before_blocking: &dyn Fn(),
    ) -> Result<Lease<'_>, Error> {
        self.leases
            .acquire(&format!("{profile}/{node}"), before_blocking)
    }
}
