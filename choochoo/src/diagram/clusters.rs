//! Sub-workflows drawn as clusters: the nodes a `workflow!` called from another one added
//! (named `outer.inner.binding`) are drawn inside a box labelled `inner: workflow`, nested
//! as the calls are. DOT draws them as `subgraph cluster_…`, Mermaid as `subgraph … end`.

use super::Diagram;
use crate::graph::Graph;

/// One sub-workflow's box.
#[derive(Clone, Debug)]
pub(super) struct Cluster {
    /// Its scope, `outer.inner`: the names of its nodes start with it.
    pub(super) path: String,
    /// `inner: workflow`, the caller's binding and the workflow's name.
    pub(super) label: String,
    /// The shapes directly inside it.
    pub(super) members: Vec<usize>,
    /// The cluster it is inside, if any.
    pub(super) parent: Option<usize>,
}

/// The clusters of `graph`'s sub-workflows, each shape placed by its node's scope
/// (`scopes[shape]`).
pub(super) fn clusters(graph: &Graph, scopes: &[Option<&str>]) -> Vec<Cluster> {
    let mut clusters: Vec<Cluster> = graph
        .sub_workflows
        .iter()
        .map(|(scope, name)| Cluster {
            path: scope.to_string(),
            label: format!("{}: {name}", scope.rsplit('.').next().unwrap_or(scope)),
            members: Vec::new(),
            parent: None,
        })
        .collect();
    for index in 0..clusters.len() {
        let path = &clusters[index].path;
        let parent = path.rfind('.').map(|dot| &path[..dot]);
        clusters[index].parent = parent.and_then(|parent| find(&clusters, parent));
    }
    for (shape, scope) in scopes.iter().enumerate() {
        if let Some(cluster) = scope.and_then(|scope| find(&clusters, scope)) {
            clusters[cluster].members.push(shape);
        }
    }
    clusters
}

fn find(clusters: &[Cluster], path: &str) -> Option<usize> {
    clusters.iter().position(|cluster| cluster.path == path)
}

impl Diagram {
    /// The shapes in no cluster, in order.
    pub(super) fn loose(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.shapes.len()).filter(|shape| {
            !self
                .clusters
                .iter()
                .any(|cluster| cluster.members.contains(shape))
        })
    }

    /// The clusters directly inside cluster `parent` (`None`: the diagram itself).
    pub(super) fn inside(&self, parent: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        (0..self.clusters.len()).filter(move |&cluster| self.clusters[cluster].parent == parent)
    }
}
