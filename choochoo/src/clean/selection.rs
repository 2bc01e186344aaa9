//! Which stations a clean reaches: all of them, or the named ones, with or without what
//! depends on them. What reads a named station's output is cleaned with it, so nothing is
//! left standing on something that is gone (an app serving from a dropped database).

#[cfg(feature = "cli")]
use crate::error::Error;
#[cfg(feature = "cli")]
use crate::execution::Execution;
use crate::graph::node::NodeId;
#[cfg(feature = "cli")]
use crate::select::Named;
use std::collections::HashSet;

/// What to clean: every station and map item, or the named ones (a map named is cleaned
/// with its items).
pub(crate) enum Selection {
    All,
    #[cfg_attr(
        not(feature = "cli"),
        expect(dead_code, reason = "the command line's `clean NAME` names them")
    )]
    Only {
        /// By node index: a map with all its items.
        nodes: Vec<bool>,
        /// By node name, `map[item]`.
        items: HashSet<Box<str>>,
        /// By node index, the maps whose own record goes without their other items: the
        /// list a map gave its dependents is made of its items' outputs, so it goes when
        /// one of them is cleaned with what depends on it.
        lists: Vec<bool>,
    },
}

impl Selection {
    pub(super) fn node(&self, id: NodeId) -> bool {
        match self {
            Selection::All => true,
            Selection::Only { nodes, lists, .. } => nodes[id.index()] || lists[id.index()],
        }
    }

    pub(super) fn item(&self, map: NodeId, node: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only { nodes, items, .. } => nodes[map.index()] || items.contains(node),
        }
    }
}

/// Whether a clean of named stations also reaches what depends on them.
#[cfg(feature = "cli")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The named stations and every station downstream of them (with all the items of a
    /// map among them). A named item's dependents are its map's own record (not its other
    /// items) and what reads the map.
    Dependents,
    /// The named stations and items only.
    Only,
}

#[cfg(feature = "cli")]
impl Selection {
    /// The stations and items `names` stand for, as [`select`](crate::select::select) reads
    /// a name, and with [`Reach::Dependents`] everything downstream of them. A name that
    /// matches no station is an error.
    pub(crate) fn named(
        execution: &Execution<'_>,
        names: &[String],
        reach: Reach,
    ) -> Result<Selection, Error> {
        let graph = execution.graph;
        let mut nodes = vec![false; graph.nodes.len()];
        let mut items = HashSet::new();
        let mut lists = vec![false; graph.nodes.len()];
        let mut downstream = Vec::new();
        for name in names {
            match crate::select::select(graph, &execution.paths, name)? {
                Named::Nodes(ids) => {
                    for id in ids {
                        nodes[id.index()] = true;
                        downstream.extend_from_slice(execution.dependents_of(id));
                    }
                }
                Named::Items(named) => {
                    for (map, item) in named {
                        items.insert(item);
                        lists[map.index()] = reach == Reach::Dependents;
                        downstream.extend_from_slice(execution.dependents_of(map));
                    }
                }
            }
        }
        if reach == Reach::Dependents {
            mark_downstream(execution, downstream, &mut nodes);
        }
        Ok(Selection::Only {
            nodes,
            items,
            lists,
        })
    }
}

/// Marks the stations of `stack` and every station downstream of them.
#[cfg(feature = "cli")]
fn mark_downstream(execution: &Execution<'_>, mut stack: Vec<NodeId>, nodes: &mut [bool]) {
    let mut seen = vec![false; nodes.len()];
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut seen[id.index()], true) {
            nodes[id.index()] = true;
            stack.extend_from_slice(execution.dependents_of(id));
        }
    }
}
