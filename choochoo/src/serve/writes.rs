//! What the defect page's forms do: add a note, mark the defect mitigated or fixed, merge
//! another defect into it. Each goes through the store's own calls (the command line's),
//! which record who and when; each is refused, with a page that says why and the store left
//! as it was, when the server is read-only, or when the form lacks the server's token.

use super::form::Form;
use super::page::{self, Answer};
use super::routes::{Shared, answer, number};
use crate::defect::model::{DefectId, NoteKind};
use crate::error::Error;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

/// A write the form asks for, checked.
enum Write {
    Note(NoteKind, String),
    Mitigated,
    Fixed,
    Merge(DefectId),
}

pub(super) async fn note(
    state: State<Shared>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    write(state, id, headers, body, |form| {
        let kind = form.get("kind").unwrap_or("remedy");
        let kind = NoteKind::parse(kind).ok_or_else(|| {
            format!("`{kind}` is not a kind of note; send `remedy` or `next_steps`")
        })?;
        Ok(Write::Note(kind, form.get("text").unwrap_or("").to_owned()))
    })
    .await
}

pub(super) async fn status(
    state: State<Shared>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    write(state, id, headers, body, |form| match form.get("status") {
        Some("fixed") => Ok(Write::Fixed),
        Some("mitigated") => Ok(Write::Mitigated),
        other => Err(format!(
            "`{}` is not a status a defect can be marked; send `fixed` or `mitigated`",
            other.unwrap_or("")
        )),
    })
    .await
}

pub(super) async fn merge(
    state: State<Shared>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    write(state, id, headers, body, |form| {
        let from = form.get("from").unwrap_or("").trim();
        from.parse::<DefectId>()
            .map(Write::Merge)
            .map_err(|_| format!("`{from}` is not a defect; name the one to merge as `4` or `#4`"))
    })
    .await
}

/// Refuses the write when the server is read-only or the token is wrong; else reads what
/// the form asks with `ask`, does it, and sends the browser back to the defect.
async fn write(
    State(app): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    ask: impl FnOnce(&Form) -> Result<Write, String>,
) -> Answer {
    if !app.writes_allowed() {
        return page::refused(
            StatusCode::FORBIDDEN,
            "This dashboard is read-only",
            "Nothing was changed. It was started without --allow-writes; start it with \
             `serve --allow-writes` to add notes and mark or merge defects from its pages, \
             or use the `defects` command.",
        );
    }
    let form = match Form::parse(&body) {
        Ok(form) => form,
        Err(error) => return page::bad_request(&format!("Nothing was changed: {error}.")),
    };
    if let Err(why) = app.token.check(form.get("csrf"), &headers) {
        return page::refused(
            StatusCode::FORBIDDEN,
            "Refused: not this dashboard's form",
            &why,
        );
    }
    let id = match number(&id, "defect") {
        Ok(id) => DefectId(id),
        Err(answer) => return answer,
    };
    let asked = match ask(&form) {
        Ok(asked) => asked,
        Err(error) => return page::bad_request(&format!("Nothing was changed: {error}.")),
    };
    answer(app, move |app| apply(&app.store, id, asked)).await
}

fn apply(store: &crate::store::Store, id: DefectId, asked: Write) -> Result<Answer, Error> {
    if store.defect(id)?.is_none() {
        return Ok(page::not_found(&format!(
            "There is no defect {id} in this store; nothing was changed."
        )));
    }
    let done = match asked {
        Write::Note(_, text) if text.trim().is_empty() => {
            return Ok(page::bad_request(
                "Nothing was changed: a note needs some text.",
            ));
        }
        Write::Note(kind, text) => store.add_note(id, kind, &text),
        Write::Mitigated => store.mark_mitigated(id),
        Write::Fixed => store.mark_fixed(id),
        Write::Merge(from) if from == id => {
            return Ok(page::bad_request(&format!(
                "Nothing was changed: {id} cannot be merged into itself; name another defect."
            )));
        }
        Write::Merge(from) => match store.defect(from)? {
            None => {
                return Ok(page::not_found(&format!(
                    "There is no defect {from} in this store; nothing was changed."
                )));
            }
            Some(_) => store.merge(id, from),
        },
    };
    done?;
    let survivor = store.defect(id)?.map_or(id, |d| d.id());
    Ok(Answer::SeeOther(format!(
        "/defects/{}",
        survivor.to_string().trim_start_matches('#')
    )))
}
