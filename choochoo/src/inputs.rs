//! A station's inputs as a tuple ([`Inputs`]), the type at each position ([`InputAt`]), and
//! its code fingerprint ([`Fingerprint`]).

use crate::hash::{Digest, Hasher};
use crate::value::Value;
use std::any::Any;
use std::sync::OnceLock;

/// A station's input tuple ([`Station::Input`](crate::Station::Input)).
///
/// `(A, B)` for `fn f(a: &A, b: &B)`, `()` for a station without inputs.
/// Implemented by choochoo for tuples of up to twelve [`Value`]s; there is nothing to
/// implement by hand.
pub trait Inputs: Send + Sync + 'static {
    /// The tuple of references a station's function receives.
    type Refs<'a>;
    /// How many inputs there are.
    const ARITY: usize;

    /// Borrows the inputs out of type-erased values; `None` if a type does not match.
    #[doc(hidden)]
    fn refs<'a>(values: &[&'a (dyn Any + Send + Sync)]) -> Option<Self::Refs<'a>>;
}

/// The type of a station's input at position `I`: the input's type, or a type any argument
/// fits past the last input (positions up to 11), so that `workflow!` can check every
/// argument of a call by its position and leave a wrong count to its own, clearer message.
pub trait InputAt<const I: usize> {
    /// The input's type.
    type Type;
}

macro_rules! tuples {
    ($( $n:literal => ( $( $i:tt $t:ident ),* ) [ $( $surplus:tt )* ]; )*) => { $(
        impl<$($t: Value),*> Inputs for ($($t,)*) {
            type Refs<'a> = ($(&'a $t,)*);
            const ARITY: usize = $n;

            #[allow(unused_variables, clippy::unused_unit)]
            fn refs<'a>(values: &[&'a (dyn Any + Send + Sync)]) -> Option<Self::Refs<'a>> {
                if values.len() != $n {
                    return None;
                }
                Some(($(values[$i].downcast_ref::<$t>()?,)*))
            }
        }

        tuples!(@at ($($t),*) $( $i $t )*);
        tuples!(@surplus ($($t),*) $( $surplus )*);
    )* };
    (@surplus $all:tt $( $k:tt )*) => { $(
        tuples!(@spare $all $k);
    )* };
    (@spare ($($all:ident),*) $k:tt) => {
        impl<$($all: Value),*> InputAt<$k> for ($($all,)*) {
            type Type = crate::arity::Surplus;
        }
    };
    (@at $all:tt $( $i:tt $t:ident )*) => { $(
        tuples!(@one $all $i $t);
    )* };
    (@one ($($all:ident),*) $i:tt $t:ident) => {
        impl<$($all: Value),*> InputAt<$i> for ($($all,)*) {
            type Type = $t;
        }
    };
}

tuples! {
    0 => () [0 1 2 3 4 5 6 7 8 9 10 11];
    1 => (0 A) [1 2 3 4 5 6 7 8 9 10 11];
    2 => (0 A, 1 B) [2 3 4 5 6 7 8 9 10 11];
    3 => (0 A, 1 B, 2 C) [3 4 5 6 7 8 9 10 11];
    4 => (0 A, 1 B, 2 C, 3 D) [4 5 6 7 8 9 10 11];
    5 => (0 A, 1 B, 2 C, 3 D, 4 E) [5 6 7 8 9 10 11];
    6 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F) [6 7 8 9 10 11];
    7 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G) [7 8 9 10 11];
    8 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H) [8 9 10 11];
    9 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I) [9 10 11];
    10 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J) [10 11];
    11 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K) [11];
    12 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L) [];
}

/// A station's code fingerprint, computed once per station type from its source tokens.
#[derive(Debug)]
pub struct Fingerprint {
    source: &'static str,
    version: u64,
    digest: OnceLock<Digest>,
}

impl Fingerprint {
    /// A fingerprint of `source` (the function's tokens) and the `version` option.
    pub const fn new(source: &'static str, version: u64) -> Fingerprint {
        Fingerprint {
            source,
            version,
            digest: OnceLock::new(),
        }
    }

    /// The hash, computed on first use.
    pub fn digest(&self) -> Digest {
        *self.digest.get_or_init(|| {
            Hasher::new("choochoo/fingerprint")
                .field("source", self.source.as_bytes())
                .field("version", &self.version.to_le_bytes())
                .finish()
        })
    }
}
