//! What a clean did: the nodes cleaned, the one whose clean function failed, and those left
//! as they were.

use std::fmt;

/// What [`Runner::clean`](crate::Runner::clean) did.
///
/// A failed clean's [`Error::cleaned`](crate::Error::cleaned) says the same.
///
/// ```
/// use choochoo::{station, workflow, Runner, Status, Store};
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(x: u64) -> u64 {
///         let y = double(x);
///         double(y)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-clean-{}", std::process::id()));
/// let store = Store::open(&dir)?;
/// let runner = Runner::new(&store);
/// runner.run(twice(1))?;
///
/// let cleaned = runner.clean(twice(1))?;
/// assert_eq!(cleaned.cleaned(), ["twice.output", "twice.y"]); // the last station first
/// // Forgotten: the next run runs both again.
/// assert_eq!(runner.run(twice(1))?.report().count(Status::Ran), 2);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cleaned {
    pub(crate) cleaned: Vec<String>,
    pub(crate) failed: Option<(String, String)>,
    pub(crate) not_cleaned: Vec<String>,
}

impl Cleaned {
    /// The nodes cleaned, in the order they were (last station first).
    pub fn cleaned(&self) -> &[String] {
        &self.cleaned
    }

    /// The node whose clean function failed, and its error.
    pub fn failed(&self) -> Option<(&str, &str)> {
        self.failed
            .as_ref()
            .map(|(node, error)| (node.as_str(), error.as_str()))
    }

    /// The nodes left as they were because a clean before them failed.
    pub fn not_cleaned(&self) -> &[String] {
        &self.not_cleaned
    }
}

impl fmt::Display for Cleaned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((node, error)) = &self.failed {
            write!(f, "cleaning `{node}` failed: {error}; ")?;
        }
        write!(f, "cleaned {}: {}", self.cleaned.len(), list(&self.cleaned))?;
        if !self.not_cleaned.is_empty() {
            write!(f, "; not cleaned: {}", list(&self.not_cleaned))?;
        }
        Ok(())
    }
}

fn list(nodes: &[String]) -> String {
    if nodes.is_empty() {
        "none".to_owned()
    } else {
        nodes.join(", ")
    }
}
