//! Named nodes: a builder node given a name by the program. The name is the node's stable
//! name in the store (its directory, its record's head), and what `status`, `graph`, `plan`,
//! `--force`, `clean` and the report call it, instead of a name made of its station and a
//! hash of where its inputs come from (`compile-868060d92935`).
//!
//! A name is used as given: it is not scoped, and it must be unique in its graph, not empty,
//! and without `[` or `]`, which name a map's items (`objects[src/main.c]`). A name that
//! breaks a rule is a usage error of the graph, returned when it is run, planned, cleaned
//! or drawn, before anything runs or is written (as a node of another graph is).

use crate::graph::Graph;
use crate::graph::edge::Args;
use crate::graph::map::Split;
use crate::graph::node::{Node, NodeId};
use crate::station::Station;
use crate::value::Value;
use std::any::Any;

impl Graph {
    /// [`add`](Graph::add), with `name` as the node's name in the store, the report
    /// ([`Entry::node`](crate::Entry::node), [`Entry::label`](crate::Entry::label)),
    /// `status`, `graph` and `--force`. See the [rules for names](Graph::input_named).
    ///
    /// A station without a name is named by a hash of where its inputs come from, made at
    /// the start of every run; a large generated graph whose stations all have names (a
    /// build's steps by their targets) starts faster, as no such hash is made.
    ///
    /// ```
    /// use choochoo::{station, Graph, Runner, Store};
    ///
    /// #[station]
    /// fn compile(source: &String) -> usize {
    ///     source.len()
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let mut graph = Graph::new();
    /// let source = graph.input_named("main.c", "int main() {}".to_owned());
    /// let object = graph.add_named("main.o", Compile, (&source,));
    ///
    /// let dir = std::env::temp_dir().join(format!("choochoo-add-named-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let run = Runner::new(&store).run_graph(&graph, object)?;
    /// assert_eq!(run.report().entries()[0].node(), "main.o");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_named<S: Station, A: Args<S::Input>>(
        &mut self,
        name: &str,
        station: S,
        args: A,
    ) -> Node<S::Output> {
        let node = self.add(station, args);
        self.name(node.id, name);
        node
    }

    /// [`input`](Graph::input), with `name` as the input's name: in the drawing of the
    /// graph, and in the names of the nodes made after it, which hash where their inputs
    /// come from.
    ///
    /// A name is the node's stable name in the store, used as given. It must not be empty,
    /// must not hold `[` or `]` (they name a map's items, `objects[src/main.c]`), and no two
    /// nodes of a graph may have the same one. A name that breaks a rule is an error of the
    /// graph, returned by running, planning, cleaning or drawing it, before anything runs:
    ///
    /// ```
    /// use choochoo::{Graph, Runner, Store};
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let mut graph = Graph::new();
    /// let a = graph.input_named("size", 1u64);
    /// let _b = graph.input_named("size", 2u64);
    ///
    /// let dir = std::env::temp_dir().join(format!("choochoo-input-named-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let error = Runner::new(&store).run_graph(&graph, a).unwrap_err();
    /// assert!(error.to_string().starts_with("two nodes are named `size`"));
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn input_named<T: Value>(&mut self, name: &str, value: T) -> Node<T> {
        let node = self.input(value);
        self.name(node.id, name);
        node
    }

    /// [`map`](Graph::map), with `name` as the map node's name. Its items are named
    /// `name[item]`, each item by the path of the first [`File`](crate::File) (or
    /// [`Dir`](crate::Dir)) in it as given, else by a short hash of its content;
    /// [`map_named_by`](Graph::map_named_by) names them by a function.
    ///
    /// ```
    /// use choochoo::{station, File, Graph, Runner, Store};
    ///
    /// #[station]
    /// fn lines(source: &File) -> std::io::Result<usize> {
    ///     Ok(std::fs::read_to_string(source.path())?.lines().count())
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let source = dir.path().join("main.c");
    /// std::fs::write(&source, "int main() {\n}\n")?;
    ///
    /// let mut graph = Graph::new();
    /// let sources = graph.input(vec![File::new(&source)]);
    /// let counts = graph.map_named("lines", Lines, &sources, ());
    ///
    /// let store = Store::open(dir.path().join(".choochoo"))?;
    /// let run = Runner::new(&store).run_graph(&graph, counts)?;
    /// assert_eq!(run.output(), &[2]);
    /// let item = format!("lines[{}]", source.display());
    /// assert!(run.report().entries().iter().any(|entry| entry.node() == item));
    /// # Ok(())
    /// # }
    /// ```
    pub fn map_named<S, A>(
        &mut self,
        name: &str,
        station: S,
        list: &Node<Vec<<S::Input as Split>::First>>,
        shared: A,
    ) -> Node<Vec<S::Output>>
    where
        S: Station,
        S::Input: Split,
        A: Args<<S::Input as Split>::Rest>,
    {
        let node = self.map(station, list, shared);
        self.name(node.id, name);
        node
    }

    /// [`map_named`](Graph::map_named), with each item named by `item_name`: the item
    /// `x` is the node `name[item_name(x)]`, with its own directory
    /// `work/<profile>/<name>/<item_name(x)>/` in the store. Two items of one run given the
    /// same name are a failure of the map that names both, unless they are the same item
    /// twice (which runs once).
    ///
    /// ```
    /// use choochoo::{station, Graph, Runner, Store};
    ///
    /// #[station]
    /// fn fetch(shard: &u64) -> u64 {
    ///     shard * 100
    /// }
    ///
    /// # fn main() -> Result<(), choochoo::Error> {
    /// let mut graph = Graph::new();
    /// let shards = graph.input(vec![1u64, 2, 3]);
    /// let rows = graph.map_named_by("rows", Fetch, &shards, (), |shard: &u64| format!("shard-{shard}"));
    ///
    /// let dir = std::env::temp_dir().join(format!("choochoo-map-named-by-{}", std::process::id()));
    /// let store = Store::open(&dir)?;
    /// let run = Runner::new(&store).run_graph(&graph, rows)?;
    /// assert_eq!(run.output(), &[100, 200, 300]);
    /// let nodes: Vec<&str> = run.report().entries().iter().map(|entry| entry.node()).collect();
    /// assert_eq!(nodes, ["rows", "rows[shard-1]", "rows[shard-2]", "rows[shard-3]"]);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn map_named_by<S, A, F>(
        &mut self,
        name: &str,
        station: S,
        list: &Node<Vec<<S::Input as Split>::First>>,
        shared: A,
        item_name: F,
    ) -> Node<Vec<S::Output>>
    where
        S: Station,
        S::Input: Split,
        A: Args<<S::Input as Split>::Rest>,
        F: Fn(&<S::Input as Split>::First) -> String + Send + Sync + 'static,
    {
        let node = self.map_named(name, station, list, shared);
        if let Some(map) = self.nodes[node.id.index()].map_mut() {
            map.namer = Some(Box::new(move |item: &(dyn Any + Send + Sync)| {
                item.downcast_ref().map(&item_name)
            }));
        }
        node
    }

    /// Gives node `id` the name `name`, or remembers why it cannot have it.
    fn name(&mut self, id: NodeId, name: &str) {
        let index = id.index() as u32;
        if let Err(problem) = self.check_name(name, index) {
            self.misnamed.get_or_insert(problem);
            return;
        }
        self.nodes[id.index()].name(name);
        self.names.insert(&self.nodes, name, index);
    }

    /// Whether node `index` has a name the program gave: its label is its whole name.
    pub(crate) fn is_named(&self, index: u32) -> bool {
        let label = self.nodes[index as usize].label.as_deref();
        label.is_some_and(|label| self.names.get(&self.nodes, label) == Some(index))
    }

    /// Whether `name` can be given to node `index`: not empty, without brackets, not taken.
    fn check_name(&self, name: &str, index: u32) -> Result<(), String> {
        let what = || self.describe(index);
        if name.is_empty() {
            return Err(format!(
                "the name given to {} is empty; give it a name",
                what()
            ));
        }
        if name.contains(['[', ']']) {
            return Err(format!(
                "the name `{name}` given to {} has `[` or `]`, which name a map's items \
                 (`map[item]`); choose a name without them",
                what()
            ));
        }
        match self.names.get(&self.nodes, name) {
            Some(first) => Err(format!(
                "two nodes are named `{name}`: {} and {}; each node of a graph needs a name \
                 of its own",
                self.describe(first),
                what()
            )),
            None => Ok(()),
        }
    }

    /// `node 3 (a station `compile`)`, `node 0 (an input)`.
    fn describe(&self, index: u32) -> String {
        match &self.nodes[index as usize].kind {
            crate::graph::Kind::Station { station, .. } => {
                format!("node {index} (a station `{}`)", station.name())
            }
            crate::graph::Kind::Input(_) => format!("node {index} (an input)"),
        }
    }
}
