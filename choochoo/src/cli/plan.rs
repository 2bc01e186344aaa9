//! `plan`: what a run would do and why, as text or JSON, without doing it; with `--check`,
//! the checks of remembered stations are asked (changing nothing) to show what drifted;
//! with names, only of those stations and what they need.

use super::args::PlanFormat;
use super::{Session, say};
use crate::error::Error;
use crate::plan::Action;
use crate::workflow::Workflow;
use std::process::ExitCode;

/// Prints what a run would do, station by station; with `check`, having asked the checks.
pub(super) fn plan<W, F>(
    s: &Session<'_, F>,
    format: PlanFormat,
    check: bool,
    targets: &[String],
) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let store = s.store()?;
    let (name, graph) = s.graph()?;
    let runner = s.runner(&store);
    let targets = runner.targets(targets);
    let plan = match check {
        true => targets.plan_graph_checked(&graph)?,
        false => targets.plan_graph(&graph)?,
    };
    match format {
        PlanFormat::Text => say(&plan),
        PlanFormat::Json => {
            let stations: Vec<serde_json::Value> = plan
                .entries()
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "node": p.node(), "label": p.label(), "item": p.item(), "station": p.id(), "name": p.name(),
                        "action": action(p.action()), "reason": p.reason(), "drifted": p.drifted(),
                    })
                })
                .collect();
            let count = |a| plan.with_action(a).count();
            let json = serde_json::json!({
                "workflow": name,
                "profile": s.args.profile,
                "stations": stations,
                "counts": {
                    "run": count(Action::Run),
                    "may_run": count(Action::MayRun),
                    "cached": count(Action::Cached),
                    "unknown": count(Action::Unknown),
                    "drifted": plan.entries().iter().filter(|p| p.drifted()).count(),
                },
            });
            say(serde_json::to_string_pretty(&json).unwrap_or_default());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn action(action: Action) -> &'static str {
    match action {
        Action::Cached => "cached",
        Action::Run => "run",
        Action::MayRun => "may_run",
        Action::Unknown => "unknown",
    }
}
