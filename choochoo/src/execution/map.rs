//! Maps: one station called for each item of a list found at run time, each item looked up,
//! run and recorded on its own, in parallel on the runner's pool.

use super::{Arg, Call, Execution, Found, Lookup, Outcome};
use crate::error::chain;
use crate::graph::{Edge, ErasedStation, MapSpec};
use crate::memo;
use crate::report::Status;
use crate::store::Head;
use crate::value::Shared;
use crate::{Digest, Error};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Execution<'_> {
    /// Runs a map: each item of the list is looked up and, when missing, run on its own, in
    /// parallel; the outputs, in the list's order, are the map's output.
    pub(super) fn execute_map(
        &self,
        id: u32,
        station: &Arc<dyn ErasedStation>,
        inputs: &[Edge],
        map: &MapSpec,
        head: Head,
        reason: String,
    ) -> Outcome {
        use rayon::prelude::*;
        let started = Instant::now();
        let failed =
            |error: String| Outcome::failed(started.elapsed(), Some(reason.clone()), error);
        let (list, shared) = match inputs.split_first() {
            Some((Edge::One(list), shared)) => (*list, shared),
            _ => return failed("internal error: a map without its list".to_owned()),
        };
        let items = match self.value(list).and_then(|list| (map.items)(list)) {
            Ok(items) => items,
            Err(error) => return failed(chain(&error)),
        };
        let shared_hashes = match self.input_hashes(shared) {
            Ok(hashes) => hashes,
            Err(error) => return failed(chain(&error)),
        };
        let path = &self.paths[id as usize];
        let done = std::sync::atomic::AtomicU64::new(0);
        let results: Vec<Result<(Shared, bool), String>> = items
            .par_iter()
            .enumerate()
            .map(|(index, item)| {
                let result = self.map_item(id, station, shared, &shared_hashes, map, index, item);
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
            .collect();
        let mut outputs = Vec::with_capacity(results.len());
        let mut ran = 0;
        for result in results {
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
        let node = &self.graph.nodes[id as usize];
        let recorded = (node.codec.encode)(&*value).and_then(|(encoded, paths)| {
            Ok((memo::content(&encoded, self.hash_files(paths)?), encoded))
        });
        let (content, encoded) = match recorded {
            Ok(recorded) => recorded,
            Err(error) => return failed(chain(&error)),
        };
        let call = Call {
            station,
            path,
            label: node.label.as_deref(),
            codec: &node.codec,
            args: &|| Ok(Vec::new()),
            input_values: &Vec::new,
            read: &[],
        };
        if let Err(error) = self.record(
            call.station.id(),
            call.path,
            &head,
            &content,
            &encoded,
            started.elapsed(),
        ) {
            return failed(format!("its result could not be stored: {}", chain(&error)));
        }
        let _ = self.contents[id as usize].set(content);
        let _ = self.values[id as usize].set(value);
        Outcome {
            status: Status::Ran,
            started: None,
            duration: started.elapsed(),
            reason: Some(format!("{reason}; {ran} of {} items ran", items.len())),
            error: None,
            kept_dir: None,
        }
    }

    /// One item of a map: its own key (the item's content and the shared inputs), its own
    /// record, its own directory. Returns its output and whether it ran.
    #[allow(clippy::too_many_arguments)] // the pieces of one map, passed down from `execute_map`
    fn map_item(
        &self,
        id: u32,
        station: &Arc<dyn ErasedStation>,
        shared: &[Edge],
        shared_hashes: &[Digest],
        map: &MapSpec,
        index: usize,
        item: &Shared,
    ) -> Result<(Shared, bool), String> {
        let (encoded, paths) = (map.item.encode)(&**item).map_err(|error| chain(&error))?;
        let content = memo::content(
            &encoded,
            self.hash_files(paths).map_err(|error| chain(&error))?,
        );
        let mut inputs = vec![content.digest];
        inputs.extend_from_slice(shared_hashes);
        let fingerprint = station.fingerprint();
        let key = memo::key(
            station.id(),
            &fingerprint,
            (map.output.type_name)(),
            &inputs,
        );
        self.used(key);
        let path = format!(
            "{}[{}]",
            self.paths[id as usize],
            &content.digest.to_hex()[..12]
        );
        let label = format!(
            "{}[{index}]",
            self.graph.nodes[id as usize]
                .label
                .as_deref()
                .unwrap_or("map")
        );
        let args = || -> Result<Vec<Arg>, Error> {
            let mut args = vec![Arg::Shared(item.clone())];
            args.extend(self.args(shared)?);
            Ok(args)
        };
        let reason = match self.find(&path, &key, false) {
            (Lookup::Hit, Some(Found { record, .. })) => {
                let bytes = self.store.load(&record)?;
                let output = (map.output.decode)(&bytes).map_err(|error| chain(&error))?;
                if !station.has_check() {
                    return Ok((output, false));
                }
                let args = args().map_err(|error| chain(&error))?;
                match self.ask_check(station.as_ref(), &args, &*output) {
                    Ok(true) => return Ok((output, false)),
                    Ok(false) => "check failed: drift".to_owned(),
                    Err(failure) => return Err(failure.message),
                }
            }
            (Lookup::Stale(reason), _) => reason,
            _ => "new item".to_owned(),
        };
        let head = Head {
            key,
            fingerprint,
            inputs,
            values: Vec::new(),
        };
        let call = Call {
            station,
            path: &path,
            label: Some(&label),
            codec: &map.output,
            args: &args,
            input_values: &Vec::new,
            read: &[],
        };
        let (done, outcome) = self.call_and_record(call, head, reason);
        match (done, outcome) {
            (Some((output, _)), _) => Ok((output, true)),
            (None, outcome) => Err(format!(
                "item {index} ({}) failed: {}",
                &content.digest.to_hex()[..12],
                outcome.error.unwrap_or_default()
            )),
        }
    }
}
