//! The graph: stations and constant inputs joined by typed edges. `workflow!` expands to
//! these builder calls, and a program can make them directly to build a large or generated
//! graph, still type-checked: a [`Node<T>`] only wires into an input of type `T`, and a
//! `Vec<Node<T>>` into an input of type `Vec<T>`.
//!
//! One file per part: `node` (a node's identity and its typed handle), `edge` (where an
//! input comes from, and the `Wire` and `Args` traits that make edges of a program's nodes),
//! `codec` (a node's value encoded without its type), `data` (what the graph keeps of a node), `map` (a station mapped over a list,
//! and `Split`), `erased` (a station as the runner sees it) and `check` (nodes of another
//! graph, and whether a graph can be run).

mod check;
pub(crate) mod codec;
pub(crate) mod data;
pub(crate) mod edge;
pub(crate) mod erased;
mod given;
pub(crate) mod map;
pub(crate) mod node;

use crate::station::Station;
use crate::value::{Shared, Value};
use codec::Codec;
use data::NodeData;
use edge::{Args, Edge};
use erased::ErasedStation;
use map::{MapSpec, Split};
use node::{GraphId, Node, NodeId};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A graph of stations under construction: the builder for generated graphs.
///
/// `workflow!` expands to it, and a program can use it directly for a graph it generates
/// (thousands of stations made in a loop), still type-checked.
///
/// [`input`](Graph::input) adds a constant, [`add`](Graph::add) a station fed by earlier
/// nodes, [`map`](Graph::map) a station called for each item of a list found at run time;
/// each returns the [`Node`] of its value. [`Runner::run_graph`](crate::Runner::run_graph)
/// runs every station of the graph and returns the value of the node asked for.
///
/// A builder node's name in the store, the report and `status` is made of its station and
/// a hash of where its inputs come from (`parse-868060d92935`) unless the program names it:
/// [`add_named`](Graph::add_named), [`input_named`](Graph::input_named),
/// [`map_named`](Graph::map_named) and [`map_named_by`](Graph::map_named_by) (which also
/// names the map's items) take the name first.
///
/// ```
/// use choochoo::{station, Graph, Node, Runner, Store};
///
/// #[station]
/// fn parse(text: &str) -> u64 {
///     text.trim().parse().unwrap_or(0)
/// }
///
/// #[station]
/// fn add(a: &u64, b: &u64) -> u64 {
///     a + b
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let mut graph = Graph::new();
/// let a: Node<String> = graph.input("40".to_owned());
/// let b = graph.input(" 2 ".to_owned());
/// let x = graph.add(Parse, (&a,)); // `Parse` is the station `#[station]` made of `parse`
/// let y = graph.add(Parse, (&b,));
/// let sum: Node<u64> = graph.add(Add, (&x, &y));
/// assert_eq!(graph.len(), 5);
///
/// let dir = std::env::temp_dir().join(format!("choochoo-graph-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let run = Runner::new(&store).run_graph(&graph, sum)?;
/// assert_eq!(*run.output(), 42);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
///
/// A node wires only into an input of its own type: `graph.add(Add, (&a, &b))` above, with
/// `a: Node<String>`, is a compile error naming both types.
///
/// Each graph has an identity of its own, and each [`Node`] knows the graph that made it. A
/// node wired into another graph ([`add`](Graph::add), [`map`](Graph::map)) or asked of
/// another graph's run ([`Runner::run_graph`](crate::Runner::run_graph)) is a usage error
/// naming both graphs. `add` and `map` still return a node, so a builder loop goes on; the
/// graph remembers the first such mistake, and running, planning, cleaning or drawing it
/// returns that error before anything runs or is written.
pub struct Graph {
    pub(crate) nodes: Vec<NodeData>,
    /// The workflow whose `workflow!` body is adding nodes, to name them in the store:
    /// `outer` or, inside a sub-workflow bound to `inner`, `outer.inner`.
    pub(crate) scope: Option<Arc<str>>,
    /// The scope of each sub-workflow called in the graph (`outer.inner`), and the
    /// workflow's name, for diagrams.
    pub(crate) sub_workflows: Vec<(Arc<str>, &'static str)>,
    /// This graph's identity, which every node it makes carries.
    id: GraphId,
    /// The first node of another graph that was wired into this one, said as an error.
    foreign: Option<String>,
    /// The names given with `add_named` and the like, each with its node's index.
    pub(crate) names: given::Given,
    /// The first name given that cannot be used (empty, taken, or with brackets), said as
    /// an error.
    pub(crate) misnamed: Option<String>,
    /// The one value of each station type without data (a unit struct, as `#[station]`
    /// makes), shared by all its nodes.
    units: foldhash::HashMap<std::any::TypeId, Arc<dyn ErasedStation>>,
}

pub(crate) enum Kind {
    /// A constant value given to the graph.
    Input(Shared),
    /// A station and where each of its inputs comes from.
    Station {
        station: Arc<dyn ErasedStation>,
        inputs: Box<[Edge]>,
    },
}

impl Default for Graph {
    fn default() -> Graph {
        Graph {
            nodes: Vec::new(),
            scope: None,
            sub_workflows: Vec::new(),
            id: GraphId::next(),
            foreign: None,
            names: given::Given::default(),
            misnamed: None,
            units: foldhash::HashMap::default(),
        }
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// The node at `index`.
    pub(crate) fn id_at(&self, index: usize) -> NodeId {
        NodeId {
            graph: self.id,
            index: index as u32,
        }
    }

    /// Every node, in the order they were added.
    pub(crate) fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len()).map(|index| self.id_at(index))
    }

    /// The node `id` names; every node wired into this graph is one of its own.
    pub(crate) fn node(&self, id: NodeId) -> &NodeData {
        &self.nodes[id.index()]
    }

    /// Adds a constant input: a parameter or a file the graph reads. Its identity is its
    /// content (for a [`File`](crate::File), the file's bytes).
    pub fn input<T: Value>(&mut self, value: T) -> Node<T> {
        self.push(None, Kind::Input(Arc::new(value)))
    }

    pub(crate) fn labeled_input<T: Value>(&mut self, label: &str, value: T) -> Node<T> {
        self.push(Some(label), Kind::Input(Arc::new(value)))
    }

    /// Adds a station fed by `args`, a tuple with one entry per input: a `&Node<T>` for an
    /// input of type `T`, or a `&Vec<Node<T>>` (or slice) for an input of type `Vec<T>`
    /// ([`Args`], [`Wire`]). The station is the struct `#[station]` generates: `WordCount`
    /// for `fn word_count`. A station without inputs takes `()`.
    ///
    /// ```
    /// use choochoo::{station, Graph};
    ///
    /// #[station]
    /// fn now() -> u64 { 7 }
    ///
    /// #[station]
    /// fn scale(x: &u64, factor: &u64) -> u64 { x * factor }
    ///
    /// let mut graph = Graph::new();
    /// let x = graph.add(Now, ());
    /// let factor = graph.input(6u64);
    /// let scaled = graph.add(Scale, (&x, &factor));
    /// # let _ = scaled;
    /// ```
    ///
    /// [`Wire`]: crate::Wire
    pub fn add<S: Station, A: Args<S::Input>>(&mut self, station: S, args: A) -> Node<S::Output> {
        let edges = args.edges();
        self.add_station(None, station, edges)
    }

    /// Makes station `node` hold a unit of each of `resources` while it runs, beyond those
    /// of its `#[station(resources = [...])]`: the builder's way to say which database or
    /// device a node uses, when it differs from node to node. A runner limits how many
    /// stations hold a resource at once with [`Runner::resource`](crate::Runner::resource).
    ///
    /// ```
    /// use choochoo::{station, Graph};
    ///
    /// #[station]
    /// fn migrate(region: &str) -> String { format!("{region}: schema 17") }
    ///
    /// let mut graph = Graph::new();
    /// for (region, db) in [("eu-1", "db-eu"), ("eu-2", "db-eu"), ("us-1", "db-us")] {
    ///     let region = graph.input(region.to_owned());
    ///     let migrated = graph.add(Migrate, (&region,));
    ///     graph.resources(&migrated, [db]); // one migration at a time on each database
    /// }
    /// ```
    ///
    /// A node of another graph is a usage error of this graph, as in [`add`](Graph::add).
    pub fn resources<T, I, S>(&mut self, node: &Node<T>, resources: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if node.id.graph != self.id {
            self.foreign.get_or_insert_with(|| {
                format!(
                    "{} is given resources in {}; a node takes resources only in the graph \
                     that made it",
                    node.id, self.id
                )
            });
            return;
        }
        let names = resources
            .into_iter()
            .map(|name| name.into().into_boxed_str());
        self.nodes[node.id.index()].add_resources(names);
    }

    /// How many nodes (stations and inputs) the graph has.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Maps a station over a list discovered at run time: `station` is called once per item
    /// of `list` (its first input), with `shared` (a tuple, as for [`add`](Graph::add)) as its
    /// other inputs. Each item is remembered on its own, so a new or changed item runs alone
    /// and reordering items runs nothing. The output lists the items' outputs in order.
    ///
    /// The items that must run start longest first, by how long each took the last time it
    /// ran (items never run before first, in the list's order), so a long item does not
    /// start last and keep the run waiting on one worker while the others are idle.
    ///
    /// ```
    /// use choochoo::{station, Graph, Runner, Store};
    ///
    /// /// The shards a query would find at run time.
    /// #[station]
    /// fn shards(count: &u64) -> Vec<u64> {
    ///     (0..*count).collect()
    /// }
    ///
    /// #[station]
    /// fn process(shard: &u64, factor: &u64) -> u64 {
    ///     shard * factor
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let mut graph = Graph::new();
    /// let count = graph.input(4u64);
    /// let factor = graph.input(10u64);
    /// let list = graph.add(Shards, (&count,));
    /// let results = graph.map(Process, &list, (&factor,)); // a Node<Vec<u64>>
    ///
    /// let dir = std::env::temp_dir().join(format!("choochoo-graph-map-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let run = Runner::new(&store).run_graph(&graph, results)?;
    /// assert_eq!(run.output(), &[0, 10, 20, 30]);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn map<S, A>(
        &mut self,
        station: S,
        list: &Node<Vec<<S::Input as Split>::First>>,
        shared: A,
    ) -> Node<Vec<S::Output>>
    where
        S: Station,
        S::Input: Split,
        A: Args<<S::Input as Split>::Rest>,
    {
        self.add_map(None, station, list, shared.edges())
    }

    pub(crate) fn add_map<S>(
        &mut self,
        label: Option<&str>,
        station: S,
        list: &Node<Vec<<S::Input as Split>::First>>,
        shared: Vec<Edge>,
    ) -> Node<Vec<S::Output>>
    where
        S: Station,
        S::Input: Split,
    {
        let mut inputs = vec![Edge::One(list.id)];
        inputs.extend(shared);
        let node = self.add_station_as::<S, Vec<S::Output>>(label, station, inputs);
        let spec = MapSpec::of::<<S::Input as Split>::First, S::Output>();
        self.nodes[node.id.index()].set_map(spec);
        node
    }

    pub(crate) fn add_station<S: Station>(
        &mut self,
        label: Option<&str>,
        station: S,
        inputs: Vec<Edge>,
    ) -> Node<S::Output> {
        self.add_station_as::<S, S::Output>(label, station, inputs)
    }

    /// Adds a station node whose value is a `T` (its output, or a map's list of outputs).
    fn add_station_as<S: Station, T: Value>(
        &mut self,
        label: Option<&str>,
        station: S,
        inputs: Vec<Edge>,
    ) -> Node<T> {
        let inputs = self.own_edges(&station, inputs);
        let kind = Kind::Station {
            station: self.shared(station),
            inputs: inputs.into_boxed_slice(),
        };
        self.push(label, kind)
    }

    /// The station as its node keeps it: a station without data is one value for all.
    fn shared<S: Station>(&mut self, station: S) -> Arc<dyn ErasedStation> {
        if size_of::<S>() != 0 {
            return Arc::new(station);
        }
        let shared = self.units.entry(std::any::TypeId::of::<S>());
        shared.or_insert_with(|| Arc::new(station)).clone()
    }

    fn push<T: Value>(&mut self, label: Option<&str>, kind: Kind) -> Node<T> {
        let index = u32::try_from(self.nodes.len()).expect("a graph holds at most 2^32 nodes");
        let id = NodeId {
            graph: self.id,
            index,
        };
        self.nodes.push(NodeData::new(
            label.map(Box::from),
            self.scope.clone(),
            kind,
            Codec::of::<T>(),
        ));
        Node {
            id,
            marker: PhantomData,
        }
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("id", &self.id.0)
            .field("nodes", &self.nodes.len())
            .finish()
    }
}
