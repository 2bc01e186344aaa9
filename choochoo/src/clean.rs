//! Cleaning: undoing what a workflow did, from its last station to its first. Before a
//! station's state is destroyed, what is about to go is recorded (the files in its directory
//! with sizes and hashes, and the output it had produced), so it can be looked at later with
//! [`Store::evidence`](crate::Store::evidence).

use crate::cleaned::Cleaned;
use crate::error::{Error, chain};
use crate::execution::Execution;
use crate::graph::{Kind, NodeId};
use crate::hash::Digest;
use crate::memo::{Head, Record};
use std::path::Path;

pub(crate) fn clean(execution: &Execution<'_>) -> Result<Cleaned, Error> {
    clean_some(execution, |_| true)
}

/// [`clean`] for the stations `selected` says yes to; the others keep their records and
/// directories (their records are still read, to give the cleaned ones their inputs).
pub(crate) fn clean_some(
    execution: &Execution<'_>,
    selected: impl Fn(NodeId) -> bool,
) -> Result<Cleaned, Error> {
    let profile = &execution.settings.profile;
    let mut remembered: Vec<(NodeId, Head, Option<Record>)> = Vec::new();
    for (id, node) in execution.graph.ids().zip(&execution.graph.nodes) {
        if !matches!(node.kind, Kind::Station { .. }) {
            continue;
        }
        if let Some(head) = execution
            .store
            .head(profile, &execution.paths[id.index()])?
        {
            let record = execution
                .store
                .record(profile, &head.key)?
                .and_then(Result::ok);
            if let Some(record) = &record {
                execution.remember(id, record.clone());
            }
            if selected(id) {
                remembered.push((id, head, record));
            }
        }
    }
    let mut done = Cleaned::default();
    while let Some((id, head, record)) = remembered.pop() {
        let node = execution.paths[id.index()].to_string();
        if let Err(error) = clean_one(execution, id, &head, record.as_ref()) {
            done.failed = Some((node, error));
            done.not_cleaned = remembered
                .iter()
                .rev()
                .map(|(id, ..)| execution.paths[id.index()].to_string())
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
    id: NodeId,
    head: &Head,
    record: Option<&Record>,
) -> Result<(), String> {
    let Kind::Station { station, .. } = &execution.graph.node(id).kind else {
        return Ok(());
    };
    let profile = &execution.settings.profile;
    let node = &execution.paths[id.index()];
    let dir = execution.store.work_dir(profile, node);
    let evidence = serde_json::json!({
        "node": node.as_ref(),
        "station": station.id(),
        "key": head.key.to_hex(),
        "directory": dir.display().to_string(),
        "files": files(&dir),
        "output": record.and_then(|_| execution.output_json(id)),
        "output_files": record.map(|r| r.files.iter().map(|(p, d)| serde_json::json!({"path": p.display().to_string(), "blake3": d.to_hex()})).collect::<Vec<_>>()),
    });
    execution
        .store
        .record_evidence(profile, node, station.id(), &evidence)
        .map_err(|e| chain(&e))?;
    if station.has_clean() {
        if record.is_none() {
            return Err(
                "its last output is not in the store, so its clean function cannot be called"
                    .to_owned(),
            );
        }
        execution.clean_station(id)?;
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
