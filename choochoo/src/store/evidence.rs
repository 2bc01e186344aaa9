//! The evidence of cleans: what a clean function was about to destroy, recorded before it
//! ran, so it can be looked at later.

use super::Store;
use crate::error::Error;
use rusqlite::params;

impl Store {
    /// Records what is about to be destroyed, before it is, so it can be looked at later.
    pub(crate) fn record_evidence(
        &self,
        profile: &str,
        node: &str,
        station: &str,
        evidence: &serde_json::Value,
    ) -> Result<(), Error> {
        self.with_db("record evidence in", |db| {
            db.execute(
                "INSERT INTO cleanups (profile, node, station, cleaned_ns, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![profile, node, station, crate::stat::now_ns(), evidence.to_string()],
            )
            .map(drop)
        })
    }

    /// What was recorded before cleaning a node, newest first, as JSON documents: the files
    /// that were in its directory (path, size, hash) and the output it had produced.
    pub fn evidence(&self, node: &str) -> Result<Vec<String>, Error> {
        self.with_db("read evidence from", |db| {
            let mut stmt =
                db.prepare("SELECT evidence FROM cleanups WHERE node = ?1 ORDER BY id DESC")?;
            let rows = stmt.query_map([node], |row| row.get(0))?;
            rows.collect()
        })
    }
}
