//! Tells `std::fs::File` apart from other types where `#[station]` names a station's input
//! or output type, so that an open file handle gets one error that says to use
//! [`choochoo::File`](crate::File), instead of the advice to derive serde on it.
//!
//! The macro cannot resolve a type (`File` may be either), so it asks the type checker, in
//! a function that is only type-checked: a method call on `&Probe<T>` finds the method of
//! [`OpenFile`] (implemented for `Probe<std::fs::File>` itself) before the one of
//! [`Other`] (implemented for `&Probe<T>`, one auto-reference further). Each path leaves
//! exactly one check standing: [`Storable`] for the file handle, [`Flows`] (a [`Value`]) for
//! every other type.

use crate::graph::Graph;
use crate::graph::node::Node;
use crate::value::Value;
use std::marker::PhantomData;

/// A stand-in for a value of type `T`, never built at run time.
#[derive(Debug)]
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe.
    pub const NEW: Probe<T> = Probe(PhantomData);
}

/// The path taken for `std::fs::File`.
pub trait OpenFile {
    /// The handle, which fails [`Storable`].
    fn handle(&self) -> std::fs::File {
        unreachable!("probes are only type-checked")
    }

    /// A unit: the handle's error is the one that matters.
    fn value(&self) {}
}

impl OpenFile for Probe<std::fs::File> {}

/// The path taken for every other type.
pub trait Other<T> {
    /// Something [`Storable`].
    fn handle(&self) -> Stored {
        Stored
    }

    /// The value, checked to be a [`Value`] by [`Flows`].
    fn value(&self) -> T {
        unreachable!("probes are only type-checked")
    }
}

impl<T> Other<T> for &Probe<T> {}

/// Fails only for `std::fs::File`.
#[diagnostic::on_unimplemented(
    message = "`std::fs::File` is an open file handle and cannot flow between stations; use `choochoo::File`, which stands for a file by its path and content",
    label = "use `choochoo::File` here",
    note = "a station that writes a file returns `choochoo::File::new(path)`; one that reads a file takes `&choochoo::File` and opens `file.path()`"
)]
pub trait Storable {
    /// Nothing: the call is the check.
    fn storable(&self) {}
}

/// What the path of every other type hands to [`Storable`].
#[derive(Debug)]
pub struct Stored;

#[diagnostic::do_not_recommend]
impl Storable for Stored {}

/// A [`Value`], as generated code checks it on a type the user named: a trait method called
/// on a value of the type reports "`T` cannot flow between stations" there, without naming a
/// helper's bound (the methods of `Value` itself would report each serde supertrait apart).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot flow between stations: it is not a serializable value",
    label = "not `Serialize + DeserializeOwned + Send + Sync + 'static`",
    note = "station inputs and outputs are serde types; add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}`, or use `choochoo::File` for files"
)]
pub trait Flows: Sized {
    /// Nothing: the call is the check.
    fn flows(&self) {}

    /// Adds `self` to `graph` as the workflow parameter `label`.
    fn input(self, graph: &mut Graph, label: &str) -> Node<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: Value> Flows for T {
    fn input(self, graph: &mut Graph, label: &str) -> Node<T> {
        graph.labeled_input(label, self)
    }
}
