//! One step of a clean, known before anything is touched: a preview to read, or to confirm.

use std::fmt;

/// Outputs longer than this many characters are cut when shown.
const SHOWN: usize = 60;

/// One step of a clean, as [`Runner::clean_plan`](crate::Runner::clean_plan) finds it
/// without touching anything: a station (or a map's item) the store remembers, whether
/// cleaning it calls the station's clean function, and the output it had produced. A clean
/// takes the same steps in the same order, each recording its evidence first.
///
/// It prints as one line: `shop.db (create_db): calls its clean function; output "…"`.
///
/// ```
/// use choochoo::{station, workflow, Runner, Store};
/// use std::path::{Path, PathBuf};
///
/// /// Creates a "database": a file in `dir`.
/// #[station(clean = drop_db)]
/// fn create_db(dir: &PathBuf) -> Result<PathBuf, std::io::Error> {
///     let db = dir.join("shop.db");
///     std::fs::write(&db, "tables")?;
///     Ok(db)
/// }
///
/// fn drop_db(_dir: &Path, db: &Path) -> Result<(), std::io::Error> {
///     std::fs::remove_file(db)
/// }
///
/// /// Says where the shop is served from; nothing to undo.
/// #[station]
/// fn serve(db: &PathBuf) -> String {
///     format!("serving from {}", db.file_name().unwrap_or_default().to_string_lossy())
/// }
///
/// workflow! {
///     fn shop(dir: PathBuf) -> String {
///         let db = create_db(dir);
///         serve(db)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let dir = std::env::temp_dir().join(format!("choochoo-undo-{}", std::process::id()));
/// let store = Store::open(dir.join("store"))?;
/// let runner = Runner::new(&store);
/// runner.run(shop(dir.clone()))?;
///
/// let plan = runner.clean_plan(shop(dir.clone()))?;
/// let nodes: Vec<&str> = plan.iter().map(|undo| undo.node()).collect();
/// assert_eq!(nodes, ["shop.output", "shop.db"]); // the last station first
/// assert_eq!(plan[0].output(), Some("\"serving from shop.db\""));
/// assert!(!plan[0].calls_clean() && plan[1].calls_clean());
/// assert!(dir.join("shop.db").exists(), "a plan touches nothing");
///
/// // The clean takes the same steps.
/// assert_eq!(runner.clean(shop(dir.clone()))?.cleaned(), nodes);
/// assert!(!dir.join("shop.db").exists());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Undo {
    id: &'static str,
    name: &'static str,
    node: String,
    calls_clean: bool,
    output: Option<String>,
}

impl Undo {
    pub(super) fn new(
        id: &'static str,
        name: &'static str,
        node: String,
        calls_clean: bool,
        output: Option<serde_json::Value>,
    ) -> Undo {
        Undo {
            id,
            name,
            node,
            calls_clean,
            output: output.map(|json| cut(&json.to_string())),
        }
    }

    /// The station's id.
    pub fn id(&self) -> &str {
        self.id
    }

    /// The station's human name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The node's name in the store, `map[item]` for an item of a map.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether cleaning it calls the station's clean function. Without one (or for a map,
    /// whose items are cleaned on their own), only its record and directory are removed.
    pub fn calls_clean(&self) -> bool {
        self.calls_clean
    }

    /// The output it had produced, as JSON cut to 60 characters (files as their paths);
    /// `None` when the store no longer has it.
    pub fn output(&self) -> Option<&str> {
        self.output.as_deref()
    }
}

impl fmt::Display for Undo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): ", self.node, self.name)?;
        f.write_str(if self.calls_clean {
            "calls its clean function"
        } else {
            "forgets its result only"
        })?;
        match &self.output {
            Some(output) => write!(f, "; output {output}"),
            None => f.write_str("; its output is no longer in the store"),
        }
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= SHOWN {
        return text.to_owned();
    }
    let head: String = text.chars().take(SHOWN - 1).collect();
    format!("{head}…")
}
