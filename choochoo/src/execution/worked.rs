//! A station run for a coordinator, on a worker: its inputs' encodings decoded into values
//! of this task alone (one execution serves every task of a worker, at once), one attempt
//! made as in any run (its time limit, its check), and its output encoded for the trip
//! back. Nothing is recorded here: the coordinator records the result.

use super::Execution;
use super::call::{Arg, Call};
use crate::error::{Error, chain};
use crate::graph::Kind as NodeKind;
use crate::graph::edge::Edge;
use crate::graph::node::NodeId;
use crate::temporal::task::{Failed, Kind};
use crate::value::Shared;
use std::any::Any;

impl Execution<'_> {
    /// Runs station `id` once with `inputs` (the encodings of the values it reads, in the
    /// order of its inputs' sources) and returns its output's encoding. A station whose code
    /// differs from the coordinator's (`fingerprint`) is refused.
    pub(crate) fn work(
        &self,
        id: NodeId,
        fingerprint: &str,
        inputs: Vec<Vec<u8>>,
    ) -> Result<Vec<u8>, Failed> {
        let path = &self.paths[id.index()];
        let NodeKind::Station {
            station,
            inputs: edges,
        } = &self.graph.node(id).kind
        else {
            return Err(Failed::new(
                Kind::Refused,
                format!("`{path}` is not a station"),
            ));
        };
        let ours = station.fingerprint().to_hex();
        if ours != fingerprint {
            return Err(Failed::new(
                Kind::Refused,
                format!(
                    "this worker's build of station `{path}` differs from the coordinator's \
                     (code fingerprint {ours}, not {fingerprint}); start workers of the same build"
                ),
            ));
        }
        let sources: Vec<NodeId> = edges.iter().flat_map(Edge::sources).copied().collect();
        let values = self.decode_inputs(path, &sources, inputs)?;
        let node = self.graph.node(id);
        let call = Call {
            station,
            path,
            label: node.label.as_deref(),
            codec: node.codec,
            args: &|| args_of(edges, &values),
            input_values: &Vec::new,
            read: &sources,
            policy: self.policy(id, station.as_ref()),
        };
        let (value, _) = self.attempt(&call, &call.policy, 0).map_err(|failure| {
            let kind = match failure.transient {
                true => Kind::Transient,
                false => Kind::Failed,
            };
            Failed::new(kind, failure.message)
        })?;
        self.encode_output(id, path, &value)
    }

    /// The encoding of station `path`'s output, which must hold no files.
    fn encode_output(&self, id: NodeId, path: &str, value: &Shared) -> Result<Vec<u8>, Failed> {
        let (encoded, files) = (self.graph.node(id).codec.encode)(&**value)
            .map_err(|error| Failed::new(Kind::Failed, chain(&error)))?;
        if !files.is_empty() {
            return Err(Failed::new(
                Kind::Failed,
                format!(
                    "the output of `{path}` holds files, which do not travel back from a worker"
                ),
            ));
        }
        Ok(encoded)
    }

    /// Decodes the values station `path` reads, one per source.
    fn decode_inputs(
        &self,
        path: &str,
        sources: &[NodeId],
        inputs: Vec<Vec<u8>>,
    ) -> Result<Vec<Shared>, Failed> {
        if sources.len() != inputs.len() {
            return Err(Failed::new(
                Kind::Refused,
                format!(
                    "`{path}` reads {} values here, but the task brings {}; start workers of the same build",
                    sources.len(),
                    inputs.len()
                ),
            ));
        }
        let decode = |(source, bytes): (&NodeId, Vec<u8>)| {
            (self.graph.node(*source).codec.decode)(&bytes).map_err(|error| {
                Failed::new(
                    Kind::Refused,
                    format!(
                        "an input of `{path}` does not decode here: {}",
                        chain(&error)
                    ),
                )
            })
        };
        sources.iter().zip(inputs).map(decode).collect()
    }
}

/// The arguments of a station whose inputs `edges` read `values`, one per source in order.
fn args_of(edges: &[Edge], values: &[Shared]) -> Result<Vec<Arg>, Error> {
    let mut rest = values;
    let mut args = Vec::with_capacity(edges.len());
    for edge in edges {
        let (these, after) = rest.split_at(edge.sources().len());
        rest = after;
        args.push(match edge {
            Edge::One(_) => Arg::Shared(these[0].clone()),
            Edge::Many(_, collect) => {
                let refs: Vec<&(dyn Any + Send + Sync)> = these.iter().map(|v| &**v).collect();
                collect(&refs).map(Arg::Owned)?
            }
        });
    }
    Ok(args)
}
