//! Cleaning: undoing what a workflow did, from its last station to its first, each map's
//! items before the map (with the station's clean function, if it has one, for each item
//! its list still has). Before a station's state is destroyed, what is about to go is
//! recorded (the files in its directory with sizes and hashes, and the output it had
//! produced), so it can be looked at later with [`Store::evidence`](crate::Store::evidence).
//!
//! What a clean will undo is found first ([`targets`]), so it can be shown as a list of
//! [`Undo`]s ([`plan`]) before the same list is cleaned ([`undo`]).

mod selection;
mod targets;
mod undo;

#[cfg(feature = "cli")]
pub(crate) use selection::Reach;
pub(crate) use selection::Selection;
pub(crate) use targets::{Targets, targets};
pub use undo::Undo;

use crate::cleaned::Cleaned;
use crate::diagram::preview::readable;
use crate::error::{Error, chain};
use crate::execution::Execution;
use crate::hash::Digest;
use crate::memo::{Head, Record};
use std::path::Path;
use targets::{Target, station_of};

pub(crate) fn clean(execution: &Execution<'_>) -> Result<Cleaned, Error> {
    undo(execution, targets(execution, &Selection::All)?)
}

/// What cleaning `targets` will do, in the order it will: the last station first.
pub(crate) fn plan(execution: &Execution<'_>, targets: &Targets) -> Vec<Undo> {
    targets
        .0
        .iter()
        .rev()
        .map(|(target, _, record)| {
            let station = station_of(execution, target.station_node());
            Undo::new(
                station.map_or("", |s| s.id()),
                station.map_or("", |s| s.name()),
                target.node(execution).to_owned(),
                target.calls_clean(execution),
                readable(|| target.output_json(execution, record.as_ref())),
            )
        })
        .collect()
}

/// Cleans `targets`, the last first. Stops at the first clean function that fails: the
/// error says what was and was not cleaned.
pub(crate) fn undo(execution: &Execution<'_>, targets: Targets) -> Result<Cleaned, Error> {
    let mut remembered = targets.0;
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
    let output = target.output_json(execution, record);
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
    if target.calls_clean(execution) {
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
