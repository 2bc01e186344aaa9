//! The JSON ticket body: everything the ledger holds about a defect, for scripts.

use super::export::{next_expected, rfc3339};
use super::model::{Defect, duration};
use super::observation::Observation;

/// The JSON ticket body of `defect`: everything the ledger holds about it.
pub(crate) fn json(defect: &Defect, observations: &[Observation]) -> String {
    let d = defect;
    let notes: Vec<_> = d
        .notes
        .iter()
        .map(|note| {
            serde_json::json!({
                "kind": note.kind.as_str(),
                "text": note.text,
                "added": rfc3339(note.added_ns),
                "added_by": note.added_by,
            })
        })
        .collect();
    let decisions: Vec<_> = d
        .decisions
        .iter()
        .map(|decision| {
            serde_json::json!({
                "what": decision.what,
                "by": decision.by,
                "at": rfc3339(decision.at_ns),
            })
        })
        .collect();
    let value = serde_json::json!({
        "id": d.id.0,
        "title": d.title,
        "status": d.status.as_str(),
        "regressed": d.regressed,
        "count": d.count,
        "runs_seen": d.runs,
        "last_run": d.last_run,
        "quiet_since_run": d.quiet_since,
        "recovered": d.recovered,
        "first_seen": rfc3339(d.first_ns),
        "last_seen": rfc3339(d.last_ns),
        "mean_interval_seconds": d.mean_interval().map(|i| i.as_secs_f64()),
        "next_expected": next_expected(d).map(rfc3339),
        "stations": d.stations,
        "instances": d.instances,
        "blocked_downstream": d.blocked,
        "time_lost_seconds": duration(d.lost_ns).as_secs_f64(),
        "signatures": d.signatures,
        "notes": notes,
        "decisions": decisions,
        "observations": observations.iter().map(observation_json).collect::<Vec<_>>(),
    });
    format!("{value:#}")
}

fn observation_json(o: &Observation) -> serde_json::Value {
    let inputs: Vec<_> = o
        .inputs
        .iter()
        .map(|(name, digest)| {
            let value = o.input_values.iter().find(|(n, _)| n == name);
            serde_json::json!({
                "name": name,
                "hash": digest.to_hex(),
                "value": value.map(|(_, value)| value),
            })
        })
        .collect();
    serde_json::json!({
        "id": o.id.0,
        "title": o.title,
        "signature": o.signature,
        "station_id": o.station_id,
        "station_name": o.station_name,
        "node": o.node,
        "profile": o.profile,
        "instance": o.instance,
        "run": o.run,
        "started": rfc3339(o.started_ns),
        "failed": rfc3339(o.finished_ns),
        "duration_seconds": duration(o.duration_ns).as_secs_f64(),
        "message": o.message,
        "error_chain": o.chain,
        "panic": o.panic,
        "log_tail": o.log_tail,
        "inputs": inputs,
        "kept_dir": o.kept_dir.as_ref().map(|dir| dir.to_string_lossy()),
        "blocked_downstream": o.blocked,
        "attempts": o.attempts,
        "recovered": o.recovered,
        "failed_attempts": o.failures.iter().map(|a| serde_json::json!({
            "attempt": a.attempt,
            "message": a.message,
            "failed": rfc3339(a.finished_ns),
            "duration_seconds": duration(a.duration_ns).as_secs_f64(),
            "kept_dir": a.kept_dir.as_ref().map(|dir| dir.to_string_lossy()),
        })).collect::<Vec<_>>(),
    })
}
