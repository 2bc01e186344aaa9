//! Each node's name in the store — its directory, head and lease — stable from run to run.

use crate::error::Error;
use crate::graph::edge::Edge;
use crate::graph::{Graph, Kind};
use crate::hash::Digest;
use std::collections::HashMap;
use std::fmt::Write;

/// Each station's name in the store, stable from run to run: `workflow/binding` for a
/// `workflow!` binding; the name the program gave a builder node (`add_named`); for another
/// builder node, the station's name and a hash of where its inputs come from (constants by
/// value, files by path), so editing a file keeps the name. A graph with a node of another
/// graph wired into it, or a name given twice, has no names: its error is returned.
pub(crate) fn node_paths(graph: &Graph) -> Result<NodePaths, Error> {
    graph.check(&[])?;
    let mut identities: Vec<Digest> = Vec::with_capacity(graph.nodes.len());
    let mut bases = NodePaths::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let (identity, base) = identity_and_base(node, &identities)?;
        identities.push(identity);
        bases.push(&base)?;
    }
    drop(identities);
    let counts = numbered(graph, &bases)?;
    let mut paths = NodePaths::with_capacity(graph.nodes.len());
    let mut numbered = String::new();
    for (base, count) in bases.iter().zip(counts) {
        match count {
            1 => paths.push(base)?,
            count => {
                numbered.clear();
                write!(numbered, "{base}-{count}").map_err(|_| Error::internal("a name"))?;
                paths.push(&numbered)?;
            }
        }
    }
    Ok(paths)
}

/// Every node's name in the store, by node index, in one buffer: a large graph's names
/// take their bytes and four more each, not an allocation each.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodePaths {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<u32>,
}

impl NodePaths {
    fn with_capacity(nodes: usize) -> NodePaths {
        NodePaths {
            text: String::with_capacity(nodes * 16),
            ends: Vec::with_capacity(nodes),
        }
    }

    fn push(&mut self, name: &str) -> Result<(), Error> {
        self.text.push_str(name);
        let end = u32::try_from(self.text.len())
            .map_err(|_| Error::usage("the graph's node names take more than 4 GiB"))?;
        self.ends.push(end);
        Ok(())
    }

    /// How many names there are: one per node.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Each node's name, in node order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|at| &self[at])
    }
}

impl std::ops::Index<usize> for NodePaths {
    type Output = str;

    fn index(&self, at: usize) -> &str {
        let start = at
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[at] as usize]
    }
}

/// A node's identity (what its name's hash is made of) and its name before numbering.
fn identity_and_base(
    node: &crate::graph::data::NodeData,
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
                (Some(label), _) if node.named() => label.to_string(),
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
fn numbered(graph: &Graph, bases: &NodePaths) -> Result<Vec<u32>, Error> {
    let mut taken: HashMap<&str, u32> = HashMap::with_capacity(bases.len());
    let mut counts = Vec::with_capacity(bases.len());
    for (at, (base, node)) in bases.iter().zip(&graph.nodes).enumerate() {
        let count = taken.entry(base).or_insert(0);
        *count += 1;
        if node.named() && *count > 1 {
            return Err(Error::usage(format!(
                "the name `{base}` of node {at} is taken by another node of the graph; each \
                 node of a graph needs a name of its own"
            )));
        }
        counts.push(*count);
    }
    Ok(counts)
}

fn graph_scope(node: &crate::graph::data::NodeData) -> String {
    node.scope()
        .map(|scope| format!("{scope}."))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_read_back_as_it_was_pushed() {
        let mut paths = NodePaths::default();
        for name in ["input", "", "mix-0123456789ab", "a.b[c]"] {
            paths.push(name).unwrap();
        }
        assert_eq!(paths.len(), 4);
        assert_eq!(&paths[2], "mix-0123456789ab");
        let names: Vec<&str> = paths.iter().collect();
        assert_eq!(names, ["input", "", "mix-0123456789ab", "a.b[c]"]);
    }
}
