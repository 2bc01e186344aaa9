//! What the tests need to look inside a run: the fault injector of the reliability tests
//! (`tests/integration/faults.rs`), a store whose publish steps fail where a test says, and
//! a count of the files a store's runs hashed. Feature `test-util`; not public API: it may
//! change in any release.

pub use crate::faults::Faults;

/// How many files runs on `store` read to hash them since it was opened: what the stat
/// cache did not spare (for tests that prove a run re-hashes nothing).
pub fn files_hashed(store: &crate::store::Store) -> u64 {
    store.files_hashed()
}

/// Whether `runner` has started its worker threads (a run the store has everything for
/// starts none).
pub fn threads_started(runner: &crate::run::Runner<'_>) -> bool {
    runner.threads_started()
}

/// Opens a store whose publish steps go through `faults`.
pub fn open_with_faults(
    dir: impl AsRef<std::path::Path>,
    faults: std::sync::Arc<Faults>,
) -> Result<crate::store::Store, crate::error::Error> {
    crate::store::Store::open_on(dir.as_ref(), faults)
}
