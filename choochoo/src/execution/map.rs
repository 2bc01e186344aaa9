//! Maps: one station called for each item of a list found at run time, each item named
//! (`items`), looked up, run and recorded on its own, in parallel on the runner's pool, and
//! reported as an entry of its own (`map[item]`).

use super::call::{self, Arg, Call};
use super::items::{Item, name_items};
use super::lookup::{Found, Lookup};
use super::values::Unusable;
use super::{Execution, Outcome};
use crate::error::chain;
use crate::graph::{Edge, ErasedStation, MapSpec, NodeId};
use crate::memo::{self, Content};
use crate::report::Status;
use crate::store::Head;
use crate::value::Shared;
use crate::{Digest, Error};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One map being run: the pieces every item of it shares.
pub(crate) struct MapRun<'a> {
    pub(crate) id: NodeId,
    pub(crate) station: &'a Arc<dyn ErasedStation>,
    pub(crate) map: &'a MapSpec,
    /// The inputs after the list, given to every item, and their content hashes.
    pub(crate) shared: &'a [Edge],
    pub(crate) shared_hashes: Vec<Digest>,
}

/// What the store says of one item: its remembered output, still good, or why it runs.
enum ItemVerdict {
    Cached(Shared),
    Runs(String),
}

/// What became of one item: its output, if it has one, and its outcome.
struct Done {
    output: Option<Shared>,
    outcome: Outcome,
}

impl Execution<'_> {
    /// Runs a map: each item of the list is looked up and, when missing, run on its own, in
    /// parallel; the outputs, in the list's order, are the map's output.
    pub(super) fn execute_map(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        map: &MapSpec,
        head: Head,
        reason: String,
    ) -> Outcome {
        let started = Instant::now();
        let failed =
            |error: String| Outcome::failed(started.elapsed(), Some(reason.clone()), error);
        let (items, run) = match self.map_inputs(id, station, inputs, map) {
            Ok(found) => found,
            Err(error) => return failed(error),
        };
        self.announce_items(id, &items);
        let done = self.run_items(&run, &items);
        let ran = done
            .iter()
            .filter(|d| d.outcome.status == Status::Ran)
            .count();
        let outputs: Option<Vec<Shared>> = items
            .iter()
            .enumerate()
            .map(|(index, item)| done[item.same_as.unwrap_or(index)].output.clone())
            .collect();
        let failure = self.item_failure(id, &items, &done);
        self.keep_items(id, &items, done);
        if let Some(error) = failure {
            return failed(error);
        }
        let Some(outputs) = outputs else {
            return failed("internal error: an item has no output".to_owned());
        };
        let value = match (map.gather)(outputs) {
            Ok(value) => value,
            Err(error) => return failed(chain(&error)),
        };
        let content = match self.record_map(id, station, &head, &value, started) {
            Ok(content) => content,
            Err(error) => return failed(error),
        };
        let _ = self.contents[id.index()].set(content);
        let _ = self.values[id.index()].set(value);
        let distinct = items.iter().filter(|item| item.same_as.is_none()).count();
        Outcome {
            status: Status::Ran,
            started: None,
            duration: started.elapsed(),
            reason: Some(format!("{reason}; {ran} of {distinct} items ran")),
            error: None,
            kept_dir: None,
        }
    }

    /// The items of a map's list, named, and what its items share.
    pub(crate) fn map_inputs<'a>(
        &self,
        id: NodeId,
        station: &'a Arc<dyn ErasedStation>,
        inputs: &'a [Edge],
        map: &'a MapSpec,
    ) -> Result<(Vec<Item>, MapRun<'a>), String> {
        let (list, shared) = match inputs.split_first() {
            Some((Edge::One(list), shared)) => (*list, shared),
            _ => return Err("internal error: a map without its list".to_owned()),
        };
        let values = self
            .value(list)
            .and_then(|list| (map.items)(list))
            .map_err(|error| chain(&error))?;
        let items = name_items(map, &self.paths[id.index()], self.shown(id), values)?;
        let shared_hashes = self.input_hashes(shared).map_err(|error| chain(&error))?;
        let run = MapRun {
            id,
            station,
            map,
            shared,
            shared_hashes,
        };
        Ok((items, run))
    }

    /// What messages call node `id`: its label, or its name in the store.
    pub(crate) fn shown(&self, id: NodeId) -> &str {
        self.graph
            .node(id)
            .label
            .as_deref()
            .unwrap_or(&self.paths[id.index()])
    }

    /// Tells the listener the items a map is about to run or find.
    fn announce_items(&self, id: NodeId, items: &[Item]) {
        if let Some(listener) = &self.settings.listener {
            let names: Vec<String> = distinct(items).map(|item| item.path.to_string()).collect();
            listener(&crate::progress::Event::Items {
                node: &self.paths[id.index()],
                items: &names,
            });
        }
    }

    /// What became of each item, in the list's order, in parallel; the same item again is
    /// not run again (its entry is a placeholder, its output the first one's).
    fn run_items(&self, run: &MapRun<'_>, items: &[Item]) -> Vec<Done> {
        use rayon::prelude::*;
        items
            .par_iter()
            .map(|item| {
                if item.same_as.is_some() {
                    return Done {
                        output: None,
                        outcome: Outcome::not_run(Status::Cached),
                    };
                }
                let done = self.map_item(run, item);
                if let Some(listener) = &self.settings.listener {
                    listener(&crate::progress::Event::Finished {
                        node: &item.path,
                        name: run.station.name(),
                        status: done.outcome.status,
                        duration: done.outcome.duration,
                    });
                }
                done
            })
            .collect()
    }

    /// The map's error when items failed: the first one's, naming it, and how many more.
    fn item_failure(&self, id: NodeId, items: &[Item], done: &[Done]) -> Option<String> {
        let mut failed = items
            .iter()
            .zip(done)
            .filter(|(_, done)| done.outcome.status == Status::Failed);
        let (item, first) = failed.next()?;
        let mut error = format!(
            "{}[{}] failed: {}",
            self.shown(id),
            item.name,
            first.outcome.error.as_deref().unwrap_or_default()
        );
        match failed.count() {
            0 => {}
            1 => error.push_str(" (and 1 more item failed)"),
            more => error.push_str(&format!(" (and {more} more items failed)")),
        }
        Some(error)
    }

    /// Keeps each item's outcome for the report.
    fn keep_items(&self, id: NodeId, items: &[Item], done: Vec<Done>) {
        let outcomes = items
            .iter()
            .zip(done)
            .filter(|(item, _)| item.same_as.is_none())
            .map(|(item, done)| (item.path.clone(), done.outcome))
            .collect();
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, outcomes));
    }

    /// Stores a map's own output, the list of its items' outputs, under the map's key.
    fn record_map(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        head: &Head,
        value: &Shared,
        started: Instant,
    ) -> Result<Content, String> {
        let node = self.graph.node(id);
        let (encoded, paths) = (node.codec.encode)(&**value).map_err(|error| chain(&error))?;
        let files = self.hash_files(paths).map_err(|error| chain(&error))?;
        let content = memo::content(&encoded, files);
        let path = &self.paths[id.index()];
        self.record(
            station.id(),
            path,
            head,
            &content,
            &encoded,
            started.elapsed(),
        )
        .map_err(|error| format!("its result could not be stored: {}", chain(&error)))?;
        Ok(content)
    }

    /// One item of a map: its own key (the item's content and the shared inputs), its own
    /// record, its own directory.
    fn map_item(&self, run: &MapRun<'_>, item: &Item) -> Done {
        let failed = |error: String| Done {
            output: None,
            outcome: Outcome::failed(Duration::ZERO, None, error),
        };
        let head = match self.item_head(run, item) {
            Ok(head) => head,
            Err(error) => return failed(error),
        };
        self.used(head.key);
        let args = || -> Result<Vec<Arg>, Error> {
            let mut args = vec![Arg::Shared(item.value.clone())];
            args.extend(self.args(run.shared)?);
            Ok(args)
        };
        let reason = match self.item_verdict(run, item, &head, &args) {
            Ok(ItemVerdict::Cached(output)) => {
                return Done {
                    output: Some(output),
                    outcome: Outcome::not_run(Status::Cached),
                };
            }
            Ok(ItemVerdict::Runs(reason)) => reason,
            Err(error) => return failed(error),
        };
        let label = format!("{}[{}]", self.shown(run.id), item.name);
        let values = || self.item_values(run, item);
        let call = Call {
            station: run.station,
            path: &item.path,
            label: Some(&label),
            codec: &run.map.output,
            args: &args,
            input_values: &values,
            read: &[],
        };
        let (done, outcome) = self.call_and_record(call, head, reason);
        Done {
            output: done.map(|(output, _)| output),
            outcome,
        }
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
    /// store and intact, and the station's check, if it has one, still agrees.
    fn item_verdict(
        &self,
        run: &MapRun<'_>,
        item: &Item,
        head: &Head,
        args: &dyn Fn() -> Result<Vec<Arg>, Error>,
    ) -> Result<ItemVerdict, String> {
        let record = match self.item_lookup(run, item, head) {
            Ok(Found { record, .. }) => record,
            Err(reason) => return Ok(ItemVerdict::Runs(reason)),
        };
        let path = &item.path;
        let output = match self.stored_output(&record, &run.map.output) {
            Ok(output) => output,
            Err(Unusable::Changed(problem)) => return Err(problem),
            Err(Unusable::Undecodable(cause)) => {
                self.warn(format!(
                    "the stored output of `{path}` {}",
                    cause.explain("it runs again")
                ));
                return Ok(ItemVerdict::Runs(
                    "its stored output no longer decodes".to_owned(),
                ));
            }
        };
        if !run.station.has_check() {
            return Ok(ItemVerdict::Cached(output));
        }
        let args = args().map_err(|error| chain(&error))?;
        match call::ask_check(run.station.as_ref(), &args, &*output) {
            Ok(true) => Ok(ItemVerdict::Cached(output)),
            Ok(false) => Ok(ItemVerdict::Runs("check failed: drift".to_owned())),
            Err(failure) => Err(failure.message),
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
    }
}

/// The items that are not the same item again.
pub(crate) fn distinct(items: &[Item]) -> impl Iterator<Item = &Item> {
    items.iter().filter(|item| item.same_as.is_none())
}
