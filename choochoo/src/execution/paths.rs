//! Each node's name in the store — its directory, head and lease — stable from run to run.

use crate::error::Error;
use crate::graph::edge::Edge;
use crate::graph::{Graph, Kind};
use crate::hash::Digest;
use std::collections::HashMap;

/// Each station's name in the store, stable from run to run: `workflow/binding` for a
/// `workflow!` binding; the name the program gave a builder node (`add_named`); for another
/// builder node, the station's name and a hash of where its inputs come from (constants by
/// value, files by path), so editing a file keeps the name. A graph with a node of another
/// graph wired into it, or a name given twice, has no names: its error is returned.
pub(crate) fn node_paths(graph: &Graph) -> Result<Vec<Box<str>>, Error> {
    graph.check(&[])?;
    let mut identities: Vec<Digest> = Vec::with_capacity(graph.nodes.len());
    let mut paths = Vec::with_capacity(graph.nodes.len());
    let mut taken: HashMap<String, usize> = HashMap::new();
    for node in &graph.nodes {
        let (identity, base) = match &node.kind {
            Kind::Input(value) => {
                // A secret is named by a mark, so rotating it keeps the name.
                let (encoded, _) = crate::secret::context::named(|| (node.codec.encode)(&**value))?;
                (
                    Digest::of(&encoded),
                    node.label.as_deref().unwrap_or("input").to_owned(),
                )
            }
            Kind::Station { station, inputs } => {
                let mut hasher = crate::hash::Hasher::new("choochoo/node");
                hasher.field("station", station.id().as_bytes());
                for source in inputs.iter().flat_map(Edge::sources) {
                    hasher.digest("source", &identities[source.index()]);
                }
                let identity = hasher.finish();
                let base = match (&node.label, graph_scope(node)) {
                    (Some(label), _) if node.named => label.to_string(),
                    (Some(label), scope) => format!("{scope}{label}"),
                    (None, _) => {
                        let name = station.id().rsplit("::").next().unwrap_or("station");
                        format!("{name}-{}", &identity.to_hex()[..12])
                    }
                };
                (identity, base)
            }
        };
        identities.push(identity);
        let count = taken.entry(base.clone()).or_insert(0);
        *count += 1;
        if node.named && *count > 1 {
            // A name the program gave is the node's name or an error, never `name-2`.
            return Err(Error::usage(format!(
                "the name `{base}` of node {} is taken by another node of the graph; each \
                 node of a graph needs a name of its own",
                paths.len()
            )));
        }
        paths.push(
            if *count == 1 {
                base
            } else {
                format!("{base}-{count}")
            }
            .into_boxed_str(),
        );
    }
    Ok(paths)
}

fn graph_scope(node: &crate::graph::NodeData) -> String {
    node.scope
        .as_ref()
        .map(|scope| format!("{scope}."))
        .unwrap_or_default()
}
