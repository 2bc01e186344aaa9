//! The commands that run, plan and draw the workflow, and export its runs.

use super::args::{GraphFormat, RunOptions};
use super::progress_view::ProgressView;
use super::{FAILED, Session, emit, say, status};
use crate::clock;
use crate::diagram::Diagram;
use crate::diagram::preview::readable;
use crate::error::Error;
use crate::report::{Report, Status};
use crate::store::Store;
use crate::workflow::Workflow;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Outputs longer than this are cut when printed.
const OUTPUT_SHOWN: usize = 2000;

pub(super) fn run<W, F>(s: &Session<'_, F>, options: &RunOptions) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    let store = s.store_for_run()?;
    #[cfg(feature = "watch")]
    if options.watch {
        return super::watch::watch(s, options, &store);
    }
    run_once(s, options, &store)
}

/// One run, shown as it goes, and what it did printed after it.
pub(super) fn run_once<W, F>(
    s: &Session<'_, F>,
    options: &RunOptions,
    store: &Store,
) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
    W::Output: serde::Serialize,
{
    let (_, graph) = s.graph()?;
    let jobs = options
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let view = ProgressView::start(s.args, store, &graph, jobs)?;
    let mut runner = s
        .runner(store)
        .jobs(jobs)
        .keep_going(options.keep_going)
        .force(&options.force)
        .force_downstream(&options.force_downstream);
    runner = super::policy::apply(runner, options);
    if let Some(listener) = view.listener() {
        runner = runner.progress(listener);
    }
    #[cfg(feature = "remote")]
    if let Some(remote) = options.remote.remote() {
        runner = runner.remote(remote);
    }
    #[cfg(feature = "temporal")]
    if let Some(workers) = options.temporal.temporal() {
        runner = runner.temporal(workers);
    }
    let started = Instant::now();
    let result = match options.targets.as_slice() {
        [] => runner.run((s.workflow)()).map(|run| {
            let output = readable(|| serde_json::to_value(run.output()).ok());
            (run.into_report(), output)
        }),
        targets => runner
            .targets(targets)
            .run((s.workflow)())
            .map(|report| (report, None)),
    };
    view.finish();
    ended(s, store, result, started.elapsed(), watching(options))
}

#[cfg(feature = "watch")]
fn watching(options: &RunOptions) -> bool {
    options.watch
}

#[cfg(not(feature = "watch"))]
fn watching(_options: &RunOptions) -> bool {
    false
}

/// Prints what a run did: its stations with `--verbose`, warnings, the summary, and its
/// output or its failures.
fn ended<F>(
    s: &Session<'_, F>,
    store: &Store,
    result: Result<(Report, Option<serde_json::Value>), Error>,
    took: std::time::Duration,
    watching: bool,
) -> Result<ExitCode, Error> {
    match result {
        Ok((report, output)) => {
            details(s, &report, watching);
            super::warnings::at_end(&report);
            say(summary(&report, took));
            if let Some(output) = output {
                say(shown(&output));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let Some(report) = error.report() else {
                return Err(error);
            };
            details(s, report, watching);
            super::warnings::at_end(report);
            say(summary(report, took));
            eprintln!("error: {}", crate::error::chain(&error));
            super::failures::failures(store, report, &s.program);
            Ok(ExitCode::from(FAILED))
        }
    }
}

/// With `--verbose`, every station and why it ran (or did not); while watching, the
/// stations that ran or failed, and why they ran.
fn details<F>(s: &Session<'_, F>, report: &Report, watching: bool) {
    if s.args.quiet || !(s.args.verbose || watching) {
        return;
    }
    let shown = |status| s.args.verbose || matches!(status, Status::Ran | Status::Failed);
    for entry in report.entries().iter().filter(|e| shown(e.status())) {
        let mut line = format!("{:>8}  {}", entry.status().to_string(), entry.node());
        if matches!(entry.status(), Status::Ran | Status::Failed) {
            line.push_str(&format!(" ({})", clock::duration(entry.duration())));
        }
        if let Some(reason) = entry.reason() {
            line.push_str(&format!(": {reason}"));
        }
        say(line);
    }
}

/// `6 stations: 4 ran, 2 cached in 1.3s (run 7)`, with `; 34 items: 1 ran, 33 cached`
/// before ` in` when maps ran.
fn summary(report: &Report, took: std::time::Duration) -> String {
    let counts = if report.entries().is_empty() {
        "0 stations: nothing to do".to_owned()
    } else {
        report.tally(|status| status.to_string())
    };
    format!(
        "{counts} in {} (run {})",
        clock::duration(took),
        report.run_id()
    )
}

/// `output: 42` (the output as JSON), or for a text of several lines (a program's report)
/// `output:` and then its lines as they are.
fn shown(output: &serde_json::Value) -> String {
    match output.as_str() {
        Some(text) if text.trim_end().contains('\n') => {
            format!("output:\n{}", cut(text.trim_end()))
        }
        _ => format!("output: {}", cut(&output.to_string())),
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= OUTPUT_SHOWN {
        return text.to_owned();
    }
    let head: String = text.chars().take(OUTPUT_SHOWN).collect();
    format!("{head}… ({} bytes in all)", text.len())
}

pub(super) fn graph<W, F>(
    s: &Session<'_, F>,
    format: GraphFormat,
    out: Option<&Path>,
) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let store = s.store()?;
    let (name, graph) = s.graph()?;
    let mut diagram = Diagram::from_graph(name, &graph)?;
    let last = status::last_statuses(&store, &s.args.profile)?;
    let stations: Vec<String> = diagram.stations().map(str::to_owned).collect();
    for node in stations {
        diagram.set_status(&node, last(&node));
    }
    let plan = s.runner(&store).plan_graph(&graph)?;
    for (map, items) in item_counts(&plan, &last) {
        diagram.set_items(&map, items);
    }
    let text = match format {
        GraphFormat::Dot => diagram.dot(),
        GraphFormat::Mermaid => diagram.mermaid(),
        GraphFormat::Svg => diagram.svg() + "\n",
    };
    emit(&text, out)?;
    if let Some(out) = out {
        say(format_args!("wrote {}", out.display()));
    }
    Ok(ExitCode::SUCCESS)
}

/// How the items of each map whose list is known stand, by their last status:
/// `34 items: 33 cached, 1 failed`, `3 items: 2 ran, 1 never run`.
fn item_counts(
    plan: &crate::plan::Plan,
    last: &impl Fn(&str) -> Option<Status>,
) -> Vec<(String, String)> {
    let mut maps: Vec<(&str, Vec<Option<Status>>)> = Vec::new();
    for planned in plan.entries() {
        let Some((map, _)) = crate::report::split_item(planned.node()) else {
            continue;
        };
        let status = last(planned.node());
        match maps.last_mut() {
            Some((of, statuses)) if *of == map => statuses.push(status),
            _ => maps.push((map, vec![status])),
        }
    }
    maps.into_iter()
        .map(|(map, statuses)| {
            let known: Vec<Status> = statuses.iter().flatten().copied().collect();
            let mut parts = Vec::new();
            if !known.is_empty() {
                parts.push(crate::diagram::status_counts(&known));
            }
            if known.len() < statuses.len() {
                parts.push(format!("{} never run", statuses.len() - known.len()));
            }
            (
                map.to_owned(),
                format!("{} items: {}", statuses.len(), parts.join(", ")),
            )
        })
        .collect()
}

pub(super) fn trace<F>(
    s: &Session<'_, F>,
    run: Option<i64>,
    out: Option<&Path>,
) -> Result<ExitCode, Error> {
    let store = s.store()?;
    let report = pick_run(&store, &s.args.profile, run)?;
    emit(&(report.chrome_trace() + "\n"), out)?;
    if let Some(out) = out {
        say(format_args!(
            "wrote {} (run {}): open it in https://ui.perfetto.dev or chrome://tracing",
            out.display(),
            report.run_id()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn report<W, F>(
    s: &Session<'_, F>,
    run: Option<i64>,
    out: &Path,
) -> Result<ExitCode, Error>
where
    F: Fn() -> W,
    W: Workflow,
{
    let store = s.store()?;
    let report = pick_run(&store, &s.args.profile, run)?;
    let (name, graph) = s.graph()?;
    let diagram = Diagram::from_graph(name, &graph)?;
    let page = report.html(&store, &diagram)?;
    emit(&page, Some(out))?;
    say(format_args!(
        "wrote {} (run {}): open it in a browser",
        out.display(),
        report.run_id()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The report of run `run`, or of the profile's latest finished run.
fn pick_run(store: &Store, profile: &str, run: Option<i64>) -> Result<Report, Error> {
    let run = match run {
        Some(run) => run,
        None => store.latest_run(profile)?.ok_or_else(|| {
            Error::usage(format!(
                "no run of the profile `{profile}` has finished in the store {}; `run` first",
                store.dir().display()
            ))
        })?,
    };
    store.report(Some(run))?.ok_or_else(|| {
        Error::usage(format!(
            "there is no run {run} in the store {}",
            store.dir().display()
        ))
    })
}
