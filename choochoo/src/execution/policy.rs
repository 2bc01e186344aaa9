//! The attempt policy of each station in one run: how often a transient failure is tried
//! again, the pause before the next attempt, and the time limit. The station sets it
//! (`#[station(retries = 3, backoff = "200ms", timeout = "30s")]`); a run may override it
//! for some stations ([`Runner::retries`](crate::Runner::retries) and its siblings), as an
//! operator does during an outage. The policy is no part of any key: an override never
//! makes a remembered station run again.

use super::Execution;
use crate::graph::erased::{ErasedStation, Policy};
use crate::graph::node::NodeId;
use std::collections::HashMap;
use std::time::Duration;

/// One part of a station's policy, set for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Setting {
    /// Tries again after a transient failure up to this many times.
    Retries(u32),
    /// Waits this long before the first retry (doubling for each next one).
    Backoff(Duration),
    /// Fails an attempt that takes longer than this.
    Timeout(Duration),
}

impl Setting {
    /// The option's name, as the attribute and the command line spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Setting::Retries(_) => "retries",
            Setting::Backoff(_) => "backoff",
            Setting::Timeout(_) => "timeout",
        }
    }

    fn apply(self, policy: &mut Policy) {
        match self {
            Setting::Retries(n) => policy.retries = n,
            Setting::Backoff(pause) => policy.backoff = pause,
            Setting::Timeout(limit) => policy.timeout = Some(limit),
        }
    }
}

/// The settings a run overrides, by node; empty unless asked, so a run without overrides
/// costs nothing per station.
#[derive(Debug, Default)]
pub(crate) struct Overrides(HashMap<NodeId, Vec<Setting>>);

impl Overrides {
    /// Sets `setting` for `node`; a later setting of the same option wins.
    pub(crate) fn set(&mut self, node: NodeId, setting: Setting) {
        self.0.entry(node).or_default().push(setting);
    }
}

impl Execution<'_> {
    /// The policy of node `id` (a station, or the map a map item belongs to) in this run:
    /// the station's own, with the run's overrides.
    pub(crate) fn policy(&self, id: NodeId, station: &dyn ErasedStation) -> Policy {
        let mut policy = station.policy();
        for setting in self.overrides.0.get(&id).into_iter().flatten() {
            setting.apply(&mut policy);
        }
        policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_changes_only_its_own_part_and_the_last_one_wins() {
        let mut policy = Policy {
            retries: 3,
            backoff: Duration::from_millis(100),
            timeout: None,
        };
        Setting::Retries(0).apply(&mut policy);
        Setting::Timeout(Duration::from_secs(5)).apply(&mut policy);
        Setting::Timeout(Duration::from_secs(30)).apply(&mut policy);
        assert_eq!(policy.retries, 0);
        assert_eq!(policy.backoff, Duration::from_millis(100));
        assert_eq!(policy.timeout, Some(Duration::from_secs(30)));
    }
}
