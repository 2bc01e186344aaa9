//! What a watch looks at: every file and directory a graph depends on, which are the
//! [`File`](crate::File)s and [`Dir`](crate::Dir)s among its inputs, and the files and
//! directories its stations discovered, as the records of their last runs keep them.

use crate::discovered::Source;
use crate::error::Error;
use crate::graph::{Graph, Kind};
use crate::memo::Head;
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The paths to watch, each whole (a directory with everything under it) or not (a file).
pub(crate) type Watched = BTreeMap<PathBuf, bool>;

/// The declared and discovered files and directories of `graph` in `profile`, made
/// absolute; nothing under the store itself, which runs write to.
pub(crate) fn watched(store: &Store, profile: &str, graph: &Graph) -> Result<Watched, Error> {
    let mut watched = Watched::new();
    for node in &graph.nodes {
        if let Kind::Input(value) = &node.kind
            && let Ok((_, paths)) = (node.codec.encode)(&**value)
        {
            for path in paths {
                let whole = path.is_dir();
                watched.insert(path, whole);
            }
        }
    }
    let paths = crate::execution::paths::node_paths(graph)?;
    for (node, path) in graph.nodes.iter().zip(paths.iter()) {
        if !matches!(node.kind, Kind::Station { .. }) {
            continue;
        }
        // A map's items are nodes of their own in the store, each with what it discovered.
        let mut heads: Vec<Head> = store.head(profile, path)?.into_iter().collect();
        if node.map().is_some() {
            heads.extend(
                store
                    .item_heads(profile, path)?
                    .into_iter()
                    .map(|(_, head)| head),
            );
        }
        for head in heads {
            if let Some(Ok(record)) = store.record(profile, &head.key)? {
                discovered(&mut watched, record.discovered);
            }
        }
    }
    Ok(absolute(watched, store.dir()))
}

/// Adds the files and directories a station discovered.
fn discovered(watched: &mut Watched, inputs: Vec<crate::discovered::Discovered>) {
    for input in inputs {
        match input.source {
            Source::File(path) => watched.insert(path, false),
            Source::Dir(path) => watched.insert(path, true),
            Source::Env(_) => None,
        };
    }
}

/// `watched` with relative paths made absolute, and without the store's own files.
fn absolute(watched: Watched, store: &Path) -> Watched {
    let here = std::env::current_dir().unwrap_or_default();
    let store = here.join(store);
    watched
        .into_iter()
        .map(|(path, whole)| (here.join(path), whole))
        .filter(|(path, _)| !path.starts_with(&store))
        .collect()
}
