//! Items the macros expand to. Not public API: they may change in any release.

pub use crate::arity::{Mistake, Params, arity_error};
pub use crate::graph::Graph;
pub use crate::graph::edge::Edge;
pub use crate::graph::edge::Wire;
pub use crate::graph::node::Node;
pub use crate::hash::Digest;
pub use crate::station::{BoxError, Ctx, Fingerprint, InputAt, Inputs, Station};
pub use crate::value::Value;
pub use crate::wiring::nested::{Nested, Signature, Step, Sub, param};
pub use crate::wiring::{List, Resolve, add, map, node_edge, probe};
use crate::workflow::{FnWorkflow, Outputs, Unbuildable};
pub use crate::workflow::{TupleNodes, Workflow};
/// The owned types behind the borrowed parameters `&str`, `&[T]` and `&Path`.
pub use std::{path::PathBuf, string::String, vec::Vec};

pub use crate::checked::Checked;

/// What an async station's `run` calls to drive its future (`block_on`).
#[cfg(feature = "tokio")]
pub mod async_station {
    pub use crate::asynchronous::block_on;
}

/// Without the `tokio` feature, `block_on` asks for a trait no future has, so an
/// `async fn` station is one error on its `async` that says how to turn the feature on.
#[cfg(not(feature = "tokio"))]
pub mod async_station {
    use crate::station::{BoxError, Ctx};

    /// Implemented by nothing: the feature is off.
    #[diagnostic::on_unimplemented(
        message = "an async station needs the `tokio` feature of choochoo",
        label = "this `async fn` is a station",
        note = "enable the `tokio` feature of choochoo: `choochoo = {{ version = \"0.1\", features = [\"tokio\"] }}` in Cargo.toml"
    )]
    pub trait TokioFeature {}

    /// Never called: it does not type-check.
    pub fn block_on<T, F>(ctx: &Ctx, future: F) -> Result<T, BoxError>
    where
        F: core::future::Future<Output = Result<T, BoxError>> + TokioFeature,
    {
        let _ = (ctx, future);
        Err("async stations need the `tokio` feature of choochoo".into())
    }
}

/// What a check function may return: `bool`, `Checked`, `Result<bool, E>` or
/// `Result<Checked, E>`.
#[diagnostic::on_unimplemented(
    message = "a check returns `bool`, `Checked`, `Result<bool, E>` or `Result<Checked, E>`, not `{Self}`",
    label = "not a check result",
    note = "return `Checked::Drifted(reason)` to say why the world drifted"
)]
pub trait IntoCheck {
    /// Converts the check's return value.
    fn into_check(self) -> Result<Checked, BoxError>;
}

#[diagnostic::do_not_recommend]
impl IntoCheck for bool {
    fn into_check(self) -> Result<Checked, BoxError> {
        Ok(self.into())
    }
}

#[diagnostic::do_not_recommend]
impl IntoCheck for Checked {
    fn into_check(self) -> Result<Checked, BoxError> {
        Ok(self)
    }
}

#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> IntoCheck for Result<bool, E> {
    fn into_check(self) -> Result<Checked, BoxError> {
        self.map(Checked::from).map_err(Into::into)
    }
}

#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> IntoCheck for Result<Checked, E> {
    fn into_check(self) -> Result<Checked, BoxError> {
        self.map_err(Into::into)
    }
}

/// What a clean function may return: `()` or `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "a clean function returns `()` or `Result<(), E>`, not `{Self}`",
    label = "not a clean result"
)]
pub trait IntoClean {
    /// Converts the clean function's return value.
    fn into_clean(self) -> Result<(), BoxError>;
}

#[diagnostic::do_not_recommend]
impl IntoClean for () {
    fn into_clean(self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> IntoClean for Result<(), E> {
    fn into_clean(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// A station's error type, boxed; a trait so that a type that is not an error is
/// reported on the user's `E` without naming a helper's bound.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a station's error: it is not a `std::error::Error + Send + Sync + 'static`",
    label = "not an error type",
    note = "return `Result<T, E>` with an error type such as `std::io::Error`, `String`, or your own type that implements `std::error::Error`"
)]
pub trait StationError {
    /// Boxes the error.
    fn box_error(self) -> BoxError;
}

#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> StationError for E {
    fn box_error(self) -> BoxError {
        self.into()
    }
}

/// A literal argument: a constant input, whose type the station's input decides.
pub fn constant<T: Value>(graph: &mut Graph, value: T) -> Node<T> {
    graph.input(value)
}

/// The workflow value a `workflow!` function returns.
pub fn workflow<O, N, F>(name: &'static str, build: F) -> impl Workflow<Output = O>
where
    N: Outputs<Value = O> + 'static,
    F: FnOnce(&mut Graph) -> N,
{
    FnWorkflow { name, build }
}

/// The workflow value of a `workflow!` whose body did not compile.
pub fn unbuildable<O>() -> impl Workflow<Output = O> {
    Unbuildable(std::marker::PhantomData)
}
