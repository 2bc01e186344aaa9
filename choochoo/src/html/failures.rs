//! The report's section of failures: each failed station or item with its error chain (an
//! error of several lines preformatted), why it ran, its panic, inputs and last logged
//! lines from the ledger's observation, its defect and its kept directory; then what the
//! failures blocked.

use super::{Ledger, block, esc};
use crate::clock;
use crate::defect::observation::Observation;
use crate::report::entry::Entry;
use crate::report::{Report, Status};
use std::fmt::Write as _;

pub(super) fn failures(page: &mut String, report: &Report, ledger: &Ledger) {
    page.push_str("<section id=\"failures\">\n<h2>Failures</h2>\n");
    let failed: Vec<&Entry> = report.with_status(Status::Failed).collect();
    if failed.is_empty() {
        page.push_str("<p class=\"none\">No station failed in this run.</p>\n");
    }
    for entry in failed {
        // The last attempt's observation has the chain as a list and the log tail.
        let observation = ledger
            .observations
            .iter()
            .rev()
            .find(|o| o.node() == entry.node());
        failure(page, entry, observation);
    }
    // A blocked map's items are blocked with it; the map stands for them.
    let blocked: Vec<String> = report
        .with_status(Status::Blocked)
        .filter(|e| e.item().is_none())
        .map(|e| format!("<code>{}</code>", esc(e.node())))
        .collect();
    if !blocked.is_empty() {
        let _ = writeln!(
            page,
            "<p>Blocked by these failures: {}</p>",
            blocked.join(", ")
        );
    }
    page.push_str("</section>\n");
}

fn failure(page: &mut String, entry: &Entry, observation: Option<&Observation>) {
    let _ = writeln!(
        page,
        "<article class=\"failure\" data-node=\"{node}\">\n<h3>{node} <small>({station}, after {took})</small></h3>",
        node = esc(entry.node()),
        station = esc(entry.id()),
        took = clock::duration(entry.duration()),
    );
    let chain: Vec<&str> = match observation {
        Some(o) if !o.chain().is_empty() => o.chain().iter().map(String::as_str).collect(),
        _ => entry.error().into_iter().collect(),
    };
    page.push_str("<ol class=\"chain\">");
    for cause in chain {
        let _ = write!(page, "<li>{}</li>", block(cause));
    }
    page.push_str("</ol>\n");
    if let Some(reason) = entry.reason() {
        let _ = writeln!(page, "<p>It ran because: {}</p>", esc(reason));
    }
    if let Some(o) = observation {
        if let Some(panic) = o.panic() {
            let _ = writeln!(page, "<p>Panic: <code>{}</code></p>", esc(panic));
        }
        if !o.input_values().is_empty() {
            let inputs: Vec<String> = o
                .input_values()
                .iter()
                .map(|(name, value)| {
                    format!(
                        "<code>{}</code> = <code>{}</code>",
                        esc(name),
                        esc(&cut(value))
                    )
                })
                .collect();
            let _ = writeln!(
                page,
                "<p class=\"inputs\">Inputs: {}</p>",
                inputs.join(", ")
            );
        }
        if o.log_tail().is_empty() {
            page.push_str("<p class=\"none\">It logged nothing.</p>\n");
        } else {
            let _ = writeln!(
                page,
                "<p>Last lines it logged:</p>\n<pre class=\"log\">{}</pre>",
                esc(&o.log_tail().join("\n"))
            );
        }
        let _ = writeln!(
            page,
            "<p>Defect <a href=\"#defect-{id}\">{defect}</a>.</p>",
            id = o.defect().to_string().trim_start_matches('#'),
            defect = o.defect()
        );
    }
    if let Some(dir) = entry.kept_dir() {
        let _ = writeln!(
            page,
            "<p>Its directory was kept as the failure left it: <code>{}</code></p>",
            esc(&dir.display().to_string())
        );
    }
    page.push_str("</article>\n");
}

/// An input's value, cut to what a reader takes in.
fn cut(value: &str) -> String {
    const SHOWN: usize = 200;
    if value.chars().count() <= SHOWN {
        return value.to_owned();
    }
    let head: String = value.chars().take(SHOWN).collect();
    format!("{head}…")
}
