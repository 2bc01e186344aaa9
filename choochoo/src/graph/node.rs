//! A node of a graph: its identity (`NodeId`, and the `GraphId` of the graph that made it)
//! and its typed handle, `Node<T>`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which graph a node belongs to: a number no other graph of this process has (until 2^32
/// graphs have been made).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GraphId(pub(super) u32);

impl GraphId {
    pub(super) fn next() -> GraphId {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        GraphId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for GraphId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "graph #{}", self.0)
    }
}

/// A node's identity: its index among its graph's nodes, and that graph.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId {
    pub(super) graph: GraphId,
    pub(super) index: u32,
}

impl NodeId {
    /// The node's index among its graph's nodes.
    pub(crate) fn index(self) -> usize {
        self.index as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {} of {}", self.index, self.graph)
    }
}

/// A typed handle to a node of a [`Graph`]: the value of type `T` it will hold.
///
/// It is a small `Copy` index, only meaningful in the graph that made it.
///
/// A `&Node<T>` feeds a station input of type `T`, and a `Vec<Node<T>>` (or a slice of
/// them) an input of type `Vec<T>`, collecting the values in order:
///
/// ```
/// use choochoo::{station, Graph, Node, Runner, Store};
///
/// #[station]
/// fn letters(word: &str) -> usize {
///     word.len()
/// }
///
/// #[station]
/// fn total(counts: &[usize]) -> usize {
///     counts.iter().sum()
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let mut graph = Graph::new();
/// let words: Vec<Node<String>> =
///     ["fail", "fix", "run"].iter().map(|w| graph.input(w.to_string())).collect();
/// let counts: Vec<Node<usize>> = words.iter().map(|w| graph.add(Letters, (w,))).collect();
/// let sum: Node<usize> = graph.add(Total, (&counts,));
///
/// let dir = std::env::temp_dir().join(format!("choochoo-node-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// assert_eq!(*Runner::new(&store).run_graph(&graph, sum)?.output(), 10);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
///
/// [`Graph`]: crate::Graph
pub struct Node<T> {
    pub(crate) id: NodeId,
    pub(super) marker: PhantomData<fn() -> T>,
}

impl<T> Node<T> {
    /// The typed handle of node `id`, whose value the caller knows to be a `T`.
    pub(crate) fn of_id(id: NodeId) -> Node<T> {
        Node {
            id,
            marker: PhantomData,
        }
    }
}

impl<T> Clone for Node<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Node<T> {}

impl<T> fmt::Debug for Node<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node<{}>({})", std::any::type_name::<T>(), self.id)
    }
}
