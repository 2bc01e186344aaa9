//! The names a program gave a graph's nodes (`add_named` and the like), found by a hash of
//! the name: a large generated graph's names take a hash and an index each, the name itself
//! kept once, as the node's label.

use super::data::NodeData;
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

/// Each given name's node, by the name's hash; the name is the node's label.
#[derive(Default)]
pub(crate) struct Given {
    by_hash: foldhash::HashMap<u64, u32>,
    /// Names whose hash another given name had first.
    collided: foldhash::HashMap<Box<str>, u32>,
}

impl Given {
    /// The node given `name`, if any, among `nodes`.
    pub(crate) fn get(&self, nodes: &[NodeData], name: &str) -> Option<u32> {
        let first = *self.by_hash.get(&hash(name))?;
        match label(nodes, first) == Some(name) {
            true => Some(first),
            false => self.collided.get(name).copied(),
        }
    }

    /// Notes that node `index` was given `name`, which no node has yet.
    pub(crate) fn insert(&mut self, nodes: &[NodeData], name: &str, index: u32) {
        match self.by_hash.entry(hash(name)) {
            Entry::Occupied(first) if label(nodes, *first.get()) != Some(name) => {
                self.collided.insert(name.into(), index);
            }
            Entry::Occupied(mut first) => {
                first.insert(index);
            }
            Entry::Vacant(place) => {
                place.insert(index);
            }
        }
    }
}

fn label(nodes: &[NodeData], index: u32) -> Option<&str> {
    nodes.get(index as usize)?.label.as_deref()
}

fn hash(name: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0).hash_one(name)
}
