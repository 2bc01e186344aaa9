//! Maps: one station called for each item of a list found at run time, each item looked up,
//! run and recorded on its own, in parallel on the runner's pool.

use super::call::{self, Arg, Call};
use super::lookup::{Found, Lookup};
use super::values::Unusable;
use super::{Execution, Outcome};
use crate::error::{Error, chain};
use crate::graph::{Edge, ErasedStation, MapSpec, NodeId};
use crate::hash::Digest;
use crate::memo::{self, Content, Head};
use crate::report::Status;
use crate::value::Shared;
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

/// What the store says of one item: its remembered output, still good, or why it runs.
enum ItemVerdict {
    Cached(Shared),
    Runs(String),
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
        let mut outputs = Vec::with_capacity(items.len());
        let mut ran = 0;
        for result in self.run_items(&run, &items) {
            match result {
                Ok((output, executed)) => {
                    ran += usize::from(executed);
                    outputs.push(output);
                }
                Err(error) => return failed(error),
            }
        }
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
        Outcome {
            status: Status::Ran,
            started: None,
            duration: started.elapsed(),
            reason: Some(format!("{reason}; {ran} of {} items ran", items.len())),
            error: None,
            kept_dir: None,
        }
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
    fn run_items(&self, run: &MapRun<'_>, items: &[Shared]) -> Vec<Result<(Shared, bool), String>> {
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
    /// record, its own directory. Returns its output and whether it ran.
    fn map_item(
        &self,
        run: &MapRun<'_>,
        index: usize,
        item: &Shared,
    ) -> Result<(Shared, bool), String> {
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
            ItemVerdict::Cached(output) => return Ok((output, false)),
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
            policy: self.policy(run.id, run.station.as_ref()),
        };
        match self.call_and_record(call, head, reason) {
            (Some((output, _)), _) => Ok((output, true)),
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
            return Ok(ItemVerdict::Cached(output));
        }
        let args = args().map_err(|error| chain(&error))?;
        match call::ask_check(run.station.as_ref(), &args, &*output) {
            Ok(true) => Ok(ItemVerdict::Cached(output)),
            Ok(false) => Ok(ItemVerdict::Runs("check failed: drift".to_owned())),
            Err(failure) => Err(failure.message),
        }
    }
}
