//! Maps: one station called for each item of a list found at run time, each item named
//! (`items`), looked up, run and recorded on its own (`item`), in parallel on the runner's
//! pool, and reported as an entry of its own (`map[item]`).

use super::commit::{NOT_RECORDED, Produced};
use super::items::{Item, name_items};
use super::{Execution, Outcome};
use crate::discovered::Discovered;
use crate::error::chain;
use crate::graph::edge::Edge;
use crate::graph::erased::ErasedStation;
use crate::graph::map::MapSpec;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo::{self, Content, Head};
use crate::report::Status;
use crate::value::Shared;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// One map being run: the pieces every item of it shares.
pub(crate) struct MapRun<'a> {
    pub(crate) id: NodeId,
    pub(crate) station: &'a Arc<dyn ErasedStation>,
    pub(crate) map: &'a MapSpec,
    /// The inputs after the list, given to every item, and their content hashes.
    pub(crate) shared: &'a [Edge],
    pub(crate) shared_hashes: Vec<Digest>,
}

/// What became of one item: its output, if it has one, and its outcome.
pub(super) struct Done {
    pub(super) output: Option<Shared>,
    /// The inputs its station discovered, in its run or its record.
    pub(super) discovered: Vec<Discovered>,
    /// Whether its result is recorded (not when an input changed while it ran).
    pub(super) recorded: bool,
    pub(super) outcome: Outcome,
}

impl Done {
    /// The entry of an item listed again: its output is the first one's.
    pub(super) fn placeholder() -> Done {
        Done {
            output: None,
            discovered: Vec::new(),
            recorded: true,
            outcome: Outcome::not_run(Status::Cached),
        }
    }
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
        reason: crate::memo::Reason,
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
        let (discovered, recorded) = discovered_by(&done);
        self.keep_items(id, &items, done);
        if let Some(error) = failure {
            return failed(error);
        }
        // An item not recorded (an input changed while it ran) is computed again next time,
        // and so is the map.
        let record = recorded.then_some(discovered.as_slice());
        let kept = outputs
            .ok_or_else(|| "internal error: an item has no output".to_owned())
            .and_then(|outputs| self.keep_map(id, station, map, &head, outputs, started, record));
        if let Err(error) = kept {
            return failed(error);
        }
        let distinct = items.iter().filter(|item| item.same_as.is_none()).count();
        let unrecorded = match recorded {
            true => String::new(),
            false => format!("{NOT_RECORDED}an item's input changed while it ran"),
        };
        Outcome {
            status: Status::Ran,
            started: None,
            duration: started.elapsed(),
            reason: Some(format!("{reason}; {ran} of {distinct} items ran{unrecorded}").into()),
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
        let items =
            self.keyed(|| name_items(map, &self.paths[id.index()], self.shown(id), values))?;
        Ok((items, self.map_run(id, station, map, shared)?))
    }

    /// What the items of map `id` share: the station, and the inputs after the list.
    pub(super) fn map_run<'a>(
        &self,
        id: NodeId,
        station: &'a Arc<dyn ErasedStation>,
        map: &'a MapSpec,
        shared: &'a [Edge],
    ) -> Result<MapRun<'a>, String> {
        let shared_hashes = self.input_hashes(shared).map_err(|error| chain(&error))?;
        Ok(MapRun {
            id,
            station,
            map,
            shared,
            shared_hashes,
        })
    }

    /// What messages call node `id`: its label, or its name in the store; inside a
    /// sub-workflow, its name below the workflow's (`base.db` for `shop.base.db`), since a
    /// label may be used again there.
    pub(crate) fn shown(&self, id: NodeId) -> &str {
        let node = self.graph.node(id);
        let path = &self.paths[id.index()];
        match (&node.label, node.scope()) {
            (Some(_), Some(scope)) if scope.contains('.') => {
                path.split_once('.').map_or(path, |(_, below)| below)
            }
            (Some(label), _) => label,
            (None, _) => path,
        }
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

    /// The map's error when items failed: the first one's, naming it, and how many more.
    fn item_failure(&self, id: NodeId, items: &[Item], done: &[Done]) -> Option<String> {
        let mut failed = items
            .iter()
            .zip(done)
            .filter(|(_, done)| done.outcome.status == Status::Failed);
        let (item, first) = failed.next()?;
        let first = first.outcome.error.as_deref().unwrap_or_default();
        let mut error = format!("{}[{}] failed: {first}", self.shown(id), item.name);
        let joint = crate::error::joint(first, " ");
        match failed.count() {
            0 => {}
            1 => error.push_str(&format!("{joint}(and 1 more item failed)")),
            more => error.push_str(&format!("{joint}(and {more} more items failed)")),
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

    /// Makes the items' outputs, in order, the map's value, and records it with the inputs
    /// its items discovered (`None`: not recorded).
    #[allow(
        clippy::too_many_arguments,
        reason = "the pieces of one map, each its own"
    )]
    fn keep_map(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        map: &MapSpec,
        head: &Head,
        outputs: Vec<Shared>,
        started: Instant,
        discovered: Option<&[Discovered]>,
    ) -> Result<(), String> {
        let value = (map.gather)(outputs).map_err(|error| chain(&error))?;
        let content = self.record_map(id, station, head, &value, started, discovered)?;
        let _ = self.contents[id.index()].set(content);
        let _ = self.values[id.index()].set(value);
        Ok(())
    }

    /// Stores a map's own output, the list of its items' outputs, under the map's key, with
    /// the inputs its items discovered; `discovered` is `None` when it must not be recorded.
    fn record_map(
        &self,
        id: NodeId,
        station: &Arc<dyn ErasedStation>,
        head: &Head,
        value: &Shared,
        started: Instant,
        discovered: Option<&[Discovered]>,
    ) -> Result<Content, String> {
        let node = self.graph.node(id);
        let (encoded, paths) = (node.codec.encode)(&**value).map_err(|error| chain(&error))?;
        let files = self.hash_files(paths).map_err(|error| chain(&error))?;
        let content = memo::content(&encoded, files);
        let Some(discovered) = discovered else {
            return Ok(content);
        };
        let path = &self.paths[id.index()];
        let produced = Produced {
            content: &content,
            encoded: &encoded,
            discovered,
        };
        self.record(station.id(), path, head, &produced, started.elapsed())
            .map_err(|error| format!("its result could not be stored: {}", chain(&error)))?;
        Ok(content)
    }
}

/// The items that are not the same item again.
pub(crate) fn distinct(items: &[Item]) -> impl Iterator<Item = &Item> {
    items.iter().filter(|item| item.same_as.is_none())
}

/// The inputs a map's items discovered, each once (the map's own record carries them, so a
/// change in one makes the map look at its items again), and whether every item is recorded.
fn discovered_by(done: &[Done]) -> (Vec<Discovered>, bool) {
    let mut known = HashSet::new();
    let discovered = done
        .iter()
        .flat_map(|done| &done.discovered)
        .filter(|input| known.insert(*input))
        .cloned()
        .collect();
    (discovered, done.iter().all(|done| done.recorded))
}
