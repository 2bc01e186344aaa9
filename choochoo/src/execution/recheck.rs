//! The check of a remembered result, asked before the result is used. Asking it is an
//! attempt like a visit: an error (the check cannot tell whether the world is right) is
//! observed in the defect ledger and, when transient, asked again after the station's
//! backoff, up to its retries in this run. A check that keeps erroring fails the station:
//! its visit is not run (it could harm a world nobody can see) and its dependents are
//! blocked.

use super::call::{self, Arg, Call, Failure};
use super::lookup::Found;
use super::{Execution, Outcome};
use crate::checked::Checked;
use crate::error::chain;
use crate::graph::Kind;
use crate::graph::codec::Codec;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use crate::memo::{Head, Record};
use crate::report::Status;
use crate::value::Shared;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the check of a remembered result said, once its attempts were made.
pub(super) enum Rechecked {
    /// The state holds: the result is used; its outcome says so.
    Holds(Outcome),
    /// The world drifted: the station runs again, for this reason.
    Drifted(String),
    /// The check kept erroring: the station failed.
    Failed(Outcome),
}

impl Execution<'_> {
    /// Asks `call`'s check whether the world is still as `output`, its remembered output,
    /// says, retrying a transient error as the station's policy says.
    pub(super) fn recheck(&self, call: &Call<'_>, head: &Head, output: &Shared) -> Rechecked {
        let started = Instant::now();
        let attempts = self.with_retries(call, head, |_| {
            let asked = (call.args)()
                .map_err(|error| Failure::fatal(chain(&error)))
                .and_then(|args| {
                    call::ask_check_within(call.station, args, output.clone(), call.policy.timeout)
                });
            (asked, None)
        });
        match attempts.last {
            Ok(Checked::Holds) => Rechecked::Holds(Outcome {
                reason: Some(held(attempts.failed).into()),
                ..Outcome::not_run(Status::Cached)
            }),
            Ok(drifted) => Rechecked::Drifted(drifted.drift().unwrap_or_default()),
            Err(failure) => {
                Rechecked::Failed(Outcome::failed(started.elapsed(), None, failure.message))
            }
        }
    }
}

impl Execution<'_> {
    /// What a plan that asks checks hears from the check of graph station `id` about
    /// its remembered result, `found`.
    pub(crate) fn plan_check(&self, id: NodeId, found: &Found) -> Result<Checked, String> {
        let node = self.graph.node(id);
        let Kind::Station { station, inputs } = &node.kind else {
            return Ok(Checked::Holds);
        };
        let limit = self.policy(id, station.as_ref()).timeout;
        let args = self.known_args(inputs);
        self.ask_once(station, &found.record, node.codec, args, limit)
    }

    /// Asks `station`'s check about `record`'s output (decoded with `codec`) and `args`,
    /// once, within the run's time `limit` for the station, and reading only: the output
    /// and the inputs are decoded as a plan may, nothing forgotten, nothing written. An
    /// error or a panic is the message a run would fail with, were it to last.
    pub(super) fn ask_once(
        &self,
        station: &Arc<dyn ErasedStation>,
        record: &Record,
        codec: &Codec,
        args: Option<Vec<Arg>>,
        limit: Option<Duration>,
    ) -> Result<Checked, String> {
        let unknown = || "its inputs or its remembered output cannot be read".to_owned();
        let bytes = self.store.load(record).map_err(|_| unknown())?;
        let output = (codec.decode)(&bytes).map_err(|_| unknown())?;
        call::ask_check_within(station, args.ok_or_else(unknown)?, output, limit)
            .map_err(|failure| failure.message)
    }
}

/// Why a station whose check was asked is cached: `its check holds`, or after failed
/// attempts, `its check held on attempt 3`.
fn held(failed: u32) -> String {
    match failed {
        0 => "its check holds".to_owned(),
        n => format!("its check held on attempt {}", n + 1),
    }
}
