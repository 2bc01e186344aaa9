//! The report's section of what stations warned of while they ran
//! ([`Ctx::warn`](crate::Ctx::warn)): each station's lines, preformatted as they were given
//! (a compiler's warnings line up as in a terminal).

use super::{ROWS_SHOWN, esc};
use crate::report::Report;
use crate::report::entry::Entry;
use std::fmt::Write as _;

pub(super) fn warnings(page: &mut String, report: &Report) {
    page.push_str("<section id=\"warnings\">\n<h2>What stations warned of</h2>\n");
    let warned: Vec<&Entry> = report
        .entries()
        .iter()
        .filter(|e| !e.warnings().is_empty())
        .collect();
    if warned.is_empty() {
        page.push_str("<p class=\"none\">No station warned of anything in this run.</p>\n");
    }
    if warned.len() > ROWS_SHOWN {
        let _ = writeln!(
            page,
            "<p>The first {ROWS_SHOWN} of {} stations that warned are shown.</p>",
            warned.len()
        );
    }
    for entry in warned.into_iter().take(ROWS_SHOWN) {
        let _ = writeln!(
            page,
            "<article class=\"warned\" data-node=\"{node}\">\n<h3>{node}</h3>\n\
             <pre class=\"warnings\">{lines}</pre>\n</article>",
            node = esc(entry.node()),
            lines = esc(&entry.warnings().join("\n")),
        );
    }
    page.push_str("</section>\n");
}
