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
    let mut bases: Vec<String> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let (identity, base) = identity_and_base(node, &identities)?;
        identities.push(identity);
        bases.push(base);
    }
    drop(identities);
    let counts = numbered(graph, &bases)?;
    Ok(bases
        .into_iter()
        .zip(counts)
        .map(|(base, count)| match count {
            1 => base.into_boxed_str(),
            count => format!("{base}-{count}").into_boxed_str(),
        })
        .collect())
}

/// A node's identity (what its name's hash is made of) and its name before numbering.
fn identity_and_base(
    node: &crate::graph::NodeData,
    identities: &[Digest],
) -> Result<(Digest, String), Error> {
    Ok(match &node.kind {
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
                    let mut base = String::with_capacity(name.len() + 13);
                    base.push_str(name);
                    base.push('-');
                    identity.push_hex(&mut base, 6);
                    base
                }
            };
            (identity, base)
        }
    })
}

/// Which of the nodes of its name each node is (1 for the first): the second of a name is
/// `name-2`. A name the program gave is the node's name or an error, never `name-2`.
fn numbered(graph: &Graph, bases: &[String]) -> Result<Vec<u32>, Error> {
    let mut taken: HashMap<&str, u32> = HashMap::with_capacity(bases.len());
    let mut counts = Vec::with_capacity(bases.len());
    for (at, (base, node)) in bases.iter().zip(&graph.nodes).enumerate() {
        let count = taken.entry(base.as_str()).or_insert(0);
        *count += 1;
        if node.named && *count > 1 {
            return Err(Error::usage(format!(
                "the name `{base}` of node {at} is taken by another node of the graph; each \
                 node of a graph needs a name of its own"
            )));
        }
        counts.push(*count);
    }
    Ok(counts)
}

fn graph_scope(node: &crate::graph::NodeData) -> String {
    node.scope
        .as_ref()
        .map(|scope| format!("{scope}."))
        .unwrap_or_default()
}
