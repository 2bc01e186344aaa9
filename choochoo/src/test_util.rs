//! What the tests need to look inside a run: the fault injector of the reliability tests
//! (`tests/integration/faults.rs`), a store whose publish steps fail where a test says, a
//! count of the files a store's runs hashed, and the record log's records and heads, to read
//! and to damage. Feature `test-util`; not public API: it may
//! change in any release.

pub use crate::crash::Crash;
pub use crate::faults::Faults;
pub use crate::store::{
    LogHead, LogRecord, corrupt_record, edit_record, forget_records, log_heads as heads,
    log_records as records, rewrite_in_format_1, stats_to_table,
};

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

/// Opens a store whose publish steps go through `crash`, which loses power where it says.
pub fn open_with_crash(
    dir: impl AsRef<std::path::Path>,
    crash: std::sync::Arc<Crash>,
) -> Result<crate::store::Store, crate::error::Error> {
    crate::store::Store::open_on(dir.as_ref(), crash)
}

/// Opens a store whose publish steps go through `faults`.
pub fn open_with_faults(
    dir: impl AsRef<std::path::Path>,
    faults: std::sync::Arc<Faults>,
) -> Result<crate::store::Store, crate::error::Error> {
    crate::store::Store::open_on(dir.as_ref(), faults)
}
