//! What a graph keeps of each node: its label, its kind (a constant, or a station and its
//! edges) and its value's codec, and, boxed apart, what only some nodes have — a scope, a
//! map's spec, resources of its own. A generated graph of a million stations, named or not,
//! has none of those: each of its nodes is 64 bytes and its edges.

use super::Kind;
use super::codec::Codec;
use super::map::MapSpec;
use std::sync::Arc;

/// One node of a [`Graph`](super::Graph).
pub(crate) struct NodeData {
    pub(crate) label: Option<Box<str>>,
    pub(crate) kind: Kind,
    pub(crate) codec: &'static Codec,
    /// What only some nodes have; `None` when the node has none of it.
    rare: Option<Box<Rare>>,
}

/// What only some nodes have.
#[derive(Default)]
struct Rare {
    /// The workflow whose `workflow!` body added it.
    scope: Option<Arc<str>>,
    /// For a map node: how to split its list and gather its items' outputs.
    map: Option<MapSpec>,
    /// The resources given with [`Graph::resources`](super::Graph::resources), beyond its
    /// station's own.
    resources: Box<[Box<str>]>,
}

impl NodeData {
    /// A node of `kind` added in `scope`, with nothing else rare about it yet.
    pub(super) fn new(
        label: Option<Box<str>>,
        scope: Option<Arc<str>>,
        kind: Kind,
        codec: &'static Codec,
    ) -> NodeData {
        let rare = scope.map(|scope| {
            Box::new(Rare {
                scope: Some(scope),
                ..Rare::default()
            })
        });
        NodeData {
            label,
            kind,
            codec,
            rare,
        }
    }

    /// The workflow whose `workflow!` body added it (`outer` or `outer.inner`), if any.
    pub(crate) fn scope(&self) -> Option<&str> {
        self.rare.as_ref()?.scope.as_deref()
    }

    /// For a map node: how to split its list and gather its items' outputs.
    pub(crate) fn map(&self) -> Option<&MapSpec> {
        self.rare.as_ref()?.map.as_ref()
    }

    /// The resources given with [`Graph::resources`](super::Graph::resources).
    pub(crate) fn resources(&self) -> &[Box<str>] {
        self.rare.as_ref().map_or(&[], |rare| &rare.resources)
    }

    /// Gives it the name `name`: its whole name, outside any scope (the graph keeps which
    /// nodes have one, [`Graph::is_named`](super::Graph::is_named)).
    pub(crate) fn name(&mut self, name: &str) {
        self.label = Some(name.into());
        if let Some(rare) = &mut self.rare {
            rare.scope = None;
        }
    }

    /// Makes it a map node, splitting and gathering as `spec` says.
    pub(super) fn set_map(&mut self, spec: MapSpec) {
        self.rare_mut().map = Some(spec);
    }

    /// Its map's spec, to change it.
    pub(crate) fn map_mut(&mut self) -> Option<&mut MapSpec> {
        self.rare.as_mut()?.map.as_mut()
    }

    /// Adds `resources` to those it holds.
    pub(super) fn add_resources(&mut self, resources: impl Iterator<Item = Box<str>>) {
        let rare = self.rare_mut();
        let mut all = std::mem::take(&mut rare.resources).into_vec();
        all.extend(resources);
        rare.resources = all.into_boxed_slice();
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_with_nothing_rare_is_small() {
        assert!(size_of::<NodeData>() <= 64, "{}", size_of::<NodeData>());
    }
}
