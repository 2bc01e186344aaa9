//! The runs that were killed since a profile last finished one, said before `status` and
//! `defects list`: `run 16 was interrupted at … while shop.data ran`, and what that means.

use super::say;
use crate::error::Error;
use crate::store::Store;

/// Says which runs of `profile` were interrupted after its last finished run, if any.
pub(super) fn say_since_last_run(store: &Store, profile: &str) -> Result<(), Error> {
    let finished = store.latest_run(profile)?.unwrap_or(0);
    let interrupted: Vec<_> = store
        .interrupted_runs()?
        .into_iter()
        .filter(|run| run.profile() == profile && run.run() > finished)
        .collect();
    for run in &interrupted {
        say(run);
    }
    if interrupted.iter().any(|run| !run.during().is_empty()) {
        say("  what it was running runs again from the start in the next run");
    }
    Ok(())
}
