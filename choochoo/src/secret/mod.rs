//! Secret inputs: a password or a token a station needs, which must change the station's key
//! when it changes but must never be written anywhere. A [`Secret`] lives only in memory,
//! in the graph's input node and the stations that read it; what the runtime keeps of it
//! is a keyed BLAKE3 hash (`key.rs` says where the key comes from), and only inside the
//! hash that is a station's key. `context.rs` holds what encoding a secret does, which the
//! runtime sets around each encoding it makes: every other encoding refuses it.

pub(crate) mod context;
pub(crate) mod key;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// What a secret is shown as: in `Display`, in JSON (plans, defect observations, reports).
const SHOWN: &str = "<secret>";

/// A value a station needs that is never written down: a database password, an API token.
///
/// Give it to a workflow like any input (`Secret<String>` as a `workflow!` parameter, or
/// `graph.input(secret)`); a station takes it as `&Secret<T>` and reads it with
/// [`expose`](Secret::expose).
///
/// - **It is part of the key**, as a keyed BLAKE3 hash of its value: rotating it runs again
///   exactly the stations that read it, each with the reason ``secret `password` changed``
///   (the input's name), and nothing downstream whose output stays the same.
/// - **It is written nowhere**: not in the store (records, inline values, heads, runs,
///   defect observations, evidence), not on the remote cache (blobs, actions), not in
///   `plan`, reports, traces or the HTML report. `Debug` prints `Secret(…)`, `Display` and
///   serde's human-readable formats (JSON) `<secret>`; any other serialization of it is an
///   error. A station declared to return a `Secret` does not compile, and one whose output
///   holds one (a `Vec<Secret<T>>`, a struct field) fails ("its output cannot be stored")
///   instead of storing it.
/// - **The key of the hash** is `CHOOCHOO_SECRET_KEY` when it is set: a team's key of 32
///   bytes, as 64 hexadecimal characters or in base64 (`openssl rand -hex 32`), so stores
///   sharing a remote cache share results made with the same secret. Without it, each store
///   makes a random key of its own once, in `secret.key` in its directory (`0600`), and a
///   remote cache shares those results only between runs of this store. Anyone holding the
///   key can test guesses of a secret against a station's key, so keep the key as you keep
///   the secret, and use secrets with more entropy than a word.
///
/// What a station *does* with a secret is its own business: an output that contains it (a
/// connection string, a config file with the password in it), a log line or an error
/// message that prints it, is stored like any other. Return what was made with the secret,
/// not the secret.
///
/// ```
/// use choochoo::{station, workflow, Runner, Secret, Store};
///
/// /// Pretends to log in; returns who is logged in.
/// #[station]
/// fn log_in(user: &str, password: &Secret<String>) -> Result<String, std::io::Error> {
///     if password.expose().is_empty() {
///         return Err(std::io::Error::other("the password is empty"));
///     }
///     Ok(format!("{user} is in"))
/// }
///
/// workflow! {
///     fn session(user: String, password: Secret<String>) -> String {
///         log_in(user, password)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let password = Secret::new("hunter2".to_owned());
/// assert_eq!(format!("{password:?} {password}"), "Secret(…) <secret>");
///
/// let dir = std::env::temp_dir().join(format!("choochoo-secret-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let runner = Runner::new(&store);
/// let run = runner.run(session("ada".to_owned(), password.clone()))?;
/// assert_eq!(run.output(), "ada is in");
///
/// let plan = runner.plan(session("ada".to_owned(), Secret::new("rotated".to_owned())))?;
/// assert_eq!(plan.entries()[0].reason(), Some("secret `password` changed"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
pub struct Secret<T> {
    value: Arc<T>,
}

impl<T> Secret<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Secret<T> {
        Secret {
            value: Arc::new(value),
        }
    }

    /// The value, for the station that needs it.
    pub fn expose(&self) -> &T {
        &self.value
    }
}

impl Secret<String> {
    /// The value of the environment variable `name`; an error naming it when it is unset or
    /// not UTF-8.
    ///
    /// ```
    /// let missing = choochoo::Secret::from_env("CHOOCHOO_DOC_UNSET_PASSWORD").unwrap_err();
    /// assert!(missing.to_string().contains("`CHOOCHOO_DOC_UNSET_PASSWORD` is not set"));
    /// ```
    pub fn from_env(name: &str) -> Result<Secret<String>, crate::Error> {
        match std::env::var(name) {
            Ok(value) => Ok(Secret::new(value)),
            Err(std::env::VarError::NotPresent) => Err(crate::Error::usage(format!(
                "the secret's environment variable `{name}` is not set; set it to the secret"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(crate::Error::usage(format!(
                "the secret's environment variable `{name}` is not UTF-8"
            ))),
        }
    }
}

impl<T> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Secret {
            value: self.value.clone(),
        }
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SHOWN)
    }
}

/// Whether a value shown as JSON is a secret.
pub(crate) fn is(json: &serde_json::Value) -> bool {
    json.as_str() == Some(SHOWN)
}

/// Whether a value shown as JSON holds a secret: is one (`<secret>`), or holds one in a
/// field or an element.
pub(crate) fn shows(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::String(_) => is(json),
        serde_json::Value::Array(items) => items.iter().any(shows),
        serde_json::Value::Object(fields) => fields.values().any(shows),
        _ => false,
    }
}

/// Why a secret cannot be encoded or decoded here.
pub(crate) const NEVER_STORED: &str = "a `Secret` is never stored or sent, so it cannot be part of a \
                            station's output; return what was made with it instead";

impl<T: Serialize + Send + Sync + 'static> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mode = context::mode();
        if serializer.is_human_readable() {
            return serializer.serialize_str(SHOWN);
        }
        match mode {
            context::Mode::Refuse => {
                context::refuse();
                Err(S::Error::custom(NEVER_STORED))
            }
            context::Mode::Named => {
                context::mark();
                serializer.serialize_bytes(b"secret")
            }
            context::Mode::Copy => serializer.serialize_u64(context::pass(self.value.clone())),
            context::Mode::Keyed { keys, create } => {
                let key = keys.get(create).map_err(S::Error::custom)?;
                let encoded = postcard::to_stdvec(&*self.value).map_err(S::Error::custom)?;
                let mut hasher = blake3::Hasher::new_keyed(&key);
                hasher.update(b"choochoo/secret\0");
                hasher.update(&(encoded.len() as u64).to_le_bytes());
                hasher.update(&encoded);
                serializer.serialize_bytes(hasher.finalize().as_bytes())
            }
        }
    }
}

impl<'de, T: Send + Sync + 'static> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let index = u64::deserialize(deserializer)?;
        let value = context::passed(index).ok_or_else(|| D::Error::custom(NEVER_STORED))?;
        let value = value
            .downcast::<T>()
            .map_err(|_| D::Error::custom("a secret of another type"))?;
        Ok(Secret { value })
    }
}
