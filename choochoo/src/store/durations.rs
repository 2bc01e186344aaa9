//! How long nodes took the last time they ran: what a map's items are queued by.

use super::Store;
use crate::error::Error;
use std::collections::HashMap;
use std::time::Duration;

impl Store {
    /// How long each of `nodes` took the last time its function was called in a run of
    /// `profile` and succeeded; a node that never did is absent. One indexed query a node.
    pub(crate) fn last_ran<'n>(
        &self,
        profile: &str,
        nodes: &[&'n str],
    ) -> Result<HashMap<&'n str, Duration>, Error> {
        self.with_db("read the last durations from", |db| {
            let mut stmt = db.prepare_cached(
                "SELECT e.duration_ns FROM run_entries e JOIN runs r ON r.id = e.run
                 WHERE e.node = ?1 AND r.profile = ?2 AND e.status = 'ran'
                 ORDER BY e.rowid DESC LIMIT 1",
            )?;
            let mut last = HashMap::new();
            for node in nodes {
                let took: Option<i64> = stmt
                    .query_row(rusqlite::params![node, profile], |row| row.get(0))
                    .map(Some)
                    .or_else(|error| match error {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        error => Err(error),
                    })?;
                if let Some(ns) = took {
                    last.insert(*node, Duration::from_nanos(u64::try_from(ns).unwrap_or(0)));
                }
            }
            Ok(last)
        })
    }
}
