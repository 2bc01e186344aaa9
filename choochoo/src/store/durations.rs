//! How long nodes took the last time they ran: what a map's items are queued by.

use super::Store;
use crate::error::Error;
use std::collections::HashMap;
use std::time::Duration;

impl Store {
    /// How long each of `nodes` took the last time its function was called in a run of
    /// `profile` and succeeded: the duration kept with the record its head names (the
    /// result it left). A node with no result in the store is absent.
    pub(crate) fn last_ran<'n>(
        &self,
        profile: &str,
        nodes: &[&'n str],
    ) -> Result<HashMap<&'n str, Duration>, Error> {
        let mut last = HashMap::new();
        for node in nodes {
            let Some(head) = self.log.head(profile, node) else {
                continue;
            };
            let took = self
                .log
                .record(profile, &head.key, false, |record| Ok(record.duration_ns))?;
            if let Some(Ok(ns)) = took {
                let took = Duration::from_nanos(u64::try_from(ns).unwrap_or(0));
                last.insert(*node, took);
            }
        }
        Ok(last)
    }
}
