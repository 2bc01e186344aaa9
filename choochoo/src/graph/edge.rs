//! Where a station's input comes from (`Edge`: one node, or several collected into a `Vec`),
//! and the traits that make edges of a program's nodes: `Wire` for one argument, `Args` for
//! a call's tuple of them.

use super::node::{Node, NodeId};
use crate::error::Error;
use crate::station::Inputs;
use crate::value::{self, Value};
use std::any::Any;
use std::fmt;

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

/// Something that can feed a station input of type `T`.
///
/// A `Node<T>` (or `&Node<T>`) for an input of type `T`, and a `Vec<Node<T>>` (or
/// `&Vec<Node<T>>`, or `&[Node<T>]`) for an input of type `Vec<T>`, whose value collects the
/// nodes' values in order.
///
/// Implemented by choochoo for exactly these; there is nothing to implement by hand. It
/// appears in error messages when an argument of [`Graph::add`] or of a `workflow!` call has
/// the wrong type.
///
/// [`Graph::add`]: crate::Graph::add
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
///
/// [`Graph::add`]: crate::Graph::add
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
