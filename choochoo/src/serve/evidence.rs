//! A defect's observations on its page, latest first: each failure's error chain, panic,
//! inputs, last logged lines, kept directory (its path, to open on the machine) and later
//! attempts.

use super::page::esc;
use crate::clock;
use crate::defect::observation::Observation;
use std::fmt::Write as _;

/// How many of a defect's observations its page shows, and of each one's log lines.
const OBSERVATIONS_SHOWN: usize = 20;
const LOG_LINES_SHOWN: usize = 40;

pub(super) fn observations(body: &mut String, observations: &[Observation]) {
    let _ = writeln!(
        body,
        "<section id=\"observations\">\n<h2>Observations <small>({})</small></h2>",
        observations.len()
    );
    if observations.len() > OBSERVATIONS_SHOWN {
        let _ = writeln!(
            body,
            "<p>The latest {OBSERVATIONS_SHOWN} are shown; the ticket body has them all.</p>"
        );
    }
    for o in observations.iter().rev().take(OBSERVATIONS_SHOWN) {
        observation(body, o);
    }
    body.push_str("</section>\n");
}

fn observation(body: &mut String, o: &Observation) {
    let mut attempts = String::new();
    if o.attempts() > 1 || o.recovered() {
        attempts = format!(" · {} attempts", o.attempts());
    }
    if o.recovered() {
        attempts.push_str(", recovered");
    }
    let _ = writeln!(
        body,
        "<article class=\"failure observation\" id=\"observation-{n}\">\n\
         <h3>{id} · <code>{node}</code> <small>({station}) in <a href=\"/runs/{run}\">run {run}</a> \
         on {instance} at {at}{attempts}</small></h3>",
        n = o.id().to_string().trim_start_matches('#'),
        id = o.id(),
        node = esc(o.node()),
        station = esc(o.station_id()),
        run = o.run(),
        instance = esc(o.instance()),
        at = clock::utc(o.finished()),
    );
    body.push_str("<ol class=\"chain\">");
    for cause in o.chain() {
        let _ = write!(body, "<li class=\"error\">{}</li>", text(cause));
    }
    body.push_str("</ol>\n");
    if let Some(panic) = o.panic() {
        let _ = writeln!(body, "<p>Panic: <code>{}</code></p>", esc(panic));
    }
    inputs(body, o);
    let tail = o.log_tail();
    if !tail.is_empty() {
        let shown = &tail[tail.len().saturating_sub(LOG_LINES_SHOWN)..];
        let _ = writeln!(
            body,
            "<p>Last lines it logged:</p>\n<pre class=\"log\">{}</pre>",
            esc(&shown.join("\n"))
        );
    }
    if let Some(dir) = o.kept_dir() {
        let _ = writeln!(
            body,
            "<p>Its directory was kept as the failure left it: <code class=\"kept\">{}</code></p>",
            esc(&dir.display().to_string())
        );
    }
    for later in o.failed_attempts().iter().skip(1) {
        let _ = writeln!(
            body,
            "<p class=\"meta\">attempt {}: {}</p>",
            later.attempt(),
            esc(later.message())
        );
    }
    body.push_str("</article>\n");
}

fn inputs(body: &mut String, o: &Observation) {
    if o.input_values().is_empty() && o.inputs().is_empty() {
        return;
    }
    body.push_str("<table class=\"inputs\"><tr><th>Input</th><th>Value</th><th>Hash</th></tr>");
    for (name, digest) in o.inputs() {
        let value = o
            .input_values()
            .iter()
            .find(|(shown, _)| shown == name)
            .map_or("", |(_, value)| value.as_str());
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(name),
            esc(value),
            &digest.to_hex()[..16]
        );
    }
    body.push_str("</table>\n");
}

/// A message, preformatted when it has several lines (a compiler's), so they stay lines.
fn text(message: &str) -> String {
    if message.contains('\n') {
        format!("<pre class=\"text\">{}</pre>", esc(message))
    } else {
        esc(message)
    }
}
