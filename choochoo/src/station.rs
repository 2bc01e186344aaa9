//! Stations: the steps of a workflow. A station is a plain function marked `#[station]`;
//! the macro generates a unit struct implementing [`Station`], which tells the runtime the
//! station's identity, its code fingerprint, its input and output types, and how to call it.

use crate::hash::{Digest, Hasher};
use crate::value::Value;
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The boxed error a failing station returns, whatever its own error type was.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A step of a workflow. Implemented by `#[station]`; see the crate docs.
///
/// The station's key in the store is built from its [`id`](Station::id), its
/// [`fingerprint`](Station::fingerprint) and the content of its inputs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a station",
    label = "not a station",
    note = "mark the function with `#[station]`; a workflow calls it by the function's name"
)]
pub trait Station: Send + Sync + 'static {
    /// The inputs, as a tuple: `(A, B)` for `fn f(a: &A, b: &B)`.
    type Input: Inputs;
    /// The value the station produces.
    type Output: Value;

    /// A stable identity: the module path and function name, such as `app::word_count`.
    fn id(&self) -> &'static str;

    /// A human name for reports (the function name unless `name = "..."` was given).
    fn name(&self) -> &'static str;

    /// The hash of the function's tokens and its `version` option.
    fn fingerprint(&self) -> Digest;

    /// The names of the function's input parameters, to say which input changed.
    fn input_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Calls the function.
    fn run(
        &self,
        ctx: &Ctx,
        input: <Self::Input as Inputs>::Refs<'_>,
    ) -> Result<Self::Output, BoxError>;
}

/// What a running station can ask of the runtime. Take `ctx: &Ctx` as a station's first
/// parameter to get it.
#[derive(Debug)]
pub struct Ctx {
    pub(crate) id: &'static str,
    pub(crate) out_dir: std::path::PathBuf,
    pub(crate) label: Option<Box<str>>,
    pub(crate) stopping: Arc<AtomicBool>,
}

impl Ctx {
    /// The id of the running station.
    pub fn station_id(&self) -> &str {
        self.id
    }

    /// The node's label in its workflow: the binding name in `workflow!`, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// This station's own directory, created on first use: `work/<profile>/<node>/` in the
    /// store. Files a station returns usually live here. Deleting the directory makes the
    /// station run again (its output files are missing).
    pub fn out_dir(&self) -> &std::path::Path {
        // A failure to create it surfaces as a clear I/O error on the station's first write.
        let _ = std::fs::create_dir_all(&self.out_dir);
        &self.out_dir
    }

    /// Whether the run is stopping because a station failed elsewhere. A long station may
    /// check it now and then and return early; its result is then up to it (an `Err` is a
    /// failure like any other).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }
}

/// A station's input tuple. Implemented for tuples of up to twelve [`Value`]s.
pub trait Inputs: Send + Sync + 'static {
    /// The tuple of references a station's function receives.
    type Refs<'a>;
    /// How many inputs there are.
    const ARITY: usize;

    /// Borrows the inputs out of type-erased values; `None` if a type does not match.
    #[doc(hidden)]
    fn refs<'a>(values: &[&'a (dyn Any + Send + Sync)]) -> Option<Self::Refs<'a>>;
}

/// The type of a station's input at position `I`.
#[diagnostic::on_unimplemented(
    message = "this station has no input at position {I}",
    label = "extra argument"
)]
pub trait InputAt<const I: usize> {
    /// The input's type.
    type Type: Value;
}

/// Holds when a station's input tuple has `N` elements.
#[diagnostic::on_unimplemented(
    message = "this station takes the inputs `{Self}`, not {N} arguments",
    label = "wrong number of arguments"
)]
pub trait Arity<const N: usize> {}

macro_rules! tuples {
    ($( $n:literal => ( $( $i:tt $t:ident ),* ); )*) => { $(
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

        impl<$($t: Value),*> Arity<$n> for ($($t,)*) {}

        tuples!(@at ($($t),*) $( $i $t )*);
    )* };
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
    0 => ();
    1 => (0 A);
    2 => (0 A, 1 B);
    3 => (0 A, 1 B, 2 C);
    4 => (0 A, 1 B, 2 C, 3 D);
    5 => (0 A, 1 B, 2 C, 3 D, 4 E);
    6 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
    7 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
    8 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
    9 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
    10 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
    11 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
    12 => (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);
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
