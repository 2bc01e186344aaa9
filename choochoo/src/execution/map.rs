//! Maps: one station called for each item of a list found at run time, each item looked up,
//! run and recorded on its own, in parallel on the runner's pool.

use super::call::{self, Arg, Call};
use super::commit::{NOT_RECORDED, Produced};
use super::lookup::{Found, Lookup};
use super::values::Unusable;
use super::{Execution, Outcome};
use crate::discovered::Discovered;
use crate::error::chain;
use crate::graph::{Edge, ErasedStation, MapSpec, NodeId};
use crate::memo::{self, Content};
use crate::report::Status;
use crate::store::Head;
use crate::value::Shared;
use crate::{Digest, Error};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One map being run: the pieces every item of it shares.
struct MapRun<'a> {
    id: NodeId,
    station: &'a Arc<dyn ErasedStation>,
    map: &'a MapSpec,
    /// The inputs after the list, given to every item, and their content hashes.
    shared: &'a [Edge],
    shared_hashes: Vec<Digest>,
}

/// What the store says of one item: its remembered output, still good (and the inputs its
/// station discovered), or why it runs.
enum ItemVerdict {
    Cached(Shared, Vec<Discovered>),
    Runs(String),
}

/// One item done: its output, whether it ran, the inputs it discovered (in its run or its
/// record), and whether its result is recorded.
struct ItemDone {
    output: Shared,
    ran: bool,
    discovered: Vec<Discovered>,
    recorded: bool,
}

/// What a map's items gave: their outputs in order, how many ran, the inputs they discovered
/// (which the map's own record carries, so that a change in one makes the map look at its
/// items again), and whether every item is recorded.
struct Gathered {
    outputs: Vec<Shared>,
    ran: usize,
    discovered: Vec<Discovered>,
    recorded: bool,
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
        let Gathered {
            outputs,
            ran,
            discovered,
            recorded,
        } = match self.gather_items(&run, &items) {
            Ok(gathered) => gathered,
            Err(error) => return failed(error),
        };
        let value = match (map.gather)(outputs) {
            Ok(value) => value,
            Err(error) => return failed(chain(&error)),
        };
        // An item not recorded (an input changed while it ran) is computed again next time,
        // and so is the map.
        let record = recorded.then_some(discovered.as_slice());
        let content = match self.record_map(id, station, &head, &value, started, record) {
            Ok(content) => content,
            Err(error) => return failed(error),
        };
        let unrecorded = if recorded {
            String::new()
        } else {
            format!("{NOT_RECORDED}an item's input changed while it ran")
        };
        let _ = self.contents[id.index()].set(content);
        let _ = self.values[id.index()].set(value);
        Outcome {
            status: Status::Ran,
            started: None,
            duration: started.elapsed(),
            reason: Some(format!(
                "{reason}; {ran} of {} items ran{unrecorded}",
                items.len()
            )),
            error: None,
            kept_dir: None,
        }
    }

    /// Runs or finds every item: their outputs in order, how many ran, the inputs they
    /// discovered (each once), and whether all are recorded; the first failure otherwise.
    fn gather_items(&self, run: &MapRun<'_>, items: &[Shared]) -> Result<Gathered, String> {
        let mut gathered = Gathered {
            outputs: Vec::with_capacity(items.len()),
            ran: 0,
            discovered: Vec::new(),
            recorded: true,
        };
        let mut known = HashSet::new();
        for item in self.run_items(run, items) {
            let item = item?;
            gathered.ran += usize::from(item.ran);
            gathered.recorded &= item.recorded;
            let new = item.discovered.into_iter();
            gathered
                .discovered
                .extend(new.filter(|input| known.insert(input.clone())));
            gathered.outputs.push(item.output);
        }
        Ok(gathered)
    }

    /// The items of a map's list, and what its items share.
    fn map_inputs<'a>(
        &self,
        id: NodeId,
        station: &'a Arc<dyn ErasedStation>,
        inputs: &'a [Edge],
        map: &'a MapSpec,
    ) -> Result<(Vec<Shared>, MapRun<'a>), String> {
        let (list, shared) = match inputs.split_first() {
            Some((Edge::One(list), shared)) => (*list, shared),
            _ => return Err("internal error: a map without its list".to_owned()),
        };
        let items = self
            .value(list)
            .and_then(|list| (map.items)(list))
            .map_err(|error| chain(&error))?;
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

    /// Each item's output and whether it ran, in the list's order, in parallel.
    fn run_items(&self, run: &MapRun<'_>, items: &[Shared]) -> Vec<Result<ItemDone, String>> {
        use rayon::prelude::*;
        let path = &self.paths[run.id.index()];
        let done = AtomicU64::new(0);
        items
            .par_iter()
            .enumerate()
            .map(|(index, item)| {
                let result = self.map_item(run, index, item);
                if let Some(listener) = &self.settings.listener {
                    let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                    listener(&crate::progress::Event::Progress {
                        node: path,
                        done,
                        total: Some(items.len() as u64),
                        unit: crate::progress::Unit::Steps,
                    });
                }
                result
            })
            .collect()
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

    /// One item of a map: its own key (the item's content and the shared inputs), its own
    /// record, its own directory. Returns its output and whether it ran.
    fn map_item(&self, run: &MapRun<'_>, index: usize, item: &Shared) -> Result<ItemDone, String> {
        let head = self.item_head(run, item)?;
        self.used(head.key);
        let digest = head.inputs[0];
        let path = format!("{}[{}]", self.paths[run.id.index()], &digest.to_hex()[..12]);
        let label = format!(
            "{}[{index}]",
            self.graph.node(run.id).label.as_deref().unwrap_or("map")
        );
        let args = || -> Result<Vec<Arg>, Error> {
            let mut args = vec![Arg::Shared(item.clone())];
            args.extend(self.args(run.shared)?);
            Ok(args)
        };
        let reason = match self.item_verdict(run, &path, &head.key, &args)? {
            ItemVerdict::Cached(output, discovered) => {
                return Ok(ItemDone {
                    output,
                    ran: false,
                    discovered,
                    recorded: true,
                });
            }
            ItemVerdict::Runs(reason) => reason,
        };
        let call = Call {
            station: run.station,
            path: &path,
            label: Some(&label),
            codec: &run.map.output,
            args: &args,
            input_values: &Vec::new,
            read: &[],
        };
        match self.call_and_record(call, head, reason) {
            (Some(done), _) => Ok(ItemDone {
                output: done.value,
                ran: true,
                discovered: done.discovered,
                recorded: done.recorded,
            }),
            (None, outcome) => Err(format!(
                "item {index} ({}) failed: {}",
                &digest.to_hex()[..12],
                outcome.error.unwrap_or_default()
            )),
        }
    }

    /// An item's key: its station, the item's content, and the shared inputs' content.
    fn item_head(&self, run: &MapRun<'_>, item: &Shared) -> Result<Head, String> {
        let (encoded, paths) = (run.map.item.encode)(&**item).map_err(|error| chain(&error))?;
        let files = self.hash_files(paths).map_err(|error| chain(&error))?;
        let mut inputs = vec![memo::content(&encoded, files).digest];
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

    /// Whether an item's remembered output can be used: it is in the store and intact, and
    /// the station's check, if it has one, still agrees.
    fn item_verdict(
        &self,
        run: &MapRun<'_>,
        path: &str,
        key: &Digest,
        args: &dyn Fn() -> Result<Vec<Arg>, Error>,
    ) -> Result<ItemVerdict, String> {
        let record = match self.find(path, key, false) {
            Lookup::Hit(Found { record, .. }) => record,
            Lookup::Stale(reason) => return Ok(ItemVerdict::Runs(reason)),
            Lookup::Miss => return Ok(ItemVerdict::Runs("new item".to_owned())),
        };
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
            return Ok(ItemVerdict::Cached(output, record.discovered));
        }
        let args = args().map_err(|error| chain(&error))?;
        match call::ask_check(run.station.as_ref(), &args, &*output) {
            Ok(true) => Ok(ItemVerdict::Cached(output, record.discovered)),
            Ok(false) => Ok(ItemVerdict::Runs("check failed: drift".to_owned())),
            Err(failure) => Err(failure.message),
        }
    }
}
