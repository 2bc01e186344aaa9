//! A station run for a coordinator, on a worker: its inputs' encodings decoded into the
//! values of the nodes it reads, one attempt made as in any run (its time limit, its check),
//! and its output encoded for the trip back. Nothing is recorded here: the coordinator
//! records the result.

use super::Execution;
use crate::error::chain;
use crate::graph::Kind as NodeKind;
use crate::graph::edge::Edge;
use crate::graph::node::NodeId;
use crate::temporal::task::{Failed, Kind};

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
        self.take_inputs(path, &sources, inputs)?;
        let attempt = self.node_call(id, station, edges, |call| {
            let policy = call.policy;
            self.attempt(&call, &policy)
        });
        let (value, _) = attempt.map_err(|failure| {
            let kind = if failure.transient {
                Kind::Transient
            } else {
                Kind::Failed
            };
            Failed::new(kind, failure.message)
        })?;
        let (encoded, files) = (self.graph.node(id).codec.encode)(&*value)
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

    /// Decodes the values station `path` reads into their nodes.
    fn take_inputs(
        &self,
        path: &str,
        sources: &[NodeId],
        inputs: Vec<Vec<u8>>,
    ) -> Result<(), Failed> {
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
        for (source, bytes) in sources.iter().zip(inputs) {
            let value = (self.graph.node(*source).codec.decode)(&bytes).map_err(|error| {
                Failed::new(
                    Kind::Refused,
                    format!(
                        "an input of `{path}` does not decode here: {}",
                        chain(&error)
                    ),
                )
            })?;
            let _ = self.values[source.index()].set(value);
        }
        Ok(())
    }
}
