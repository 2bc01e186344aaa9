//! How often a defect happened, day by day: the runs it was seen in on each of the last
//! days, for the dashboard's sparklines.

use super::Store;
use super::ledger::resolve;
use crate::defect::model::DefectId;
use crate::error::Error;

/// Nanoseconds in a day.
const DAY_NS: i64 = 86_400 * 1_000_000_000;

#[cfg_attr(
    not(feature = "serve"),
    allow(dead_code, reason = "used by the dashboard")
)]
impl Store {
    /// How many runs defect `id` (or the one it was merged into) was seen in on each of the
    /// `days` days (UTC) up to and including the one of `now_ns`, oldest first.
    pub(crate) fn runs_per_day(
        &self,
        id: DefectId,
        days: usize,
        now_ns: i64,
    ) -> Result<Vec<u64>, Error> {
        let today = now_ns.div_euclid(DAY_NS);
        let span = i64::try_from(days).unwrap_or(i64::MAX);
        let first = today.saturating_sub(span - 1);
        let counts: Vec<(i64, i64)> = self.with_db("read a defect from", |db| {
            let tx = db.transaction()?;
            let Some(defect) = resolve(&tx, id)? else {
                return Ok(Vec::new());
            };
            let mut stmt = tx.prepare_cached(
                "SELECT finished_ns / ?2 AS day, count(DISTINCT run_id) FROM observations
                 WHERE defect = ?1 AND finished_ns >= ?3 GROUP BY day",
            )?;
            let rows = stmt.query_map([defect, DAY_NS, first * DAY_NS], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect()
        })?;
        let mut per_day = vec![0; days];
        for (day, runs) in counts {
            if let Some(slot) = usize::try_from(day - first)
                .ok()
                .and_then(|i| per_day.get_mut(i))
            {
                *slot = u64::try_from(runs).unwrap_or(0);
            }
        }
        Ok(per_day)
    }
}
