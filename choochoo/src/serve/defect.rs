//! A defect's page: its figures, the stations and instances it hit, the team's notes and
//! decisions, the forms to add a note, mark it mitigated or fixed and merge another defect
//! into it (when writes are allowed), its ticket body to copy, and its observations.

use super::evidence;
use super::page::{self, Answer, Part, esc};
use super::routes::App;
use super::sparkline;
use crate::clock;
use crate::defect::export::{ExportFormat, unknown_pace};
use crate::defect::model::{Defect, DefectId, NoteKind};
use crate::error::Error;
use axum::http::StatusCode;
use std::fmt::Write as _;

/// The ticket body, as Markdown text (`/defects/ID/ticket.md`).
pub(super) fn ticket(app: &App, id: i64) -> Result<Answer, Error> {
    if app.store.defect(DefectId(id))?.is_none() {
        return Ok(missing(id));
    }
    Ok(Answer::Text(
        app.store.export(DefectId(id), ExportFormat::Markdown)?,
    ))
}

fn missing(id: i64) -> Answer {
    page::not_found(&format!(
        "There is no defect #{id} in this store; /defects lists them."
    ))
}

pub(super) fn page(app: &App, id: i64) -> Result<Answer, Error> {
    let Some(defect) = app.store.defect(DefectId(id))? else {
        return Ok(missing(id));
    };
    // A merged defect's id leads to the one it was merged into.
    if defect.id() != DefectId(id) {
        return Ok(Answer::SeeOther(format!("/defects/{}", number(&defect))));
    }
    let mut body = String::with_capacity(32 * 1024);
    let _ = writeln!(
        body,
        "<h1>Defect {} <span class=\"state {status}\">{status}</span></h1>\n\
         <p class=\"title\" id=\"defect-title\">{}</p>",
        defect.id(),
        esc(defect.title()),
        status = defect.status(),
    );
    figures(&mut body, app, &defect)?;
    notes(&mut body, &defect);
    if app.writes_allowed() {
        forms(&mut body, app, &defect);
    } else {
        body.push_str(
            "<p class=\"none\" id=\"read-only\">This dashboard is read-only: start it with \
             <code>serve --allow-writes</code> to add notes and mark defects here.</p>\n",
        );
    }
    ticket_body(&mut body, app, &defect)?;
    evidence::observations(&mut body, &app.store.observations(defect.id())?);
    let title = format!("Defect {} — {}", defect.id(), defect.title());
    Ok(Answer::Html(
        StatusCode::OK,
        page::shell(&title, Part::Defects, Some(app.writes_allowed()), &body),
    ))
}

/// `1 run`, `3 runs`.
fn counted(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `3` for defect `#3`: its number in addresses.
fn number(defect: &Defect) -> String {
    defect.id().to_string().trim_start_matches('#').to_owned()
}

fn figures(body: &mut String, app: &App, d: &Defect) -> Result<(), Error> {
    let unknown = || unknown_pace(d);
    let mut status = d.status().to_string();
    if d.regressed() {
        status.push_str(", regressed");
    }
    if let Some(run) = d.quiet_since() {
        status.push_str(&format!(", quiet since run {run}"));
    }
    let per_day = app
        .store
        .runs_per_day(d.id(), sparkline::DAYS, crate::stat::now_ns())?;
    let rows = [
        ("status", esc(&status)),
        (
            "seen",
            format!(
                "{}, last in <a href=\"/runs/{run}\">run {run}</a> ({}) {}",
                counted(d.runs_seen(), "run"),
                counted(d.count(), "observation"),
                sparkline::svg(&per_day),
                run = d.last_run()
            ),
        ),
        ("first seen", clock::utc(d.first_seen())),
        ("last seen", clock::utc(d.last_seen())),
        (
            "every",
            esc(&d.mean_interval().map_or_else(unknown, clock::duration)),
        ),
        (
            "next expected",
            esc(&d.next_expected().map_or_else(unknown, clock::utc)),
        ),
        ("stations", esc(&d.stations().join(", "))),
        ("instances", esc(&d.instances().join(", "))),
        (
            "impact",
            format!(
                "{} blocked, {} lost",
                d.blocked(),
                clock::duration(d.time_lost())
            ),
        ),
        ("signatures", esc(&d.signatures().join("\n"))),
    ];
    body.push_str("<table class=\"figures\" id=\"figures\">\n");
    for (name, value) in rows {
        let _ = writeln!(body, "<tr><th>{name}</th><td>{value}</td></tr>");
    }
    body.push_str("</table>\n");
    Ok(())
}

fn notes(body: &mut String, d: &Defect) {
    body.push_str("<section id=\"notes\">\n<h2>Notes</h2>\n");
    if d.notes().is_empty() {
        body.push_str("<p class=\"none\">No notes yet.</p>\n");
    }
    for note in d.notes() {
        let _ = writeln!(
            body,
            "<article class=\"note\" data-kind=\"{kind}\"><h3>{heading}</h3>\
             <p class=\"text\">{text}</p><p class=\"meta\">by {by} at {at}</p></article>",
            kind = note.kind().as_str(),
            heading = esc(&note.kind().to_string()),
            text = esc(note.text()),
            by = esc(note.added_by().unwrap_or("someone")),
            at = clock::utc(note.added()),
        );
    }
    if !d.decisions().is_empty() {
        body.push_str("<h3>Decisions</h3>\n<ul id=\"decisions\">");
        for decision in d.decisions() {
            let _ = write!(
                body,
                "<li>{} by {} at {}</li>",
                esc(decision.what()),
                esc(decision.by()),
                clock::utc(decision.at())
            );
        }
        body.push_str("</ul>\n");
    }
    body.push_str("</section>\n");
}

fn forms(body: &mut String, app: &App, d: &Defect) {
    let (n, token) = (number(d), app.token.field());
    let kinds: String = NoteKind::ALL
        .iter()
        .map(|kind| {
            format!(
                "<option value=\"{}\">{}</option>",
                kind.as_str(),
                esc(&kind.to_string())
            )
        })
        .collect();
    let _ = writeln!(
        body,
        "<section id=\"actions\">\n<h2>Do something about it</h2>\n\
         <form method=\"post\" action=\"/defects/{n}/notes\" id=\"note-form\">{token}\
         <label>Note <select name=\"kind\">{kinds}</select></label>\
         <textarea name=\"text\" rows=\"4\" required placeholder=\"What you learned\"></textarea>\
         <button type=\"submit\">Add the note</button></form>\n\
         <form method=\"post\" action=\"/defects/{n}/status\" class=\"inline\">{token}\
         <button type=\"submit\" name=\"status\" value=\"mitigated\" id=\"mark-mitigated\">Mark mitigated</button>\
         <button type=\"submit\" name=\"status\" value=\"fixed\" id=\"mark-fixed\">Mark fixed</button></form>\n\
         <form method=\"post\" action=\"/defects/{n}/merge\" class=\"inline\" id=\"merge-form\">{token}\
         <label>Merge defect <input name=\"from\" size=\"5\" placeholder=\"#4\" required></label>\
         <button type=\"submit\">into this one</button></form>\n</section>"
    );
}

fn ticket_body(body: &mut String, app: &App, d: &Defect) -> Result<(), Error> {
    let markdown = app.store.export(d.id(), ExportFormat::Markdown)?;
    let _ = writeln!(
        body,
        "<section id=\"ticket\">\n<h2>Ticket body</h2>\n\
         <p>Markdown for the team's tracker: <button type=\"button\" id=\"copy-ticket\">Copy</button> \
         <span id=\"copied\"></span> · <a href=\"/defects/{}/ticket.md\">as a file</a></p>\n\
         <textarea id=\"ticket-text\" readonly rows=\"12\">{}</textarea>\n</section>",
        number(d),
        esc(&markdown)
    );
    Ok(())
}
