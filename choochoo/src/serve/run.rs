//! A run's page. A finished run shows its report, the sections of the HTML report (graph
//! coloured by status, timeline per worker, failures, warnings, defects, stations), and
//! stays as it is; a run in flight shows what it has done so far, which its event stream
//! (`live.rs`) keeps current until the run ends and the page becomes its report.

use super::page::{self, Answer, Part, esc};
use super::routes::App;
use crate::clock;
use crate::error::Error;
use crate::store::run_list::{RunLine, RunState};
use axum::http::StatusCode;
use std::fmt::Write as _;

/// How many of the stations a run in flight has done its page lists, latest first.
const DONE_SHOWN: usize = 50;

pub(super) fn page(app: &App, id: i64) -> Result<Answer, Error> {
    let Some(line) = app.store.run_line(id)? else {
        return Ok(page::not_found(&format!(
            "There is no run {id} in this store; /runs lists them."
        )));
    };
    let mut body = String::with_capacity(64 * 1024);
    match line.state {
        RunState::Running => {
            heading(&mut body, &line);
            let _ = writeln!(
                body,
                "<section id=\"live\" data-stream=\"/runs/{id}/live\">{}</section>",
                progress(app, id)?
            );
        }
        RunState::Interrupted => {
            heading(&mut body, &line);
            interrupted(&mut body, app, id)?;
        }
        RunState::Succeeded | RunState::Failed => finished(&mut body, app, id)?,
    }
    let title = format!("{} — run {id}", line.workflow);
    Ok(Answer::Html(
        StatusCode::OK,
        page::shell(&title, Part::Runs, Some(app.writes_allowed()), &body),
    ))
}

/// The heading of a run that has no report: its workflow, where and when, and its state.
fn heading(body: &mut String, line: &RunLine) {
    let _ = write!(
        body,
        "<header id=\"summary\">\n<h1>{workflow} — run {id}</h1>\n\
         <p class=\"meta\">profile <b>{profile}</b> on <b>{instance}</b> · started {started}</p>\n\
         <p>Status: <span id=\"run-status\" class=\"state {state}\">{state}</span></p>\n</header>\n",
        workflow = esc(&line.workflow),
        id = line.id,
        profile = esc(&line.profile),
        instance = esc(&line.instance),
        started = clock::utc(line.started),
        state = line.state.as_str(),
    );
}

/// What a run in flight has done so far: the page's live section, and what its stream
/// sends.
pub(super) fn progress(app: &App, id: i64) -> Result<String, Error> {
    let progress = app.store.progress(id);
    let failures = crate::html::ledger(&app.store, id)?.observations;
    let mut html = format!(
        "<p class=\"chips\" id=\"progress\"><span class=\"ran\" id=\"done\">{} done</span>\
         <span class=\"running\" id=\"running-count\">{} running</span>\
         <span class=\"failed\">{} failed</span></p>\n",
        progress.ended.len(),
        progress.running.len(),
        failures.len(),
    );
    list(&mut html, "Running now", "running", &progress.running);
    if !failures.is_empty() {
        html.push_str("<h3>Failed so far</h3>\n<ul class=\"failed-so-far\">");
        for o in &failures {
            let _ = write!(
                html,
                "<li><code>{}</code>: {} (<a href=\"/defects/{defect}\">defect {defect}</a>)</li>",
                esc(o.node()),
                esc(o.message()),
                defect = o.defect().to_string().trim_start_matches('#'),
            );
        }
        html.push_str("</ul>\n");
    }
    let done: Vec<String> = progress
        .ended
        .iter()
        .rev()
        .take(DONE_SHOWN)
        .cloned()
        .collect();
    list(&mut html, "Done, latest first", "done", &done);
    Ok(html)
}

fn list(html: &mut String, title: &str, class: &str, nodes: &[String]) {
    if nodes.is_empty() {
        return;
    }
    let _ = write!(html, "<h3>{title}</h3>\n<ul class=\"{class}\">");
    for node in nodes {
        let _ = write!(html, "<li><code>{}</code></li>", esc(node));
    }
    html.push_str("</ul>\n");
}

fn interrupted(body: &mut String, app: &App, id: i64) -> Result<(), Error> {
    let found = app
        .store
        .interrupted_runs()?
        .into_iter()
        .find(|i| i.run() == id);
    let text = match found {
        Some(interrupted) => interrupted.to_string(),
        None => format!("run {id} did not finish, and no process is running it"),
    };
    let _ = writeln!(
        body,
        "<p class=\"failure\">{}: what was running then runs again in the next run.</p>",
        esc(&text)
    );
    Ok(())
}

/// A finished run: the HTML report's sections, and links to its defects on the board.
fn finished(body: &mut String, app: &App, id: i64) -> Result<(), Error> {
    let Some(report) = app.store.report(Some(id))? else {
        return Err(Error::internal(format!("run {id} has no report")));
    };
    crate::html::sections(body, &report, &app.store, app.options.diagram.as_ref())?;
    let defects = crate::html::ledger(&app.store, id)?.defects;
    if !defects.is_empty() {
        body.push_str("<p id=\"on-the-board\">On the defect board: ");
        let links: Vec<String> = defects
            .iter()
            .map(|d| {
                let n = d.id().to_string().trim_start_matches('#').to_owned();
                format!("<a href=\"/defects/{n}\">{}</a> {}", d.id(), esc(d.title()))
            })
            .collect();
        body.push_str(&links.join(" · "));
        body.push_str("</p>\n");
    }
    Ok(())
}
