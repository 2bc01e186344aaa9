//! Values that flow along the graph's edges. A value is any serde type that can be sent
//! between threads; it is encoded with postcard, whose wire format is stable, to be stored,
//! hashed and copied.

pub(crate) mod bounded;

use crate::error::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::sync::Arc;

/// A value that can be a station's input or output: serializable, owned, thread-safe.
///
/// Implemented by choochoo for every `Serialize + DeserializeOwned + Send + Sync + 'static`
/// type, including [`File`](crate::File) and [`Dir`](crate::Dir); there is nothing to
/// implement by hand: derive serde's traits on a type and it is a `Value`. Each bound has its
/// reason: outputs are encoded (with postcard) to be stored and hashed, remembered outputs
/// are decoded on later runs, and values are shared between stations on a thread pool. The
/// [`station`](crate::station#what-may-flow-between-stations) reference says more.
///
/// ```
/// use choochoo::{station, Value};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Release {
///     name: String,
///     version: (u32, u32, u32),
/// }
///
/// #[station]
/// fn tag(release: &Release) -> String {
///     let (major, minor, patch) = release.version;
///     format!("{}-{major}.{minor}.{patch}", release.name)
/// }
///
/// fn flows<T: Value>() {}
/// flows::<Release>();
/// flows::<Vec<choochoo::File>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot flow between stations: it is not a serializable value",
    label = "not `Serialize + DeserializeOwned + Send + Sync + 'static`",
    note = "station inputs and outputs are serde types; add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}`, or use `choochoo::File` for files"
)]
pub trait Value: Serialize + DeserializeOwned + Send + Sync + 'static {}

// Report "`T` cannot flow between stations" once, rather than each missing serde trait.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Value for T {}

/// A value whose type has been erased, shared between the graph and the stations reading it.
pub(crate) type Shared = Arc<dyn Any + Send + Sync>;

/// Encodes a value with postcard, into a buffer that holds a small value without growing
/// (one grown from empty reallocates five times on the way to 200 bytes).
pub(crate) fn encode<T: Value>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_extend(value, Vec::with_capacity(256))
}

/// A value's postcard encoding and the paths of the files and directories inside it.
pub(crate) type Encoded = (Vec<u8>, Vec<std::path::PathBuf>);

/// Encodes a value and lists the files and directories inside it.
pub(crate) fn encode_with_paths<T: Value>(value: &T) -> Result<Encoded, postcard::Error> {
    let (bytes, paths) = crate::file::collect_paths(|| encode(value));
    Ok((bytes?, paths))
}

/// Decodes a value encoded by [`encode`]; trailing bytes are an error. What it allocates is
/// bounded by the length of `bytes` (see [`bounded`]).
pub(crate) fn decode<T: Value>(bytes: &[u8]) -> Result<T, postcard::Error> {
    bounded::from_bytes(bytes)
}

/// An owned copy of `value`, made through its encoding, so values need not be `Clone`; the
/// [`Secret`](crate::Secret)s in it are handed over in memory, never encoded.
pub(crate) fn copy<T: Value>(value: &T) -> Result<T, postcard::Error> {
    crate::secret::context::copying(|| decode(&encode(value)?))
}

/// Takes a `T` out of a shared slot: moved when this is the last reference, copied otherwise.
pub(crate) fn take<T: Value>(shared: Shared) -> Result<T, Error> {
    let typed = shared.downcast::<T>().map_err(|_| {
        Error::internal(format!(
            "a node does not hold a `{}`",
            std::any::type_name::<T>()
        ))
    })?;
    match Arc::try_unwrap(typed) {
        Ok(value) => Ok(value),
        Err(typed) => {
            copy(&*typed).map_err(|error| Error::encoding(std::any::type_name::<T>(), error))
        }
    }
}
