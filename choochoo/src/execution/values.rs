//! Values between stations: each node's value, shared with the stations after it (a cached
//! node's value is decoded from its record only when one of them needs it), and its content
//! hash, which is what a station's key is made of — an upstream output's hash, so a station
//! that produces the same bytes again stops the cascade.

use super::Execution;
use super::call::Arg;
use crate::error::{Error, chain};
use crate::graph::Kind;
use crate::graph::codec::Codec;
use crate::graph::edge::Edge;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo;
use crate::memo::Record;
use crate::stat::Seen;
use crate::value::Shared;
use std::any::Any;
use std::path::PathBuf;

/// Why a remembered output cannot be had.
pub(super) enum Unusable {
    /// Its bytes changed or went since its record was verified, for this reason.
    Changed(String),
    /// Its bytes are intact but no longer decode; its record was forgotten.
    Undecodable(Undecodable),
}

/// Why a stored output no longer decodes: the decoder's error.
pub(super) struct Undecodable(String);

impl Undecodable {
    /// What to tell the user, after "the stored output of …": the cause, what `then`
    /// happens, and how to avoid it next time.
    pub(super) fn explain(&self, then: &str) -> String {
        format!(
            "no longer decodes ({}); its record was removed, so {then}. When a station's output \
             type changes, bump its `version`",
            self.0
        )
    }
}

impl Execution<'_> {
    /// The inputs of a call: upstream values shared, fan-in `Vec`s collected.
    pub(super) fn args(&self, inputs: &[Edge]) -> Result<Vec<Arg>, Error> {
        inputs
            .iter()
            .map(|edge| match edge {
                Edge::One(source) => self.shared(*source).map(Arg::Shared),
                Edge::Many(sources, collect) => {
                    let values: Vec<&(dyn Any + Send + Sync)> = sources
                        .iter()
                        .map(|source| self.value(*source))
                        .collect::<Result<_, _>>()?;
                    collect(&values).map(Arg::Owned)
                }
            })
            .collect()
    }

    pub(super) fn value(&self, id: NodeId) -> Result<&(dyn Any + Send + Sync), Error> {
        self.shared_ref(id).map(|value| &**value)
    }

    fn shared(&self, id: NodeId) -> Result<Shared, Error> {
        self.shared_ref(id).cloned()
    }

    /// A node's value, decoded from the store the first time a cached node's value is needed.
    fn shared_ref(&self, id: NodeId) -> Result<&Shared, Error> {
        if let Some(value) = self.values[id.index()].get() {
            return Ok(value);
        }
        let path = &self.paths[id.index()];
        let value = self
            .source_record(id)
            .ok_or_else(|| Error::internal(format!("`{path}` has no value yet")))?;
        let codec = self.graph.node(id).codec;
        let value = value.and_then(|record| self.stored_output(&record, codec));
        let value = value.map_err(|unusable| {
            Error::usage(match unusable {
                Unusable::Changed(problem) => {
                    format!("the stored output of `{path}` changed during the run: {problem}")
                }
                Unusable::Undecodable(cause) => format!(
                    "the stored output of `{path}` {}",
                    cause.explain("the next run computes it again")
                ),
            })
        })?;
        Ok(self.values[id.index()].get_or_init(|| value))
    }

    /// A node's value if it can be had without running or writing anything: a constant, a
    /// value computed, or the output of a record found (decoded, and not forgotten if it no
    /// longer decodes).
    pub(super) fn known_value(&self, id: NodeId) -> Option<Shared> {
        if let Some(value) = self.values[id.index()].get() {
            return Some(value.clone());
        }
        let record = self.source_record(id)?.ok()?;
        let bytes = self.store.load(&record).ok()?;
        (self.graph.node(id).codec.decode)(&bytes).ok()
    }

    /// The record a cached node's value is decoded from (`None`: the node has no value yet):
    /// one in hand, or the one found in the store, read again by its key (made again from
    /// its inputs' contents, as it was when it was found), and the one found only if its
    /// output is still the one the node's dependents were keyed on.
    fn source_record(&self, id: NodeId) -> Option<Result<std::borrow::Cow<'_, Record>, Unusable>> {
        let in_hand = self
            .records
            .get()
            .and_then(|records| records[id.index()].get());
        if let Some(record) = in_hand {
            return Some(Ok(std::borrow::Cow::Borrowed(&**record)));
        }
        // A node with a content and no value is one whose record was found.
        let wanted = self.contents[id.index()].get()?.digest;
        Some(self.found_again(id, wanted))
    }

    /// The record found for node `id`, read again by its key, if its output is `wanted`.
    fn found_again(
        &self,
        id: NodeId,
        wanted: Digest,
    ) -> Result<std::borrow::Cow<'_, Record>, Unusable> {
        let Kind::Station { station, inputs } = &self.graph.node(id).kind else {
            return Err(Unusable::Changed("it is not a station".to_owned()));
        };
        let head = self.head(id, station.as_ref(), inputs);
        let key = &head.map_err(|error| Unusable::Changed(chain(&error)))?.key;
        let found = self.store.known_record(&self.settings.profile, key);
        match found {
            Ok(Some(Ok(record))) if record.output_hash == wanted => {
                Ok(std::borrow::Cow::Owned(record))
            }
            Ok(Some(Ok(_))) => Err(Unusable::Changed(format!(
                "its record {key} now names another output"
            ))),
            Ok(Some(Err(problem))) => Err(Unusable::Changed(problem)),
            Ok(None) => Err(Unusable::Changed(format!("its record {key} is gone"))),
            Err(error) => Err(Unusable::Changed(chain(&error))),
        }
    }

    /// The inputs of a call, if they can be had without running or writing anything: each
    /// a [`known_value`](Execution::known_value), fan-in `Vec`s collected.
    pub(super) fn known_args(&self, inputs: &[Edge]) -> Option<Vec<Arg>> {
        inputs
            .iter()
            .map(|edge| match edge {
                Edge::One(source) => self.known_value(*source).map(Arg::Shared),
                Edge::Many(sources, collect) => {
                    let values: Vec<Shared> = sources
                        .iter()
                        .map(|source| self.known_value(*source))
                        .collect::<Option<_>>()?;
                    let refs: Vec<&(dyn Any + Send + Sync)> =
                        values.iter().map(|value| &**value).collect();
                    collect(&refs).ok().map(Arg::Owned)
                }
            })
            .collect()
    }

    /// A record's output, decoded. The record was verified when it was found, so an output
    /// that no longer decodes is of a type that changed without its station's code: its
    /// record is forgotten, and the next lookup of its key misses and runs the station.
    pub(super) fn stored_output(&self, record: &Record, codec: &Codec) -> Result<Shared, Unusable> {
        let bytes = self.store.load(record).map_err(Unusable::Changed)?;
        (codec.decode)(&bytes).map_err(|error| {
            let _ = self.store.forget(&self.settings.profile, &record.key);
            Unusable::Undecodable(Undecodable(chain(&error)))
        })
    }

    /// Makes a record the source of a node's value (cleaning decodes values from heads).
    pub(crate) fn remember(&self, id: NodeId, record: Record) {
        let records = self.records.get_or_init(|| {
            let n = self.graph.nodes.len();
            (0..n).map(|_| std::sync::OnceLock::new()).collect()
        });
        let _ = records[id.index()].set(Box::new(record));
    }

    /// A node's value as JSON, if it can be had.
    pub(crate) fn output_json(&self, id: NodeId) -> Option<serde_json::Value> {
        let value = self.value(id).ok()?;
        (self.graph.node(id).codec.to_json)(value)
    }

    /// Takes a node's value out of the run, once it is over.
    pub(super) fn take_value(&mut self, id: NodeId) -> Result<Shared, Error> {
        self.shared_ref(id)?;
        self.values[id.index()]
            .take()
            .ok_or_else(|| Error::internal(format!("the output {id} produced no value")))
    }

    /// The content hash of every input of a station, in order.
    pub(crate) fn input_hashes(&self, inputs: &[Edge]) -> Result<Vec<Digest>, Error> {
        edge_digests(inputs, |source| self.content(source))
    }

    /// The small inputs' values as JSON, kept with the head to name a changed field later.
    pub(super) fn input_values(&self, inputs: &[Edge]) -> Vec<Option<String>> {
        inputs
            .iter()
            .map(|edge| match edge.sources() {
                [source] => {
                    let value = self.value(*source).ok()?;
                    let json = (self.graph.node(*source).codec.to_json)(value)?.to_string();
                    (json.len() <= memo::SMALL_VALUE).then_some(json)
                }
                _ => None,
            })
            .collect()
    }

    /// A node's content hash; for a constant input, computed on first use.
    fn content(&self, id: NodeId) -> Result<Digest, Error> {
        if let Some(content) = self.contents[id.index()].get() {
            return Ok(content.digest);
        }
        let node = self.graph.node(id);
        let value = self.value(id)?;
        let (encoded, paths) = self.keyed(|| (node.codec.encode)(value))?;
        let content = memo::content(&encoded, self.hash_files(paths)?);
        Ok(self.contents[id.index()].get_or_init(|| content).digest)
    }

    /// The files a value names, each with its content hash, through the stat cache.
    pub(super) fn hash_files(&self, paths: Vec<PathBuf>) -> Result<Vec<(PathBuf, Seen)>, Error> {
        paths
            .into_iter()
            .map(|path| {
                let seen = self.stats.hash(&path).map_err(|error| {
                    let shown = crate::filter::shown(&path);
                    Error::io("hash", std::path::Path::new(&shown), error)
                })?;
                Ok((path, seen))
            })
            .collect()
    }
}

/// One digest per input edge: `digest` of its source, or of each source of a fan-in,
/// combined in order.
pub(super) fn edge_digests(
    inputs: &[Edge],
    digest: impl Fn(NodeId) -> Result<Digest, Error>,
) -> Result<Vec<Digest>, Error> {
    inputs
        .iter()
        .map(|edge| match edge {
            Edge::One(source) => digest(*source),
            Edge::Many(sources, _) => sources
                .iter()
                .map(|source| digest(*source))
                .collect::<Result<Vec<_>, _>>()
                .map(memo::many),
        })
        .collect()
}
