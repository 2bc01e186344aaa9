//! The frame of every page (its head, the bar to runs and defects, whether writes are
//! allowed), the answers a handler gives, and escaping: everything a station, a log or an
//! error says is text, whatever characters it holds.

use crate::diagram::svg::xml_escape;
use crate::error::Error;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::fmt::Write as _;

/// What a handler answers.
pub(super) enum Answer {
    /// A page, with its status.
    Html(StatusCode, String),
    /// Plain text (a ticket body).
    Text(String),
    /// Go to this address (after a write, or to the defect a merged one leads to).
    SeeOther(String),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Html(status, html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Answer::Text(text) => {
                ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
            }
            Answer::SeeOther(to) => Redirect::to(&to).into_response(),
        }
    }
}

/// `text` for HTML, attributes included: the report's escaping, which also writes control
/// characters out as `\u{1b}` so that they show and break nothing.
pub(super) fn esc(text: &str) -> String {
    xml_escape(text)
}

/// Which part of the dashboard a page belongs to, lit in its bar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Runs,
    Defects,
}

/// A whole page: `title` (escaped here) and `body`, already HTML; its bar says whether
/// writes are allowed, when `writes` is known.
pub(super) fn shell(title: &str, part: Part, writes: Option<bool>, body: &str) -> String {
    let mut page = String::with_capacity(body.len() + 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"choochoo\">\n<title>{}</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/style.css\">\n\
         <script src=\"/assets/app.js\" defer></script>\n</head>\n<body>\n",
        esc(title)
    );
    let lit = |this: Part| if this == part { " class=\"here\"" } else { "" };
    let mode = match writes {
        Some(true) => "<span class=\"mode writes\">writes allowed</span>",
        Some(false) => {
            "<span class=\"mode\" title=\"started without --allow-writes\">read-only</span>"
        }
        None => "",
    };
    let _ = write!(
        page,
        "<nav class=\"site\"><b>choochoo</b><a href=\"/runs\"{}>Runs</a>\
         <a href=\"/defects\"{}>Defects</a>{mode}</nav>\n<main>\n{body}</main>\n</body>\n</html>\n",
        lit(Part::Runs),
        lit(Part::Defects),
    );
    page
}

/// A page of its own saying why something was not done.
fn notice(status: StatusCode, title: &str, message: &str) -> Answer {
    let body = format!(
        "<section class=\"notice\" id=\"notice\">\n<h1>{}</h1>\n<p>{}</p>\n\
         <p><a href=\"/runs\">Runs</a> · <a href=\"/defects\">Defects</a></p>\n</section>\n",
        esc(title),
        esc(message)
    );
    Answer::Html(status, shell(title, Part::Runs, None, &body))
}

pub(super) fn not_found(message: &str) -> Answer {
    notice(StatusCode::NOT_FOUND, "Not found", message)
}

pub(super) fn refused(status: StatusCode, title: &str, message: &str) -> Answer {
    notice(status, title, message)
}

pub(super) fn bad_request(message: &str) -> Answer {
    notice(StatusCode::BAD_REQUEST, "Not done", message)
}

/// The page of a store error: what failed, with its causes.
pub(super) fn failed(error: &Error) -> Answer {
    notice(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The store could not answer",
        &crate::error::chain(error),
    )
}
