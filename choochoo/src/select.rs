//! Names a program gives `force` and `clean`: a binding, a node's name in the store, a
//! station's id or function name (every node of that station), a sub-workflow's call
//! (`shop.base`: every station in it), or a map's item, `map[item]`.

use crate::error::Error;
use crate::execution::paths::NodePaths;
use crate::graph::node::NodeId;
use crate::graph::{Graph, Kind};

/// What a name given to `force` or `clean` stands for: station nodes, or items of maps.
pub(crate) enum Named {
    Nodes(Vec<NodeId>),
    /// Each map, and the node name of its item.
    Items(Vec<(NodeId, Box<str>)>),
}

/// What `name` stands for: the station nodes [`matching`] it, or, for `map[item]`, that item
/// of each map matching `map`. A map's item names are known only once its list is, so an
/// item that is not in the list is not an error; `map` must name maps.
pub(crate) fn select(graph: &Graph, paths: &NodePaths, name: &str) -> Result<Named, Error> {
    let Some((map, item)) = crate::report::split_item(name) else {
        return matching(graph, paths, name).map(Named::Nodes);
    };
    let maps = matching(graph, paths, map)?;
    if let Some(id) = maps.iter().find(|id| graph.node(**id).map().is_none()) {
        return Err(Error::usage(format!(
            "`{name}` names an item of `{map}`, but `{}` is not a map; name a map's item as \
             `map[item]` (`status --items` lists them)",
            &paths[id.index()]
        )));
    }
    Ok(Named::Items(
        maps.into_iter()
            .map(|id| {
                (
                    id,
                    crate::report::item_node(&paths[id.index()], item).into(),
                )
            })
            .collect(),
    ))
}

/// The station nodes a name stands for: a binding, a node name, a station's id or the name
/// of its function (which matches every node of that station), or a sub-workflow's call
/// (every station in it).
pub(crate) fn matching(graph: &Graph, paths: &NodePaths, name: &str) -> Result<Vec<NodeId>, Error> {
    let ids: Vec<NodeId> = graph
        .ids()
        .zip(&graph.nodes)
        .filter(|(id, node)| match &node.kind {
            Kind::Station { station, .. } => {
                node.label.as_deref() == Some(name)
                    || &paths[id.index()] == name
                    || station.id() == name
                    || station.id().rsplit("::").next() == Some(name)
                    || in_sub_workflow(node.scope(), name)
            }
            Kind::Input(_) => false,
        })
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        let hint = match similar(graph, paths, name).as_slice() {
            [] => String::new(),
            [one] => format!(" (did you mean `{one}`?)"),
            many => format!(" (did you mean one of `{}`?)", many.join("`, `")),
        };
        return Err(Error::usage(format!(
            "no station is named `{name}`{hint}; name a binding, a node, or a station's \
             function (`status` lists them)"
        )));
    }
    Ok(ids)
}

/// The names of the graph's stations closest to `name`, if any is close enough to be a
/// slip (an edit for every three characters, at least one), the closest first, at most
/// three: as rustc judges names.
fn similar(graph: &Graph, paths: &NodePaths, name: &str) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(1);
    let mut known: Vec<(usize, &str)> = graph
        .ids()
        .zip(&graph.nodes)
        .filter_map(|(id, node)| match &node.kind {
            Kind::Station { station, .. } => Some([
                node.label.as_deref(),
                Some(&paths[id.index()]),
                station.id().rsplit("::").next(),
            ]),
            Kind::Input(_) => None,
        })
        .flatten()
        .flatten()
        .map(|known| (distance(name, known), known))
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    known.sort_unstable();
    known.dedup_by(|a, b| a.1 == b.1);
    known
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_owned())
        .collect()
}

/// The edit distance between two names (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Whether a node of `scope` is inside the sub-workflow call `name` (`shop.base`), at any
/// depth: a workflow's own scope (`shop`) is not a call.
fn in_sub_workflow(scope: Option<&str>, name: &str) -> bool {
    let Some(scope) = scope else { return false };
    name.contains('.')
        && scope
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}
