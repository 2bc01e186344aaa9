//! Sub-workflows: a `workflow!` calling another `workflow!` function like a station. What a
//! call adds is a [`Step`]: a station adds one node; a workflow ([`Nested`], implemented by
//! `workflow!`) adds its own steps, fed by the caller's arguments, under a scope named after
//! the caller's binding, so its nodes are `outer.inner.binding` in the store, the report and
//! the graph. The graph stays flat: memo, early cutoff and clean see stations only, and work
//! through the boundary as between any two stations.

use super::Resolve;
use crate::arity::Params;
use crate::graph::Graph;
use crate::graph::edge::Edge;
use crate::graph::node::Node;
use crate::station::Station;
use std::marker::PhantomData;
use std::sync::Arc;

/// What a call in a `workflow!` adds to the graph: a station, or a whole sub-workflow.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a station or a workflow",
    label = "not a station or a workflow",
    note = "a workflow calls functions marked `#[station]`, and `workflow!` functions, by their name"
)]
pub trait Step {
    /// The inputs, as a tuple: the station's, or the sub-workflow's parameters.
    type Input;
    /// What the call gives: a `Node<O>`, or the sub-workflow's output node(s).
    type Nodes;

    /// Adds the call to `graph`, fed by one edge per input.
    fn add_to(self, graph: &mut Graph, label: &str, edges: Vec<Edge>) -> Self::Nodes;
}

impl<S: Station> Step for S {
    type Input = S::Input;
    type Nodes = Node<S::Output>;

    fn add_to(self, graph: &mut Graph, label: &str, edges: Vec<Edge>) -> Node<S::Output> {
        graph.add_station(Some(label), self, edges)
    }
}

/// A `workflow!` function, as another workflow calls it: implemented by `workflow!` on a
/// hidden type of its own, for the signature `fn(A, B, ..) -> Nodes` of its parameters and
/// output node(s). The types are in the impl's header rather than in associated types, so a
/// workflow may name types less visible than itself, as a function may.
pub trait Nested<Sig: Signature> {
    /// The workflow's name.
    const NAME: &'static str;
    /// Its name and parameters as written, for a call with the wrong number of arguments.
    const PARAMS: &'static Params;

    /// Adds the workflow's steps to `graph`, its parameters fed by `edges`.
    fn build(graph: &mut Graph, edges: Vec<Edge>) -> Sig::Nodes;
}

/// A sub-workflow's signature, `fn(A, B, ..) -> Nodes`, read as its inputs and its nodes.
pub trait Signature {
    /// The parameters' types, as a tuple.
    type Input;
    /// The output node(s).
    type Nodes;
}

macro_rules! signatures {
    ($( ( $( $t:ident ),* ); )*) => { $(
        impl<$($t,)* N> Signature for fn($($t),*) -> N {
            type Input = ($($t,)*);
            type Nodes = N;
        }
    )* };
}

signatures! {
    ();
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

/// How deep sub-workflows may nest: deeper is a workflow calling itself through another.
const DEEPEST: usize = 64;

/// The step of calling the workflow `W` of signature `Sig`: what `workflow!` puts under the
/// workflow function's name in the type namespace, as `#[station]` puts its station there.
pub struct Sub<W, Sig>(PhantomData<fn() -> (W, Sig)>);

impl<W, Sig> Sub<W, Sig> {
    /// The step of calling `W`.
    pub fn new() -> Sub<W, Sig> {
        Sub(PhantomData)
    }
}

impl<W, Sig> Default for Sub<W, Sig> {
    fn default() -> Sub<W, Sig> {
        Sub::new()
    }
}

impl<W, Sig> std::fmt::Debug for Sub<W, Sig> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::any::type_name::<W>())
    }
}

#[diagnostic::do_not_recommend]
impl<W: Nested<Sig>, Sig: Signature> Resolve for Sub<W, Sig> {
    type Station = Sub<W, Sig>;
    const PARAMS: &'static Params = W::PARAMS;

    fn resolve() -> Sub<W, Sig> {
        Sub::new()
    }
}

impl<W: Nested<Sig>, Sig: Signature> Step for Sub<W, Sig> {
    type Input = Sig::Input;
    type Nodes = Sig::Nodes;

    fn add_to(self, graph: &mut Graph, label: &str, edges: Vec<Edge>) -> Sig::Nodes {
        let outer = graph.scope.clone();
        let scope: Arc<str> = match &outer {
            Some(outer) => format!("{outer}.{label}").into(),
            None => label.into(),
        };
        // `workflow!` refuses a workflow calling itself by name; through another, the graph
        // would grow until the stack overflows, so it stops here with the calls that loop.
        assert!(
            scope.matches('.').count() <= DEEPEST,
            "sub-workflows nest more than {DEEPEST} deep at `{scope}`: a workflow calls \
             itself through another, so its graph would have no end"
        );
        graph.sub_workflows.push((scope.clone(), W::NAME));
        graph.scope = Some(scope);
        let nodes = W::build(graph, edges);
        graph.scope = outer;
        nodes
    }
}

/// The next parameter of a sub-workflow, from the edge its caller's argument made: a node
/// (`workflow!` arguments are bindings, parameters and literals, each one node).
pub fn param<T>(edges: &mut std::vec::IntoIter<Edge>) -> Node<T> {
    match edges.next() {
        Some(Edge::One(id)) => Node::of_id(id),
        // `Wire` makes several edges only of a `Vec<Node<T>>`, which `workflow!` cannot
        // write, and the arity check counts the arguments before this runs.
        _ => unreachable!("a sub-workflow's argument is one node"),
    }
}
