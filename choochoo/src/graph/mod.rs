//! The graph: stations and constant inputs joined by typed edges. `workflow!` expands to
//! these builder calls, and a program can make them directly to build a large or generated
//! graph, still type-checked: a [`Node<T>`] only wires into an input of type `T`, and a
//! `Vec<Node<T>>` into an input of type `Vec<T>`.

use crate::error::Error;
use crate::hash::Digest;
use crate::station::{BoxError, Ctx, Inputs, Station};
use crate::value::{self, Shared, Value};
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

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
    /// The workflow whose `workflow!` body is adding nodes, to name them in the store.
    pub(crate) scope: Option<&'static str>,
    /// This graph's identity, which every node it makes carries.
    id: GraphId,
    /// The first node of another graph that was wired into this one, said as an error.
    foreign: Option<String>,
    /// The names given with `add_named` and the like, each with its node's index.
    pub(crate) names: std::collections::HashMap<Box<str>, u32>,
    /// The first name given that cannot be used (empty, taken, or with brackets), said as
    /// an error.
    pub(crate) misnamed: Option<String>,
}

/// Which graph a node belongs to: a number no other graph of this process has (until 2^32
/// graphs have been made).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GraphId(u32);

impl GraphId {
    fn next() -> GraphId {
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
    graph: GraphId,
    index: u32,
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
pub struct Node<T> {
    pub(crate) id: NodeId,
    marker: PhantomData<fn() -> T>,
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

pub(crate) struct NodeData {
    pub(crate) label: Option<Box<str>>,
    pub(crate) scope: Option<&'static str>,
    /// Whether `label` is a name the program gave (`add_named`): the node's whole name.
    pub(crate) named: bool,
    pub(crate) kind: Kind,
    pub(crate) codec: Codec,
    /// For a map node: how to split its list and gather its items' outputs.
    pub(crate) map: Option<Box<MapSpec>>,
}

/// A station mapped over a list: input 0 of the node is the list, the others are shared by
/// every item. Each item is its own memo entry.
pub(crate) struct MapSpec {
    /// Splits the list (a `Vec<T>`) into its items.
    pub(crate) items: fn(&(dyn Any + Send + Sync)) -> Result<Vec<Shared>, Error>,
    /// Builds the `Vec<O>` output from the items' outputs, in order.
    pub(crate) gather: fn(Vec<Shared>) -> Result<Shared, Error>,
    /// The codec of one item (`T`) and of one item's output (`O`).
    pub(crate) item: Codec,
    pub(crate) output: Codec,
    /// Names an item when the program names them ([`Graph::map_named_by`]); else an item is
    /// named by the path of its first file, or by its hash.
    pub(crate) namer: Option<Box<Namer>>,
}

/// A program's function naming the items of a map, on an item whose type is erased; `None`
/// when the item is not of its type.
pub(crate) type Namer = dyn Fn(&(dyn Any + Send + Sync)) -> Option<String> + Send + Sync;

impl MapSpec {
    fn of<T: Value, O: Value>() -> MapSpec {
        MapSpec {
            items: |list| {
                let list = list
                    .downcast_ref::<Vec<T>>()
                    .ok_or_else(|| Error::internal("a map's list has another type"))?;
                list.iter()
                    .map(|item| {
                        value::copy(item)
                            .map(|item| Arc::new(item) as Shared)
                            .map_err(|error| Error::encoding(std::any::type_name::<T>(), error))
                    })
                    .collect()
            },
            gather: |outputs| {
                let outputs = outputs
                    .into_iter()
                    .map(value::take::<O>)
                    .collect::<Result<Vec<O>, Error>>()?;
                Ok(Arc::new(outputs))
            },
            item: Codec::of::<T>(),
            output: Codec::of::<O>(),
            namer: None,
        }
    }
}

/// A station's input tuple split into its first input and the rest, for maps.
///
/// [`Graph::map`] and `map(...)` in `workflow!` go over a list of the first input's type and
/// give the rest to every item.
///
/// Implemented by choochoo for every input tuple with at least one input; there is nothing
/// to implement by hand. For a station `fn f(item: &A, b: &B, c: &C)`, `First` is `A` and
/// `Rest` is `(B, C)`.
pub trait Split: Inputs {
    /// The first input's type.
    type First: Value;
    /// The other inputs.
    type Rest: Inputs;
}

macro_rules! split {
    ($( ($first:ident $(, $rest:ident)*); )*) => { $(
        impl<$first: Value $(, $rest: Value)*> Split for ($first, $($rest,)*) {
            type First = $first;
            type Rest = ($($rest,)*);
        }
    )* };
}

split! {
    (A);
    (A, B);
    (A, B, C);
    (A, B, C, D);
    (A, B, C, D, E);
    (A, B, C, D, E, F);
    (A, B, C, D, E, F, G);
    (A, B, C, D, E, F, G, H);
    (A, B, C, D, E, F, G, H, I);
    (A, B, C, D, E, F, G, H, I, J);
    (A, B, C, D, E, F, G, H, I, J, K);
    (A, B, C, D, E, F, G, H, I, J, K, L);
}

/// How to encode and decode the value of one node, whose type the runner does not know.
#[derive(Clone, Copy)]
pub(crate) struct Codec {
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) encode: fn(&(dyn Any + Send + Sync)) -> Result<value::Encoded, Error>,
    pub(crate) decode: fn(&[u8]) -> Result<Shared, Error>,
    /// The value as JSON, for people: plans name changed fields, cleans keep the evidence.
    pub(crate) to_json: fn(&(dyn Any + Send + Sync)) -> Option<serde_json::Value>,
}

impl Codec {
    pub(crate) fn of<T: Value>() -> Codec {
        Codec {
            type_name: std::any::type_name::<T>,
            encode: |value| {
                let value = value
                    .downcast_ref::<T>()
                    .ok_or_else(|| Error::internal("a node holds a value of another type"))?;
                value::encode_with_paths(value)
                    .map_err(|error| Error::encoding(std::any::type_name::<T>(), error))
            },
            to_json: |value| {
                value
                    .downcast_ref::<T>()
                    .and_then(|value| serde_json::to_value(value).ok())
            },
            decode: |bytes| {
                value::decode::<T>(bytes)
                    .map(|value| Arc::new(value) as Shared)
                    .map_err(|error| Error::encoding(std::any::type_name::<T>(), error))
            },
        }
    }
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

/// Where one input of a station comes from.
#[doc(hidden)]
pub enum Edge {
    /// The value of one node.
    One(NodeId),
    /// The values of several nodes, collected into a `Vec`.
    Many(Box<[NodeId]>, Collect),
}

/// Builds the `Vec<T>` of a fan-in edge from the values of its nodes.
#[doc(hidden)]
pub(crate) type Collect =
    fn(&[&(dyn Any + Send + Sync)]) -> Result<Box<dyn Any + Send + Sync>, Error>;

impl fmt::Debug for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edge::One(id) => write!(f, "One({id})"),
            Edge::Many(ids, _) => write!(f, "Many({ids:?})"),
        }
    }
}

impl Edge {
    pub(crate) fn sources(&self) -> &[NodeId] {
        match self {
            Edge::One(id) => std::slice::from_ref(id),
            Edge::Many(ids, _) => ids,
        }
    }
}

impl Default for Graph {
    fn default() -> Graph {
        Graph {
            nodes: Vec::new(),
            scope: None,
            id: GraphId::next(),
            foreign: None,
            names: std::collections::HashMap::new(),
            misnamed: None,
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

    /// Whether the graph can be run for `outputs`: no node of another graph was wired into
    /// it, and each output is a node of its own.
    pub(crate) fn check(&self, outputs: &[NodeId]) -> Result<(), Error> {
        if let Some(mistake) = self.foreign.as_ref().or(self.misnamed.as_ref()) {
            return Err(Error::usage(mistake.clone()));
        }
        match outputs.iter().find(|output| output.graph != self.id) {
            Some(output) => Err(Error::usage(format!(
                "the output {output} is not a node of {}, the graph being run; ask for a node \
                 of the graph given to `run_graph`",
                self.id
            ))),
            None => Ok(()),
        }
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
    pub fn add<S: Station, A: Args<S::Input>>(&mut self, station: S, args: A) -> Node<S::Output> {
        let edges = args.edges();
        self.add_station(None, station, edges)
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
        self.nodes[node.id.index()].map = Some(Box::new(spec));
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
            station: Arc::new(station),
            inputs: inputs.into_boxed_slice(),
        };
        self.push(label, kind)
    }

    /// `inputs`, if every node they name is of this graph. Else the first node of another
    /// graph is remembered as the error of the graph, and the station is added without
    /// inputs: a graph with that error never runs.
    fn own_edges<S: Station>(&mut self, station: &S, inputs: Vec<Edge>) -> Vec<Edge> {
        let foreign = inputs.iter().enumerate().find_map(|(input, edge)| {
            let source = edge.sources().iter().find(|id| id.graph != self.id)?;
            Some((input, *source))
        });
        let Some((input, source)) = foreign else {
            return inputs;
        };
        if self.foreign.is_none() {
            let input = match Station::input_names(station).get(input) {
                Some(name) => format!("`{name}`"),
                None => format!("#{}", input + 1),
            };
            self.foreign = Some(format!(
                "the input {input} of `{}` is wired to {source}, but the station is added to \
                 {}; a node wires only into the graph that made it",
                Station::name(station),
                self.id
            ));
        }
        Vec::new()
    }

    fn push<T: Value>(&mut self, label: Option<&str>, kind: Kind) -> Node<T> {
        let index = u32::try_from(self.nodes.len()).expect("a graph holds at most 2^32 nodes");
        let id = NodeId {
            graph: self.id,
            index,
        };
        self.nodes.push(NodeData {
            label: label.map(Box::from),
            scope: self.scope,
            named: false,
            kind,
            codec: Codec::of::<T>(),
            map: None,
        });
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

/// Something that can feed a station input of type `T`.
///
/// A `Node<T>` (or `&Node<T>`) for an input of type `T`, and a `Vec<Node<T>>` (or
/// `&Vec<Node<T>>`, or `&[Node<T>]`) for an input of type `Vec<T>`, whose value collects the
/// nodes' values in order.
///
/// Implemented by choochoo for exactly these; there is nothing to implement by hand. It
/// appears in error messages when an argument of [`Graph::add`] or of a `workflow!` call has
/// the wrong type.
#[diagnostic::on_unimplemented(
    message = "mismatched station input: expected `{T}`, found `{Self}`",
    label = "this argument does not give a `{T}`",
    note = "an input `&T` takes a workflow parameter or binding of type `T` (of type `String` for `&str`, `Vec<T>` for `&[T]`, `PathBuf` for `&Path`); in a `Graph`, a `&Node<T>`, or a `&Vec<Node<T>>` for an input `Vec<T>`"
)]
pub trait Wire<T> {
    #[doc(hidden)]
    fn edge(self) -> Edge;
}

// The impls are left out of messages: a mismatch says what the input expected and what the
// argument gave, not which other types would have fit.
#[diagnostic::do_not_recommend]
impl<T: Value> Wire<T> for &Node<T> {
    fn edge(self) -> Edge {
        Edge::One(self.id)
    }
}

#[diagnostic::do_not_recommend]
impl<T: Value> Wire<T> for Node<T> {
    fn edge(self) -> Edge {
        Edge::One(self.id)
    }
}

#[diagnostic::do_not_recommend]
impl<T: Value> Wire<Vec<T>> for &[Node<T>] {
    fn edge(self) -> Edge {
        Edge::Many(self.iter().map(|node| node.id).collect(), collect::<T>)
    }
}

#[diagnostic::do_not_recommend]
impl<T: Value> Wire<Vec<T>> for &Vec<Node<T>> {
    fn edge(self) -> Edge {
        Wire::<Vec<T>>::edge(self.as_slice())
    }
}

#[diagnostic::do_not_recommend]
impl<T: Value> Wire<Vec<T>> for Vec<Node<T>> {
    fn edge(self) -> Edge {
        Wire::<Vec<T>>::edge(self.as_slice())
    }
}

fn collect<T: Value>(
    values: &[&(dyn Any + Send + Sync)],
) -> Result<Box<dyn Any + Send + Sync>, Error> {
    let items = values
        .iter()
        .map(|value| {
            let value = value
                .downcast_ref::<T>()
                .ok_or_else(|| Error::internal("fan-in element of the wrong type"))?;
            value::copy(value).map_err(|error| Error::encoding(std::any::type_name::<T>(), error))
        })
        .collect::<Result<Vec<T>, Error>>()?;
    Ok(Box::new(items))
}

/// The arguments of [`Graph::add`]: a tuple with one [`Wire`] per station input.
///
/// `I` is the station's input tuple ([`Station::Input`](crate::Station::Input)).
///
/// Implemented by choochoo for tuples of up to twelve wires; there is nothing to implement
/// by hand. It appears in error messages when a call has too few or too many arguments.
#[diagnostic::on_unimplemented(
    message = "these arguments do not fit the station's inputs: expected one argument for each input of `{I}`, found `{Self}`",
    label = "arguments for the inputs `{I}`",
    note = "an input `T` takes a `&Node<T>`, and an input `Vec<T>` a `&Vec<Node<T>>`"
)]
pub trait Args<I: Inputs> {
    #[doc(hidden)]
    fn edges(self) -> Vec<Edge>;
}

macro_rules! args {
    ($( ( $( $w:ident $t:ident ),* ); )*) => { $(
        // Reported as a whole, with both tuples, rather than as the impls that did not fit.
        #[diagnostic::do_not_recommend]
        impl<$($t: Value,)* $($w: Wire<$t>,)*> Args<($($t,)*)> for ($($w,)*) {
            #[allow(non_snake_case)]
            fn edges(self) -> Vec<Edge> {
                let ($($w,)*) = self;
                vec![$($w.edge()),*]
            }
        }
    )* };
}

args! {
    ();
    (WA A);
    (WA A, WB B);
    (WA A, WB B, WC C);
    (WA A, WB B, WC C, WD D);
    (WA A, WB B, WC C, WD D, WE E);
    (WA A, WB B, WC C, WD D, WE E, WF F);
    (WA A, WB B, WC C, WD D, WE E, WF F, WG G);
    (WA A, WB B, WC C, WD D, WE E, WF F, WG G, WH H);
    (WA A, WB B, WC C, WD D, WE E, WF F, WG G, WH H, WI I);
    (WA A, WB B, WC C, WD D, WE E, WF F, WG G, WH H, WI I, WJ J);
    (WA A, WB B, WC C, WD D, WE E, WF F, WG G, WH H, WI I, WJ J, WK K);
    (WA A, WB B, WC C, WD D, WE E, WF F, WG G, WH H, WI I, WJ J, WK K, WL L);
}

/// A station with its types erased, as the runner sees it.
pub(crate) trait ErasedStation: Send + Sync {
    fn id(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn fingerprint(&self) -> Digest;
    fn input_names(&self) -> &'static [&'static str];
    fn run(&self, ctx: &Ctx, inputs: &[&(dyn Any + Send + Sync)]) -> Result<Shared, BoxError>;
    fn has_check(&self) -> bool;
    fn check(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<bool, BoxError>;
    fn has_clean(&self) -> bool;
    fn clean(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<(), BoxError>;
    fn policy(&self) -> Policy;
}

/// How a station's attempts are made: retries after transient errors, and a time limit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) retries: u32,
    pub(crate) backoff: std::time::Duration,
    pub(crate) timeout: Option<std::time::Duration>,
}

const WRONG_TYPE: &str = "internal error: a station input has the wrong type";

impl<S: Station> ErasedStation for S {
    fn id(&self) -> &'static str {
        Station::id(self)
    }

    fn name(&self) -> &'static str {
        Station::name(self)
    }

    fn fingerprint(&self) -> Digest {
        Station::fingerprint(self)
    }

    fn input_names(&self) -> &'static [&'static str] {
        Station::input_names(self)
    }

    fn run(&self, ctx: &Ctx, inputs: &[&(dyn Any + Send + Sync)]) -> Result<Shared, BoxError> {
        let refs = S::Input::refs(inputs).ok_or(WRONG_TYPE)?;
        let output = Station::run(self, ctx, refs)?;
        Ok(Arc::new(output))
    }

    fn has_check(&self) -> bool {
        Station::has_check(self)
    }

    fn check(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<bool, BoxError> {
        let refs = S::Input::refs(inputs).ok_or(WRONG_TYPE)?;
        Station::check(self, refs, output.downcast_ref().ok_or(WRONG_TYPE)?)
    }

    fn has_clean(&self) -> bool {
        Station::has_clean(self)
    }

    fn clean(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<(), BoxError> {
        let refs = S::Input::refs(inputs).ok_or(WRONG_TYPE)?;
        Station::clean(self, refs, output.downcast_ref().ok_or(WRONG_TYPE)?)
    }

    fn policy(&self) -> Policy {
        Policy {
            retries: self.retries(),
            backoff: self.backoff(),
            timeout: self.timeout(),
        }
    }
}
