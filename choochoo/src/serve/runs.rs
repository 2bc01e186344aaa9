//! The runs page: the latest runs, each with its status, counts, duration, profile and
//! host; a run in flight with what it has done so far. Its rows are also what the page's
//! event stream sends when they change (`live.rs`).

use super::page::{self, Answer, Part, esc};
use super::routes::App;
use crate::clock;
use crate::error::Error;
use crate::store::run_list::{RunLine, RunState};
use axum::http::StatusCode;
use std::fmt::Write as _;

/// How many runs the page lists.
const RUNS_SHOWN: usize = 100;

pub(super) fn page(app: &App) -> Result<Answer, Error> {
    let rows = rows(app)?;
    let body = format!(
        "<h1>Runs</h1>\n<p class=\"meta\">The latest {RUNS_SHOWN} runs of the store \
         <code>{store}</code>, latest first; a run in flight shows its progress as it goes.</p>\n\
         <table class=\"runs\">\n<thead><tr><th>Run</th><th>Status</th><th>Workflow</th>\
         <th>Stations</th><th>Took</th><th>Started</th><th>Profile</th><th>Where</th></tr></thead>\n\
         <tbody id=\"runs\" data-stream=\"/runs/live\">{rows}</tbody>\n</table>\n",
        store = esc(&app.store.dir().display().to_string()),
    );
    Ok(Answer::Html(
        StatusCode::OK,
        page::shell("Runs", Part::Runs, Some(app.writes_allowed()), &body),
    ))
}

/// The table's rows, as the page has them and its stream sends them.
pub(super) fn rows(app: &App) -> Result<String, Error> {
    let lines = app.store.run_lines(RUNS_SHOWN)?;
    if lines.is_empty() {
        return Ok(
            "<tr><td colspan=\"8\" class=\"none\">No run yet: run the workflow, \
                   and it shows here as it goes.</td></tr>"
                .to_owned(),
        );
    }
    let mut rows = String::new();
    for line in &lines {
        row(&mut rows, app, line);
    }
    Ok(rows)
}

fn row(rows: &mut String, app: &App, line: &RunLine) {
    let _ = write!(
        rows,
        "<tr id=\"run-{id}\"><td><a href=\"/runs/{id}\">run {id}</a></td>\
         <td class=\"status\"><span class=\"state {state}\">{state}</span></td>\
         <td>{workflow}</td><td class=\"counts\">{counts}</td><td>{took}</td>\
         <td>{started}</td><td>{profile}</td><td>{instance}</td></tr>",
        id = line.id,
        state = line.state.as_str(),
        workflow = esc(&line.workflow),
        counts = counts(app, line),
        took = took(line),
        started = clock::utc(line.started),
        profile = esc(&line.profile),
        instance = esc(&line.instance),
    );
}

/// `4 ran, 2 cached, 1 failed`; for a run in flight, `3 done, running deploy.url`.
pub(super) fn counts(app: &App, line: &RunLine) -> String {
    if line.state == RunState::Running {
        let progress = app.store.progress(line.id);
        let mut text = format!("{} done", progress.ended.len());
        if !progress.running.is_empty() {
            let running: Vec<String> = progress.running.iter().map(|n| esc(n)).collect();
            let _ = write!(
                text,
                ", running <code>{}</code>",
                running.join("</code>, <code>")
            );
        }
        return text;
    }
    if line.finished.is_none() {
        return "—".to_owned();
    }
    let parts = [
        ("ran", line.ran),
        ("cached", line.cached),
        ("failed", line.failed),
    ];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if shown.is_empty() {
        "nothing to do".to_owned()
    } else {
        shown.join(", ")
    }
}

/// How long a finished run took; a run in flight or killed has no figure yet.
fn took(line: &RunLine) -> String {
    match line.finished {
        Some(end) => clock::duration(end.duration_since(line.started).unwrap_or_default()),
        None => "—".to_owned(),
    }
}
