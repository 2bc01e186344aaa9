//! Names a program gives `force` and `clean`: a binding, a node's name in the store, a
//! station's id or function name (every node of that station), a sub-workflow's call
//! (`shop.base`: every station in it), or a map's item, `map[item]`.

use crate::error::Error;
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
pub(crate) fn select(graph: &Graph, paths: &[Box<str>], name: &str) -> Result<Named, Error> {
    let Some((map, item)) = crate::report::split_item(name) else {
        return matching(graph, paths, name).map(Named::Nodes);
    };
    let maps = matching(graph, paths, map)?;
    if let Some(id) = maps.iter().find(|id| graph.node(**id).map.is_none()) {
        return Err(Error::usage(format!(
            "`{name}` names an item of `{map}`, but `{}` is not a map; name a map's item as \
             `map[item]` (`status --items` lists them)",
            paths[id.index()]
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
pub(crate) fn matching(
    graph: &Graph,
    paths: &[Box<str>],
    name: &str,
) -> Result<Vec<NodeId>, Error> {
    let ids: Vec<NodeId> = graph
        .ids()
        .zip(&graph.nodes)
        .filter(|(id, node)| match &node.kind {
            Kind::Station { station, .. } => {
                node.label.as_deref() == Some(name)
                    || &*paths[id.index()] == name
                    || station.id() == name
                    || station.id().rsplit("::").next() == Some(name)
                    || in_sub_workflow(node.scope.as_deref(), name)
            }
            Kind::Input(_) => false,
        })
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Err(Error::usage(format!(
            "no station is named `{name}`; name a binding, a node, or a station's function \
             (`status` lists them)"
        )));
    }
    Ok(ids)
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
