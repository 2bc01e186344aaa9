//! A graph's nodes by level: an input is at level 0, a station one above the highest of its
//! sources. The nodes of one level depend on none of each other, so whatever is found for
//! each node from what was found for its sources can be found for a level all at once.

use crate::graph::edge::Edge;
use crate::graph::{Graph, Kind};

/// Every node's index, level after level (by index within a level), and where each level
/// ends in that list.
pub(super) struct Levels {
    pub(super) order: Vec<u32>,
    pub(super) ends: Vec<u32>,
}

impl Levels {
    /// The levels of `graph`, whose nodes all come after their sources.
    pub(super) fn of(graph: &Graph) -> Levels {
        Levels::from_sources(graph.nodes.iter().map(|node| {
            match &node.kind {
                Kind::Input(_) => &[][..],
                Kind::Station { inputs, .. } => inputs,
            }
            .iter()
            .flat_map(Edge::sources)
            .map(|source| source.index())
        }))
    }

    /// The levels of the nodes whose sources (earlier nodes' indices) `nodes` lists.
    fn from_sources<S: IntoIterator<Item = usize>>(nodes: impl Iterator<Item = S>) -> Levels {
        let mut level: Vec<usize> = Vec::with_capacity(nodes.size_hint().0);
        let mut counts: Vec<u32> = Vec::new();
        for sources in nodes {
            let at = sources
                .into_iter()
                .map(|source| level[source] + 1)
                .max()
                .unwrap_or(0);
            level.push(at);
            if counts.len() <= at {
                counts.resize(at + 1, 0);
            }
            counts[at] += 1;
        }
        let ends: Vec<u32> = counts
            .iter()
            .scan(0, |sum, count| {
                *sum += count;
                Some(*sum)
            })
            .collect();
        let mut fill: Vec<u32> = std::iter::once(0).chain(ends.iter().copied()).collect();
        let mut order = vec![0; level.len()];
        for (index, at) in level.into_iter().enumerate() {
            order[fill[at] as usize] = index as u32;
            fill[at] += 1;
        }
        Levels { order, ends }
    }

    /// Each level's node indices, lowest level first.
    pub(super) fn each(&self) -> impl Iterator<Item = &[u32]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.order[start as usize..end as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_one_level_above_its_highest_source() {
        let sources: [&[usize]; 6] = [&[], &[], &[0, 1], &[0, 2], &[1], &[3, 4]];
        let levels = Levels::from_sources(sources.iter().map(|s| s.iter().copied()));
        let each: Vec<&[u32]> = levels.each().collect();
        assert_eq!(each, [&[0u32, 1][..], &[2, 4], &[3], &[5]]);
    }
}
