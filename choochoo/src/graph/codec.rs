//! A node's value encoded, decoded and shown as JSON without its type: the `Codec` the
//! runner keeps for every node.

use crate::error::Error;
use crate::value::{self, Shared, Value};
use std::any::Any;
use std::sync::Arc;

/// How to encode and decode the value of one node, whose type the runner does not know.
#[derive(Clone, Copy)]
pub(crate) struct Codec {
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) encode: fn(&(dyn Any + Send + Sync)) -> Result<value::Encoded, Error>,
    pub(crate) decode: fn(&[u8]) -> Result<Shared, Error>,
    /// The value as JSON, for people: plans name changed fields, cleans keep the evidence.
    pub(crate) to_json: fn(&(dyn Any + Send + Sync)) -> Option<serde_json::Value>,
}

impl Codec {
    /// The codec of `T`, one for the whole program: a node keeps a reference to it.
    pub(crate) fn of<T: Value>() -> &'static Codec {
        &Of::<T>::CODEC
    }
}

/// Where the codec of `T` is made, once, as a constant.
struct Of<T>(std::marker::PhantomData<T>);

impl<T: Value> Of<T> {
    const CODEC: Codec = Codec {
        type_name: std::any::type_name::<T>,
        encode: encode::<T>,
        to_json: |value| {
            value
                .downcast_ref::<T>()
                .and_then(|value| serde_json::to_value(value).ok())
        },
        decode: |bytes| {
            value::decode::<T>(bytes)
                .map(|value| Arc::new(value) as Shared)
                .map_err(|error| Error::encoding(std::any::type_name::<T>(), error))
        },
    };
}

fn encode<T: Value>(value: &(dyn Any + Send + Sync)) -> Result<value::Encoded, Error> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| Error::internal("a node holds a value of another type"))?;
    let (encoded, refused) = crate::secret::context::refusing(|| value::encode_with_paths(value));
    encoded.map_err(|error| match refused {
        true => Error::usage(crate::secret::NEVER_STORED),
        false => Error::encoding(std::any::type_name::<T>(), error),
    })
}
