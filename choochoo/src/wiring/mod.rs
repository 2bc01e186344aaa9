//! How a `workflow!` call is wired and checked. The call's name is resolved to its station
//! ([`Resolve`]); each argument is then checked against the type of the input at its
//! position ([`InputAt`](crate::station::InputAt)) by a trait method called on the user's
//! argument ([`Wire::edge`](crate::graph::edge::Wire)), so a mismatch is one error there that
//! names both types. The number of arguments is checked apart, against the station's
//! [`Params`], so that error can name the inputs. `probe.rs` checks, for `#[station]`, that
//! each input and output type can flow between stations; `nested.rs` makes a `workflow!`
//! function callable from another like a station.

pub(crate) mod nested;
pub mod probe;

use crate::arity::{Params, Surplus};
use crate::graph::Graph;
use crate::graph::edge::Edge;
use crate::graph::map::Split;
use crate::graph::node::Node;
use crate::station::Station;
use crate::value::Value;
use nested::Step;

/// The station a name in a `workflow!` call stands for, implemented by `#[station]` for
/// its station, and by choochoo for the step of calling a `workflow!` function (`Sub`).
/// `#[station]` also puts its station under the function's name in the type namespace
/// (`workflow!` puts its `Sub` there); `workflow!` puts a stand-in under the name of every
/// function it calls, which only a real station or workflow hides, so a plain function is
/// this one error on its name (and everything that would follow from it is left
/// unreported).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a station",
    label = "not a station",
    note = "a workflow calls functions marked `#[station]`, and `workflow!` functions, by their name; mark this one, or check the name"
)]
pub trait Resolve {
    /// The station.
    type Station;

    /// The station's name and inputs as written, for the message about a call with the
    /// wrong number of arguments.
    const PARAMS: &'static Params;

    /// The station's value (a unit struct).
    fn resolve() -> Self::Station;
}

#[doc(hidden)]
impl<W> crate::graph::edge::Wire<Surplus> for W {
    fn edge(self) -> Edge {
        unreachable!("a call with an extra argument does not compile")
    }
}

/// The list a `map` goes over: a binding of type `Vec<T>` for a station whose first input
/// is `&T`.
#[diagnostic::on_unimplemented(
    message = "`map` goes over a list: expected a `Vec<{T}>`, found `{Self}`",
    label = "not a list of `{T}`",
    note = "`map(station_fn, list, shared...)` calls the station once per item of `list`, a binding of type `Vec<T>` for a station whose first input is `&T`"
)]
pub trait List<T> {
    /// The list's node.
    fn list(self) -> Node<Vec<T>>;
}

#[diagnostic::do_not_recommend]
impl<T: Value> List<T> for Node<Vec<T>> {
    fn list(self) -> Node<Vec<T>> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<T: Value> List<T> for &Node<Vec<T>> {
    fn list(self) -> Node<Vec<T>> {
        *self
    }
}

/// Adds `step` (a station, or a sub-workflow's steps), fed by one edge per input (each
/// checked against the input's type).
pub fn add<S: Step, const N: usize>(
    step: S,
    edges: [Edge; N],
    graph: &mut Graph,
    label: &str,
) -> S::Nodes {
    step.add_to(graph, label, edges.into())
}

/// The edge of a workflow parameter's input node, with no bound on its type: one that
/// cannot flow is reported once, where its input node is made.
pub fn node_edge<T>(node: Node<T>) -> Edge {
    Edge::One(node.id)
}

/// Maps `station` over the list node `list`: one memoized call per item, `shared` feeding
/// the other inputs.
pub fn map<S, const N: usize>(
    station: S,
    list: Node<Vec<<S::Input as Split>::First>>,
    shared: [Edge; N],
    graph: &mut Graph,
    label: &str,
) -> Node<Vec<S::Output>>
where
    S: Station,
    S::Input: Split,
{
    graph.add_map(Some(label), station, &list, shared.into())
}
