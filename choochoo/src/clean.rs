//! Cleaning: undoing what a workflow did, from its last station to its first, each map's
//! items before the map (with the station's clean function, if it has one, for each item
//! its list still has). Before a station's state is destroyed, what is about to go is recorded (the files in its directory
//! with sizes and hashes, and the output it had produced), so it can be looked at later with
//! [`Store::evidence`](crate::Store::evidence).

use crate::cleaned::Cleaned;
use crate::error::{Error, chain};
use crate::execution::Execution;
use crate::graph::Kind;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use crate::hash::Digest;
use crate::memo::{Head, Record};
use crate::value::Shared;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

pub(crate) fn clean(execution: &Execution<'_>) -> Result<Cleaned, Error> {
    clean_some(execution, &Selection::All)
}

/// What to clean: every station and map item, or the named ones (a map named is cleaned
/// with its items).
pub(crate) enum Selection {
    All,
    #[cfg_attr(
        not(feature = "cli"),
        expect(dead_code, reason = "the command line's `clean NAME` names them")
    )]
    Only {
        /// By node index.
        nodes: Vec<bool>,
        /// By node name, `map[item]`.
        items: HashSet<Box<str>>,
    },
}

impl Selection {
    fn node(&self, id: NodeId) -> bool {
        match self {
            Selection::All => true,
            Selection::Only { nodes, .. } => nodes[id.index()],
        }
    }

    fn item(&self, map: NodeId, node: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only { nodes, items } => nodes[map.index()] || items.contains(node),
        }
    }
}

/// One thing to clean: a station's node, or an item of a map, with the item when its list
/// still has it.
enum Target {
    Node(NodeId),
    Item {
        map: NodeId,
        node: String,
        value: Option<Shared>,
    },
}

/// A target with the head the store has for it, and the record that head points at.
type Remembered = (Target, Head, Option<Record>);

/// [`clean`] for what `selected` names; the others keep their records and directories
/// (their records are still read, to give the cleaned ones their inputs).
pub(crate) fn clean_some(
    execution: &Execution<'_>,
    selected: &Selection,
) -> Result<Cleaned, Error> {
    let mut remembered: Vec<Remembered> = Vec::new();
    for (id, node) in execution.graph.ids().zip(&execution.graph.nodes) {
        if !matches!(node.kind, Kind::Station { .. }) {
            continue;
        }
        let path = &execution.paths[id.index()];
        if let Some((head, record)) = remembered_of(execution, path)? {
            if let Some(record) = &record {
                execution.remember(id, record.clone());
            }
            if selected.node(id) {
                remembered.push((Target::Node(id), head, record));
            }
        }
        if node.map.is_some() {
            remembered.extend(item_targets(execution, id, selected)?);
        }
    }
    let mut done = Cleaned::default();
    while let Some((target, head, record)) = remembered.pop() {
        let node = target.node(execution).to_owned();
        if let Err(error) = clean_one(execution, &target, &head, record.as_ref()) {
            done.failed = Some((node, error));
            done.not_cleaned = remembered
                .iter()
                .rev()
                .map(|(target, ..)| target.node(execution).to_owned())
                .collect();
            return Err(Error::clean_failed(done));
        }
        done.cleaned.push(node);
    }
    Ok(done)
}

/// The head the store has for `node`, and its record if it is readable.
fn remembered_of(
    execution: &Execution<'_>,
    node: &str,
) -> Result<Option<(Head, Option<Record>)>, Error> {
    let profile = &execution.settings.profile;
    let Some(head) = execution.store.head(profile, node)? else {
        return Ok(None);
    };
    let record = execution
        .store
        .record(profile, &head.key)?
        .and_then(Result::ok);
    Ok(Some((head, record)))
}

/// The items of map `id` the store remembers and `selected` names, by node name. An item
/// its list no longer has is cleaned only when the station has no clean function (which
/// would need the item): else it is left as it is.
fn item_targets(
    execution: &Execution<'_>,
    id: NodeId,
    selected: &Selection,
) -> Result<Vec<Remembered>, Error> {
    let profile = &execution.settings.profile;
    let heads = execution
        .store
        .item_heads(profile, &execution.paths[id.index()])?;
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let current: HashMap<Box<str>, Shared> = execution
        .current_items(id)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let has_clean = station_of(execution, id).is_some_and(|station| station.has_clean());
    let mut targets = Vec::new();
    for (node, head) in heads {
        let value = current.get(node.as_str()).cloned();
        if !selected.item(id, &node) || (value.is_none() && has_clean) {
            continue;
        }
        let record = execution
            .store
            .record(profile, &head.key)?
            .and_then(Result::ok);
        targets.push((
            Target::Item {
                map: id,
                node,
                value,
            },
            head,
            record,
        ));
    }
    Ok(targets)
}

impl Target {
    /// Its node's name in the store.
    fn node<'e>(&'e self, execution: &'e Execution<'_>) -> &'e str {
        match self {
            Target::Node(id) => &execution.paths[id.index()],
            Target::Item { node, .. } => node,
        }
    }

    /// The node of its station: itself, or its map.
    fn station_node(&self) -> NodeId {
        match self {
            Target::Node(id) | Target::Item { map: id, .. } => *id,
        }
    }
}

fn station_of<'g>(execution: &Execution<'g>, id: NodeId) -> Option<&'g Arc<dyn ErasedStation>> {
    match &execution.graph.node(id).kind {
        Kind::Station { station, .. } => Some(station),
        Kind::Input(_) => None,
    }
}

/// Records the evidence, calls the clean function, forgets the node, removes its directory.
fn clean_one(
    execution: &Execution<'_>,
    target: &Target,
    head: &Head,
    record: Option<&Record>,
) -> Result<(), String> {
    let Some(station) = station_of(execution, target.station_node()) else {
        return Ok(());
    };
    let profile = &execution.settings.profile;
    let node = target.node(execution);
    let dir = execution.store.work_dir(profile, node);
    let output = record.and_then(|record| match target {
        Target::Node(id) => execution.output_json(*id),
        Target::Item { map, .. } => execution.item_output_json(*map, record),
    });
    let evidence = serde_json::json!({
        "node": node,
        "station": station.id(),
        "key": head.key.to_hex(),
        "directory": dir.display().to_string(),
        "files": files(&dir),
        "output": output,
        "output_files": record.map(|r| r.files.iter().map(|(p, d)| serde_json::json!({"path": p.display().to_string(), "blake3": d.to_hex()})).collect::<Vec<_>>()),
    });
    execution
        .store
        .record_evidence(profile, node, station.id(), &evidence)
        .map_err(|e| chain(&e))?;
    // A map's effects are its items', each cleaned on its own before it.
    let is_map = matches!(target, Target::Node(id) if execution.graph.node(*id).map.is_some());
    if station.has_clean() && !is_map {
        call_clean(execution, target, record)?;
    }
    execution
        .store
        .forget_node(profile, node, &head.key)
        .map_err(|e| chain(&e))?;
    match std::fs::remove_dir_all(&dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {error}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Calls the station's clean function on what it last did for `target`.
fn call_clean(
    execution: &Execution<'_>,
    target: &Target,
    record: Option<&Record>,
) -> Result<(), String> {
    let Some(record) = record else {
        return Err(
            "its last output is not in the store, so its clean function cannot be called"
                .to_owned(),
        );
    };
    match target {
        Target::Node(id) => execution.clean_station(*id),
        Target::Item { map, value, .. } => match value {
            Some(value) => execution.clean_item(*map, value, record),
            None => {
                Err("its list no longer has it, so its clean function cannot be called".to_owned())
            }
        },
    }
}

/// Every file under `dir`: path relative to it, size, BLAKE3 of its bytes.
fn files(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let hash = std::fs::read(&path)
                .map(|bytes| Digest::of(&bytes).to_hex())
                .unwrap_or_default();
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push(serde_json::json!({"path": relative, "size": meta.len(), "blake3": hash}));
        }
    }
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    out
}
