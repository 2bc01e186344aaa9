//! One item of a map: its key (the item's content and the shared inputs), its lookup (forced,
//! found, stale, or why it runs, compared with its last head), its call and record under
//! its own name and directory, and what a plan says of it before the map runs.

use super::call::{self, Arg, Call};
use super::items::{Item, name_items};
use super::lookup::{Found, Lookup};
use super::map::{Done, MapRun, distinct};
use super::recheck::Rechecked;
use super::values::Unusable;
use super::{Execution, Outcome};
use crate::checked::Checked;
use crate::discovered::Discovered;
use crate::error::{Error, chain};
use crate::graph::Kind;
use crate::graph::edge::Edge;
use crate::graph::node::NodeId;
use crate::memo;
use crate::memo::{Head, Record};
use crate::report::Status;
use crate::value::Shared;
use std::time::Duration;

/// What a plan says of one item: found in the store (and, when checks are asked, what its
/// check said), or why it runs.
pub(crate) enum ItemPlan {
    Found(Option<Result<Checked, String>>),
    Runs(String),
}

/// An item after its lookup: done without running (found, or failed), or to run under
/// this key, with why.
pub(super) enum Looked {
    Done(Done),
    Runs(Head, String),
}

/// What the store says of one item: its remembered output, still good, why it runs, or
/// (its check kept erroring, or its output went) that it failed.
enum ItemVerdict {
    /// Its remembered output, the inputs its station discovered, and its outcome.
    Cached(Shared, Vec<Discovered>, Outcome),
    Runs(String),
    Failed(Outcome),
}

impl Execution<'_> {
    /// What a run would do with each item of map `id`, when its list is known before the
    /// map runs: found in the store, else why it runs; every item is found when the map is
    /// (`cached`). With `checks`, the check of each item found is asked, once, reading only.
    /// Nothing is run or written; a plan shares it.
    pub(crate) fn item_verdicts(
        &self,
        id: NodeId,
        cached: bool,
        checks: bool,
    ) -> Option<Vec<(Box<str>, ItemPlan)>> {
        let items = self.known_items(id)?;
        let node = self.graph.node(id);
        let (Kind::Station { station, inputs }, Some(map)) = (&node.kind, node.map()) else {
            return None;
        };
        let checks = checks && station.has_check();
        if cached && !checks {
            let found = |item: &Item| (item.path.clone(), ItemPlan::Found(None));
            return Some(distinct(&items).map(found).collect());
        }
        let run = self.map_run(id, station, map, inputs.get(1..)?).ok()?;
        let verdict = |item: &Item| match self.item_head(&run, item) {
            Ok(head) => match self.item_lookup(&run, item, &head) {
                Ok(found) if checks => {
                    ItemPlan::Found(Some(self.plan_item_check(&run, item, &found.record)))
                }
                Ok(_) => ItemPlan::Found(None),
                Err(reason) => ItemPlan::Runs(reason),
            },
            Err(error) => ItemPlan::Runs(format!("its input cannot be read: {error}")),
        };
        Some(
            distinct(&items)
                .map(|item| (item.path.clone(), verdict(item)))
                .collect(),
        )
    }

    /// What a plan that asks checks hears from an item's check about its remembered
    /// `record`, as [`plan_check`](Execution::plan_check) does for a station.
    fn plan_item_check(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        record: &Record,
    ) -> Result<Checked, String> {
        let args = self.known_args(run.shared).map(|shared| {
            let mut args = vec![Arg::Shared(item.value.clone())];
            args.extend(shared);
            args
        });
        let limit = self.policy(run.id, run.station.as_ref()).timeout;
        self.ask_once(run.station, record, run.map.output, args, limit)
    }

    /// The items of map `id`, named, when its list is known without running or writing
    /// anything: a constant, or the output of a record found.
    fn known_items(&self, id: NodeId) -> Option<Vec<Item>> {
        let node = self.graph.node(id);
        let (Kind::Station { inputs, .. }, Some(map)) = (&node.kind, node.map()) else {
            return None;
        };
        let Some(Edge::One(list)) = inputs.first() else {
            return None;
        };
        let values = (map.items)(&*self.known_value(*list)?).ok()?;
        self.keyed(|| name_items(map, &self.paths[id.index()], self.shown(id), values))
            .ok()
    }

    /// An item looked up: found (its remembered output, still good), failed before it
    /// could run, or to run, with its key and why.
    pub(super) fn look_up_item(&self, run: &MapRun<'_>, item: &Item) -> Looked {
        let head = match self.item_head(run, item) {
            Ok(head) => head,
            Err(error) => {
                return Looked::Done(failed(Outcome::failed(Duration::ZERO, None, error)));
            }
        };
        self.used(head.key);
        let verdict =
            self.with_item_call(run, item, |call| self.item_verdict(run, item, &head, &call));
        match verdict {
            ItemVerdict::Cached(output, discovered, outcome) => Looked::Done(Done {
                output: Some(output),
                discovered,
                recorded: true,
                outcome,
            }),
            ItemVerdict::Runs(reason) => Looked::Runs(head, reason),
            ItemVerdict::Failed(outcome) => Looked::Done(failed(outcome)),
        }
    }

    /// Runs an item [looked up](Execution::look_up_item) as one to run, and records it.
    pub(super) fn run_item(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        head: Head,
        reason: String,
    ) -> Done {
        match self.with_item_call(run, item, |call| {
            self.call_and_record(call, head, reason.into())
        }) {
            (Some(done), outcome) => Done {
                output: Some(done.value),
                discovered: done.discovered,
                recorded: done.recorded,
                outcome,
            },
            (None, outcome) => failed(outcome),
        }
    }

    /// `then` with the call of `item`: its station, under the item's name and directory,
    /// with the item and the shared inputs as arguments.
    fn with_item_call<R>(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        then: impl FnOnce(Call<'_>) -> R,
    ) -> R {
        let args = || -> Result<Vec<Arg>, Error> {
            let mut args = vec![Arg::Shared(item.value.clone())];
            args.extend(self.args(run.shared)?);
            Ok(args)
        };
        let label = format!("{}[{}]", self.shown(run.id), item.name);
        let values = || self.item_values(run, item);
        then(Call {
            station: run.station,
            path: &item.path,
            label: Some(&label),
            codec: run.map.output,
            args: &args,
            input_values: &values,
            read: &[],
            policy: self.policy(run.id, run.station.as_ref()),
        })
    }

    /// An item's key: its station, the item's content, and the shared inputs' content.
    pub(crate) fn item_head(&self, run: &MapRun<'_>, item: &Item) -> Result<Head, String> {
        let files = self
            .hash_files(item.files.clone())
            .map_err(|error| chain(&error))?;
        let mut inputs = vec![memo::content(&item.encoded, files).digest];
        inputs.extend_from_slice(&run.shared_hashes);
        let fingerprint = run.station.fingerprint();
        let key = memo::key(
            run.station.id(),
            &fingerprint,
            (run.map.output.type_name)(),
            &inputs,
        );
        Ok(Head {
            key,
            fingerprint,
            inputs,
            values: Vec::new(),
        })
    }

    /// The item's and the shared inputs' small values as JSON, kept with its head.
    fn item_values(&self, run: &MapRun<'_>, item: &Item) -> Vec<Option<String>> {
        let json = (run.map.item.to_json)(&*item.value)
            .map(|json| json.to_string())
            .filter(|json| json.len() <= memo::SMALL_VALUE);
        let mut values = vec![json];
        values.extend(self.input_values(run.shared));
        values
    }

    /// Whether an item's remembered output can be used: it is not forced, it is in the
    /// store and intact, and the station's check, if it has one, still agrees (asked as
    /// attempts, as a graph station's is).
    fn item_verdict(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        head: &Head,
        call: &Call<'_>,
    ) -> ItemVerdict {
        let record = match self.item_lookup(run, item, head) {
            Ok(Found { record, .. }) => record,
            Err(reason) => return ItemVerdict::Runs(reason),
        };
        let path = &item.path;
        let output = match self.stored_output(&record, run.map.output) {
            Ok(output) => output,
            Err(Unusable::Changed(problem)) => {
                return ItemVerdict::Failed(Outcome::failed(Duration::ZERO, None, problem));
            }
            Err(Unusable::Undecodable(cause)) => {
                self.warn(format!(
                    "the stored output of `{path}` {}",
                    cause.explain("it runs again")
                ));
                return ItemVerdict::Runs("its stored output no longer decodes".to_owned());
            }
        };
        if !run.station.has_check() {
            let cached = Outcome::not_run(Status::Cached);
            return ItemVerdict::Cached(output, record.discovered, cached);
        }
        match self.recheck(call, head, &output) {
            Rechecked::Holds(outcome) => ItemVerdict::Cached(output, record.discovered, outcome),
            Rechecked::Drifted(reason) => ItemVerdict::Runs(reason),
            Rechecked::Failed(outcome) => ItemVerdict::Failed(outcome),
        }
    }

    /// An item's usable record, or why it runs: forced, stale, or compared with its last
    /// head. Nothing is asked, run or written; a plan shares it.
    pub(crate) fn item_lookup(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        head: &Head,
    ) -> Result<Found, String> {
        if self.is_forced(run.id) || self.forced_items.contains(&item.path) {
            return Err("forced".to_owned());
        }
        match self.find(&item.path, &head.key, false) {
            Lookup::Hit(found) => Ok(found),
            Lookup::Stale(reason) => Err(reason),
            Lookup::Miss => Err(self.item_reason(run, item, head)),
        }
    }

    /// Why an item with no record runs, compared with its last head: new, or what changed.
    fn item_reason(&self, run: &MapRun<'_>, item: &Item, head: &Head) -> String {
        let Some(before) = self.last_head(&item.path) else {
            return "new item".to_owned();
        };
        memo::reason(
            Some(&before),
            head,
            run.station.input_names(),
            |index| match index {
                0 => (run.map.item.to_json)(&*item.value),
                _ => match run.shared.get(index - 1)?.sources() {
                    [source] => (self.graph.node(*source).codec.to_json)(self.value(*source).ok()?),
                    _ => None,
                },
            },
        )
        .into_owned()
    }
}

/// An item that failed: no output, nothing to record.
fn failed(outcome: Outcome) -> Done {
    Done {
        output: None,
        discovered: Vec::new(),
        recorded: true,
        outcome,
    }
}

impl Execution<'_> {
    /// The items of map `id` as its list has them now, by node name, when the list is known;
    /// the same item twice is listed once.
    pub(crate) fn current_items(&self, id: NodeId) -> Option<Vec<(Box<str>, Shared)>> {
        let items = self.known_items(id)?;
        Some(
            distinct(&items)
                .map(|item| (item.path.clone(), item.value.clone()))
                .collect(),
        )
    }

    /// Calls the clean function of map `id`'s station for one item, with the item, the
    /// shared inputs, and the item's output in `record`.
    pub(crate) fn clean_item(
        &self,
        id: NodeId,
        item: &Shared,
        record: &Record,
    ) -> Result<(), String> {
        let node = self.graph.node(id);
        let (Kind::Station { station, inputs }, Some(map)) = (&node.kind, node.map()) else {
            return Ok(());
        };
        let mut args = vec![Arg::Shared(item.clone())];
        let shared = inputs.get(1..).unwrap_or_default();
        args.extend(self.args(shared).map_err(|error| chain(&error))?);
        let output = self.item_output(map, record)?;
        call::ask_clean(station.as_ref(), &args, &*output)
    }

    /// An item's output in `record`, as JSON, for the evidence of a clean.
    pub(crate) fn item_output_json(
        &self,
        id: NodeId,
        record: &Record,
    ) -> Option<serde_json::Value> {
        let map = self.graph.node(id).map()?;
        let output = self.item_output(map, record).ok()?;
        (map.output.to_json)(&*output)
    }

    fn item_output(
        &self,
        map: &crate::graph::map::MapSpec,
        record: &Record,
    ) -> Result<Shared, String> {
        self.stored_output(record, map.output)
            .map_err(|unusable| match unusable {
                Unusable::Changed(problem) => problem,
                Unusable::Undecodable(cause) => format!(
                    "its stored output {}",
                    cause.explain("it is computed again next time")
                ),
            })
    }
}
