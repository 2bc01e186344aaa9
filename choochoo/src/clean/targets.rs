//! What a clean will undo: the stations and map items of a selection that the store
//! remembers, each with the head and record it has for them, found before anything is
//! touched so that a preview and the clean itself see the same list.

use super::selection::Selection;
use crate::error::Error;
use crate::execution::Execution;
use crate::graph::Kind;
use crate::graph::erased::ErasedStation;
use crate::graph::node::NodeId;
use crate::memo::{Head, Record};
use crate::value::Shared;
use std::collections::HashMap;
use std::sync::Arc;

/// One thing to clean: a station's node, or an item of a map, with the item when its list
/// still has it.
pub(super) enum Target {
    Node(NodeId),
    Item {
        map: NodeId,
        node: String,
        value: Option<Shared>,
    },
}

/// A target with the head the store has for it, and the record that head points at.
pub(super) type Remembered = (Target, Head, Option<Record>);

/// The remembered targets of a selection, first station first (a map before its items);
/// a clean takes them from the last.
pub(crate) struct Targets(pub(super) Vec<Remembered>);

/// What the store remembers of `selected`. The other stations' records are read too, to
/// give the selected ones their inputs.
pub(crate) fn targets(execution: &Execution<'_>, selected: &Selection) -> Result<Targets, Error> {
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
        if node.map().is_some() {
            remembered.extend(item_targets(execution, id, selected)?);
        }
    }
    Ok(Targets(remembered))
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
    pub(super) fn node<'e>(&'e self, execution: &'e Execution<'_>) -> &'e str {
        match self {
            Target::Node(id) => &execution.paths[id.index()],
            Target::Item { node, .. } => node,
        }
    }

    /// The node of its station: itself, or its map.
    pub(super) fn station_node(&self) -> NodeId {
        match self {
            Target::Node(id) | Target::Item { map: id, .. } => *id,
        }
    }

    /// Whether cleaning it calls its station's clean function: a map's effects are its
    /// items', each cleaned on its own before it.
    pub(super) fn calls_clean(&self, execution: &Execution<'_>) -> bool {
        let is_map = matches!(self, Target::Node(id) if execution.graph.node(*id).map().is_some());
        !is_map && station_of(execution, self.station_node()).is_some_and(|s| s.has_clean())
    }

    /// The output it had produced, as JSON, if the store still has it.
    pub(super) fn output_json(
        &self,
        execution: &Execution<'_>,
        record: Option<&Record>,
    ) -> Option<serde_json::Value> {
        let record = record?;
        match self {
            Target::Node(id) => execution.output_json(*id),
            Target::Item { map, .. } => execution.item_output_json(*map, record),
        }
    }
}

pub(super) fn station_of<'g>(
    execution: &Execution<'g>,
    id: NodeId,
) -> Option<&'g Arc<dyn ErasedStation>> {
    match &execution.graph.node(id).kind {
        Kind::Station { station, .. } => Some(station),
        Kind::Input(_) => None,
    }
}
