//! Workflows: a value that builds a graph and names its output. `workflow!` generates a
//! function returning one; [`Runner::run`](crate::Runner::run) takes it.

use crate::error::Error;
use crate::graph::Graph;
use crate::graph::node::{Node, NodeId};
use crate::value::{self, Shared, Value};

/// A buildable graph with a typed output, as `workflow!` generates.
///
/// [`Runner::run`](crate::Runner::run), [`Runner::plan`](crate::Runner::plan),
/// [`Runner::clean`](crate::Runner::clean), [`Diagram::of`](crate::Diagram::of) and
/// `cli::main` take one.
///
/// A [`workflow!`](crate::workflow) function returns one; building the graph waits until
/// one of those needs it. A graph made with the builder and the node(s) of its output,
/// `(graph, output)`, is one too. A program does not implement it by hand.
///
/// ```
/// use choochoo::{station, workflow, Graph, Runner, Store, Workflow};
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(x: u64) -> u64 {
///         let y = double(x);
///         double(y)
///     }
/// }
///
/// /// Runs any workflow whose output is a number.
/// fn run_number(store: &Store, workflow: impl Workflow<Output = u64>) -> Result<u64, choochoo::Error> {
///     Ok(Runner::new(store).run(workflow)?.into_output())
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-workflow-trait-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// assert_eq!(twice(5).name(), "twice");
/// assert_eq!(run_number(&store, twice(5))?, 20);
///
/// let mut graph = Graph::new();
/// let x = graph.input(5u64);
/// let y = graph.add(Double, (&x,));
/// assert_eq!(run_number(&store, (graph, y))?, 10);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
pub trait Workflow {
    /// What a successful run returns.
    type Output;

    /// The workflow's name (the function name for `workflow!`).
    fn name(&self) -> &str;

    /// Adds the workflow's nodes to `graph` and returns the node(s) of its output.
    #[doc(hidden)]
    fn build(self, graph: &mut Graph) -> Result<Box<dyn Outputs<Value = Self::Output>>, Error>;
}

/// The node, or tuple of nodes, whose values a run returns.
///
/// A `Node<T>` gives a `T`, and a tuple `(Node<A>, Node<B>)` (up to eight) gives `(A, B)`.
/// [`Runner::run_graph`] takes one.
///
/// Implemented by choochoo for exactly these; there is nothing to implement by hand.
///
/// ```
/// use choochoo::{station, Graph, Runner, Store};
///
/// #[station]
/// fn length(text: &str) -> usize { text.len() }
///
/// #[station]
/// fn upper(text: &str) -> String { text.to_uppercase() }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let mut graph = Graph::new();
/// let text = graph.input("choochoo".to_owned());
/// let n = graph.add(Length, (&text,));
/// let loud = graph.add(Upper, (&text,));
///
/// let dir = std::env::temp_dir().join(format!("choochoo-outputs-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let run = Runner::new(&store).run_graph(&graph, (n, loud))?;
/// assert_eq!(run.into_output(), (8, "CHOOCHOO".to_owned()));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
///
/// [`Runner::run_graph`]: crate::Runner::run_graph
#[diagnostic::on_unimplemented(
    message = "this workflow output gives `{Self}`, not the declared output type",
    label = "the declared output type does not match this"
)]
pub trait Outputs {
    /// The values, once the run is done.
    type Value;

    /// The nodes to read.
    #[doc(hidden)]
    fn nodes(&self) -> Vec<NodeId>;

    /// Takes the values out of the finished run, in the order of [`Outputs::nodes`].
    #[doc(hidden)]
    fn take(&self, values: Vec<Shared>) -> Result<Self::Value, Error>;
}

impl<T: Value> Outputs for Node<T> {
    type Value = T;

    fn nodes(&self) -> Vec<NodeId> {
        vec![self.id]
    }

    fn take(&self, values: Vec<Shared>) -> Result<T, Error> {
        let value = values
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("missing output value"))?;
        value::take(value)
    }
}

/// The tuple of nodes a tuple output type is read from: `(A, B)` → `(Node<A>, Node<B>)`, so
/// `workflow!` can check a tuple of bindings against an output type written as an alias.
#[diagnostic::on_unimplemented(
    message = "this workflow returns a tuple of bindings, so its output type is a tuple, not `{Self}`",
    label = "not a tuple type"
)]
pub trait TupleNodes {
    /// The nodes.
    type Nodes;
}

macro_rules! output_tuples {
    ($( ( $( $t:ident $v:ident ),* ); )*) => { $(
        impl<$($t),*> TupleNodes for ($($t,)*) {
            type Nodes = ($(Node<$t>,)*);
        }

        impl<$($t: Value),*> Outputs for ($(Node<$t>,)*) {
            type Value = ($($t,)*);

            #[allow(non_snake_case)]
            fn nodes(&self) -> Vec<NodeId> {
                let ($($v,)*) = self;
                vec![$($v.id),*]
            }

            #[allow(non_snake_case)]
            fn take(&self, values: Vec<Shared>) -> Result<Self::Value, Error> {
                let mut values = values.into_iter();
                $( let $v = value::take::<$t>(values.next().ok_or_else(|| Error::internal("missing output value"))?)?; )*
                Ok(($($v,)*))
            }
        }
    )* };
}

output_tuples! {
    (A a);
    (A a, B b);
    (A a, B b, C c);
    (A a, B b, C c, D d);
    (A a, B b, C c, D d, E e);
    (A a, B b, C c, D d, E e, F f);
    (A a, B b, C c, D d, E e, F f, G g);
    (A a, B b, C c, D d, E e, F f, G g, H h);
}

/// The workflow `workflow!` generates: a name and a closure that builds the graph.
pub(crate) struct FnWorkflow<F> {
    pub(crate) name: &'static str,
    pub(crate) build: F,
}

impl<O, N, F> Workflow for FnWorkflow<F>
where
    N: Outputs<Value = O> + 'static,
    F: FnOnce(&mut Graph) -> N,
{
    type Output = O;

    fn name(&self) -> &str {
        self.name
    }

    fn build(self, graph: &mut Graph) -> Result<Box<dyn Outputs<Value = O>>, Error> {
        graph.scope = Some(self.name.into());
        let outputs = (self.build)(graph);
        graph.scope = None;
        Ok(Box::new(outputs))
    }
}

/// What `workflow!` emits when the body did not compile: same signature, never built.
pub(crate) struct Unbuildable<O>(pub(crate) std::marker::PhantomData<fn() -> O>);

impl<O> Workflow for Unbuildable<O> {
    type Output = O;

    fn name(&self) -> &str {
        "unbuildable"
    }

    fn build(self, _: &mut Graph) -> Result<Box<dyn Outputs<Value = O>>, Error> {
        Err(Error::internal(
            "this workflow's definition has compile errors",
        ))
    }
}

/// A graph built with the builder API, and the node(s) of its output, is a workflow named
/// `graph`: `Runner::run((graph, output))` is `Runner::run_graph(&graph, output)`, and the
/// closure given to `cli::main` may return one.
impl<N: Outputs + 'static> Workflow for (Graph, N) {
    type Output = N::Value;

    fn name(&self) -> &str {
        "graph"
    }

    fn build(self, graph: &mut Graph) -> Result<Box<dyn Outputs<Value = N::Value>>, Error> {
        if !graph.is_empty() {
            // Node ids are indices: a built graph cannot be appended to another one.
            return Err(Error::usage(
                "a built graph is a workflow of its own; it cannot be added to another graph",
            ));
        }
        let (built, output) = self;
        *graph = built;
        Ok(Box::new(output))
    }
}
