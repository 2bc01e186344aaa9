//! A station mapped over a list: how the list is split into items and the items' outputs
//! gathered (`MapSpec`), how a program names the items, and `Split`, a station's input
//! tuple cut into the list's item and the shared rest.

use super::codec::Codec;
use crate::error::Error;
use crate::station::Inputs;
use crate::value::{self, Shared, Value};
use std::any::Any;
use std::sync::Arc;

/// A station mapped over a list: input 0 of the node is the list, the others are shared by
/// every item. Each item is its own memo entry.
pub(crate) struct MapSpec {
    /// Splits the list (a `Vec<T>`) into its items.
    pub(crate) items: fn(&(dyn Any + Send + Sync)) -> Result<Vec<Shared>, Error>,
    /// Builds the `Vec<O>` output from the items' outputs, in order.
    pub(crate) gather: fn(Vec<Shared>) -> Result<Shared, Error>,
    /// The codec of one item (`T`) and of one item's output (`O`).
    pub(crate) item: &'static Codec,
    pub(crate) output: &'static Codec,
    /// Names an item when the program names them ([`Graph::map_named_by`]); else an item is
    /// named by the path of its first file, or by its hash.
    ///
    /// [`Graph::map_named_by`]: crate::Graph::map_named_by
    pub(crate) namer: Option<Box<Namer>>,
}

/// A program's function naming the items of a map, on an item whose type is erased; `None`
/// when the item is not of its type.
pub(crate) type Namer = dyn Fn(&(dyn Any + Send + Sync)) -> Option<String> + Send + Sync;

impl MapSpec {
    pub(super) fn of<T: Value, O: Value>() -> MapSpec {
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
///
/// [`Graph::map`]: crate::Graph::map
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
