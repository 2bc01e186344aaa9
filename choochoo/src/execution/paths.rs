//! Each node's name in the store — its directory, head and lease — stable from run to run.

use super::ahead::LOOK_AHEAD_BELOW;
use super::levels::Levels;
use crate::error::Error;
use crate::graph::edge::Edge;
use crate::graph::{Graph, Kind};
use crate::hash::Digest;
use rayon::prelude::*;
use std::borrow::Cow;

/// Each station's name in the store, stable from run to run: `workflow/binding` for a
/// `workflow!` binding; the name the program gave a builder node (`add_named`); for another
/// builder node, the station's name and a hash of where its inputs come from (constants by
/// value, files by path), so editing a file keeps the name. A graph with a node of another
/// graph wired into it, or a name given twice, has no names: its error is returned.
pub(crate) fn node_paths(graph: &Graph) -> Result<NodePaths, Error> {
    Ok(names(graph, false)?.paths)
}

/// The graph's node names, and with `contents`, the content hash of each constant input
/// some name is made of whose encoding holds no secret and names no file: its name was
/// found from the same encoding, so a run need not encode it again.
pub(crate) struct Names {
    pub(crate) paths: NodePaths,
    pub(crate) contents: Vec<Option<Digest>>,
}

/// [`node_paths`], and with `contents` the content hashes [`Names`] describes. A graph of
/// [`LOOK_AHEAD_BELOW`] nodes or more named on a pool thread is named level by level, the
/// nodes of a level side by side on the pool.
pub(crate) fn names(graph: &Graph, contents: bool) -> Result<Names, Error> {
    graph.check(&[])?;
    let n = graph.nodes.len();
    let side_by_side = n >= LOOK_AHEAD_BELOW && rayon::current_thread_index().is_some();
    let needed = identities_needed(graph);
    let some = needed.contains(&true);
    let mut identities = vec![Digest::from_bytes([0; 32]); if some { n } else { 0 }];
    let mut bases: Vec<Option<Cow<'_, str>>> = vec![None; n];
    let mut hashes: Vec<Option<Digest>> = vec![None; if contents && some { n } else { 0 }];
    if !some {
        // Every name is given, or made of no identity: each node's is found alone, and no
        // constant is encoded.
        for (index, node) in graph.nodes.iter().enumerate() {
            bases[index] = found(node, graph.is_named(index as u32), &[], false, false)?.base;
        }
    }
    let levels = some.then(|| Levels::of(graph));
    for level in levels.iter().flat_map(Levels::each) {
        let find = |&index: &u32| {
            let index = index as usize;
            let named = graph.is_named(index as u32);
            found(
                &graph.nodes[index],
                named,
                &identities,
                needed[index],
                contents,
            )
        };
        let level_found: Vec<Result<Found<'_>, Error>> = match side_by_side {
            true => level.par_iter().map(find).collect(),
            false => level.iter().map(find).collect(),
        };
        for (&index, one) in level.iter().zip(level_found) {
            let (index, one) = (index as usize, one?);
            identities[index] = one.identity;
            bases[index] = one.base;
            if contents {
                hashes[index] = one.content;
            }
        }
    }
    let mut texts = NodePaths::with_capacity(n);
    let mut hashed = String::new();
    for (at, (node, base)) in graph.nodes.iter().zip(bases).enumerate() {
        match base {
            Some(base) => texts.push(&base)?,
            // A station the program named not: its identity was needed.
            None => {
                let identity = identities
                    .get(at)
                    .ok_or_else(|| Error::internal("an identity"))?;
                hashed.clear();
                hashed_name(node, identity, &mut hashed);
                texts.push(&hashed)?;
            }
        }
    }
    drop(identities);
    Ok(Names {
        paths: numbered(graph, texts)?,
        contents: hashes,
    })
}

/// Which nodes' identities a name is made of: a station's the program named not (its name
/// hashes it), and the sources' of each node whose identity is needed. A graph whose
/// stations all have names hashes no identity. Sources come before the nodes reading them,
/// so one pass from the last node back finds them all.
fn identities_needed(graph: &Graph) -> Vec<bool> {
    let mut needed = vec![false; graph.nodes.len()];
    for (at, node) in graph.nodes.iter().enumerate().rev() {
        let Kind::Station { inputs, .. } = &node.kind else {
            continue;
        };
        if node.label.is_none() {
            needed[at] = true;
        }
        if needed[at] {
            for source in inputs.iter().flat_map(Edge::sources) {
                needed[source.index()] = true;
            }
        }
    }
    needed
}

/// What is found of one node: its identity (what its name's hash is made of), its name
/// before numbering (none: the station's name and its identity's hash), and for a
/// constant, its content hash when it can be had.
struct Found<'g> {
    identity: Digest,
    base: Option<Cow<'g, str>>,
    content: Option<Digest>,
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

/// What is found of `node` (`named`: by the program) from its sources' `identities`: its
/// identity when `needed` (else zeros, read by no one); with `contents`, the content hash
/// of a constant whose identity is needed, from the same encoding, when it holds no secret
/// and names no file.
fn found<'g>(
    node: &'g crate::graph::data::NodeData,
    named: bool,
    identities: &[Digest],
    needed: bool,
    contents: bool,
) -> Result<Found<'g>, Error> {
    let unneeded = Digest::from_bytes([0; 32]);
    Ok(match &node.kind {
        // A constant no name is made of is encoded by the run, on the pool, when a key
        // needs it.
        Kind::Input(_) if !needed => Found {
            identity: unneeded,
            base: Some(Cow::Borrowed(node.label.as_deref().unwrap_or("input"))),
            content: None,
        },
        Kind::Input(value) => {
            // A secret is named by a mark, so rotating it keeps the name.
            let (encoded, secret) = crate::secret::context::named(|| (node.codec.encode)(&**value));
            let (encoded, paths) = encoded?;
            Found {
                identity: Digest::of(&encoded),
                base: Some(Cow::Borrowed(node.label.as_deref().unwrap_or("input"))),
                content: (contents && !secret && paths.is_empty())
                    .then(|| crate::memo::content(&encoded, Vec::new()).digest),
            }
        }
        Kind::Station { station, inputs } => {
            let identity = needed.then(|| {
                let mut hasher = crate::hash::Hasher::new("choochoo/node");
                hasher.field("station", station.id().as_bytes());
                for source in inputs.iter().flat_map(Edge::sources) {
                    hasher.digest("source", &identities[source.index()]);
                }
                hasher.finish()
            });
            let base = match (&node.label, graph_scope(node)) {
                (Some(label), _) if named => Some(Cow::Borrowed(&**label)),
                (Some(label), scope) => Some(Cow::Owned(format!("{scope}{label}"))),
                (None, _) => None,
            };
            Found {
                identity: identity.unwrap_or(unneeded),
                base,
                content: None,
            }
        }
    })
}

/// The name of a station the program named not: its station's name and a short hash of its
/// identity.
fn hashed_name(node: &crate::graph::data::NodeData, identity: &Digest, out: &mut String) {
    let name = match &node.kind {
        Kind::Station { station, .. } => station.id().rsplit("::").next().unwrap_or("station"),
        Kind::Input(_) => "input",
    };
    out.push_str(name);
    out.push('-');
    identity.push_hex(out, 6);
}

/// Each node's name: its base, numbered when another node before it has the same (the
/// second of a name is `name-2`). A name the program gave is the node's name or an error,
/// never `name-2`.
fn numbered(graph: &Graph, bases: NodePaths) -> Result<NodePaths, Error> {
    let mut taken: foldhash::HashMap<&str, u32> =
        foldhash::HashMap::with_capacity_and_hasher(bases.len(), Default::default());
    // The commonest name, an unnamed constant's, is counted apart from the map.
    let mut inputs = 0;
    let mut counts = Vec::with_capacity(bases.len());
    for (at, base) in bases.iter().enumerate() {
        let count = match base {
            "input" => &mut inputs,
            base => taken.entry(base).or_insert(0),
        };
        *count += 1;
        if *count > 1 && graph.is_named(at as u32) {
            return Err(Error::usage(format!(
                "the name `{base}` of node {at} is taken by another node of the graph; each \
                 node of a graph needs a name of its own"
            )));
        }
        counts.push(*count);
    }
    drop(taken);
    if counts.iter().all(|&count| count == 1) {
        return Ok(bases);
    }
    let mut paths = NodePaths::with_capacity(bases.len());
    let mut numbered = String::new();
    for (base, count) in bases.iter().zip(counts) {
        match count {
            1 => paths.push(base)?,
            count => {
                numbered.clear();
                numbered.push_str(base);
                numbered.push('-');
                push_number(&mut numbered, count);
                paths.push(&numbered)?;
            }
        }
    }
    Ok(paths)
}

/// Appends `n` in decimal (what `write!` would, without its formatting machinery).
fn push_number(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&digit| char::from(digit)));
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

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for n in [0, 1, 2, 9, 10, 99, 100, 10_001, u32::MAX] {
            let mut out = String::from("input-");
            push_number(&mut out, n);
            assert_eq!(out, format!("input-{n}"));
        }
    }
}
