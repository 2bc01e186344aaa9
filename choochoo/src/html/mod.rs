//! The HTML report of a run: one self-contained page (no scripts, no links to load) that
//! can be attached to a ticket or mailed. It shows the graph coloured by what happened, a
//! timeline of the stations (and map items) on each worker, every failure with its error
//! chain and the last lines it logged, what stations warned of, the defects the failures
//! belong to, and what ran and why. An error of several lines (a compiler's) is shown
//! preformatted, with its lines.

mod failures;
mod warnings;

use crate::clock;
use crate::defect::model::Defect;
use crate::defect::observation::Observation;
use crate::diagram::Diagram;
use crate::diagram::colors::legend;
use crate::diagram::svg::xml_escape as esc;
use crate::error::Error;
use crate::report::entry::Entry;
use crate::report::{Report, Status};
use crate::store::Store;
use crate::store::runs::RunRow;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// What the ledger knows about the failures of one run.
pub(crate) struct Ledger {
    /// The defects with an observation in this run, oldest first.
    pub(crate) defects: Vec<Defect>,
    /// This run's observations, in the order they failed.
    pub(crate) observations: Vec<Observation>,
}

impl Report {
    /// This run as one self-contained HTML page: `diagram` coloured by this report, a
    /// timeline, the failures with their error chains and log tails (from `store`'s defect
    /// ledger), what stations warned of, the defects involved, and every station that did
    /// not come from the store.
    ///
    /// ```
    /// use choochoo::{station, workflow, Diagram, Runner, Store};
    ///
    /// #[station]
    /// fn words(text: &str) -> usize { text.split_whitespace().count() }
    ///
    /// workflow! {
    ///     fn count(text: String) -> usize { words(text) }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let (store_dir, page) = (dir.path().join(".choochoo"), dir.path().join("report.html"));
    /// let store = Store::open(&store_dir)?;
    /// let report = match Runner::new(&store).run(count("a b c".to_owned())) {
    ///     Ok(run) => run.report().clone(),
    ///     Err(error) => error.report().cloned().ok_or(error)?,
    /// };
    /// let diagram = Diagram::of(count("a b c".to_owned()))?;
    /// std::fs::write(&page, report.html(&store, &diagram)?)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn html(&self, store: &Store, diagram: &Diagram) -> Result<String, Error> {
        let info = store.run_row(self.run_id())?;
        let mut page = String::with_capacity(64 * 1024);
        head(&mut page, self, info.as_ref());
        sections(&mut page, self, store, Some(diagram))?;
        page.push_str("</main>\n</body>\n</html>\n");
        Ok(page)
    }
}

/// The report's sections, from its summary to its stations (the dashboard's run page shows
/// them too); the graph only with a `diagram`, which they colour by `report`.
pub(crate) fn sections(
    page: &mut String,
    report: &Report,
    store: &Store,
    diagram: Option<&Diagram>,
) -> Result<(), Error> {
    let info = store.run_row(report.run_id())?;
    let ledger = ledger(store, report.run_id())?;
    summary(page, report, info.as_ref());
    if let Some(diagram) = diagram {
        graph(page, &diagram.clone().colored(report));
    }
    timeline(page, report);
    failures::failures(page, report, &ledger);
    warnings::warnings(page, report);
    defects(page, &ledger);
    stations(page, report, cached(report, info.as_ref()));
    Ok(())
}

/// The defects and observations of run `run`.
pub(crate) fn ledger(store: &Store, run: i64) -> Result<Ledger, Error> {
    let mut ledger = Ledger {
        defects: Vec::new(),
        observations: Vec::new(),
    };
    for defect in store.defects()? {
        let mine: Vec<Observation> = store
            .observations(defect.id())?
            .into_iter()
            .filter(|o| o.run() == run)
            .collect();
        if !mine.is_empty() {
            ledger.observations.extend(mine);
            ledger.defects.push(defect);
        }
    }
    ledger.observations.sort_by_key(Observation::finished);
    Ok(ledger)
}

/// The report's style sheet, which the dashboard's pages share.
pub(crate) const STYLE: &str = "
body { font: 14px/1.45 -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 12px 0 4px; }
.meta { color: #555; } .chips span { display: inline-block; padding: 2px 10px; margin: 4px 6px 0 0; border-radius: 10px; border: 1px solid #999; }
.ran { background: #8fd9a8; } .cached { background: #dcefe2; } .failed { background: #f4a0a0; }
.blocked { background: #f8cf8f; } .skipped { background: #e2e2e2; } .unknown { background: #fff; } .input { background: #f4f4f8; }
.figure { overflow: auto; background: #fff; border: 1px solid #ddd; padding: 8px; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px; border: 1px solid #999; border-radius: 3px; font-size: 12px; }
.track { display: flex; align-items: center; margin: 3px 0; } .track .worker { width: 90px; flex: none; color: #555; font-size: 12px; }
.lane { position: relative; flex: 1; height: 22px; background: #fff; border: 1px solid #e4e4e4; }
.bar { position: absolute; top: 2px; height: 16px; min-width: 2px; border: 1px solid rgba(0,0,0,.35); border-radius: 2px; font-size: 11px; line-height: 16px; overflow: hidden; white-space: nowrap; padding: 0 2px; box-sizing: border-box; }
.axis { display: flex; justify-content: space-between; margin-left: 90px; color: #777; font-size: 11px; }
.failure { background: #fff; border: 1px solid #e6b3b3; border-left: 4px solid #b3261e; padding: 4px 12px 8px; margin: 10px 0; }
ol.chain { margin: 4px 0; padding-left: 22px; } ol.chain li:first-child { font-weight: 600; }
pre { background: #1e1e1e; color: #e8e8e8; padding: 8px; overflow: auto; font-size: 12px; max-height: 320px; }
table { border-collapse: collapse; width: 100%; background: #fff; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f0f0; } td.status { white-space: nowrap; } code { font-size: 12px; }
.none { color: #777; font-style: italic; } .inputs code { word-break: break-all; }
";

fn head(page: &mut String, report: &Report, info: Option<&RunRow>) {
    let workflow = info.map_or("workflow", |info| info.workflow.as_str());
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"choochoo\">\n\
         <title>{} — run {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(workflow),
        report.run_id()
    );
}

fn summary(page: &mut String, report: &Report, info: Option<&RunRow>) {
    let workflow = info.map_or("workflow", |info| info.workflow.as_str());
    let _ = writeln!(
        page,
        "<header id=\"summary\">\n<h1>{} — run {}</h1>",
        esc(workflow),
        report.run_id()
    );
    if let Some(info) = info {
        let took = info
            .finished
            .and_then(|end| end.duration_since(info.started).ok())
            .map_or_else(|| "did not finish".to_owned(), clock::duration);
        let _ = writeln!(
            page,
            "<p class=\"meta\">profile <b>{}</b> on <b>{}</b> · started {} · took {}</p>",
            esc(&info.profile),
            esc(&info.instance),
            clock::utc(info.started),
            took
        );
    }
    page.push_str("<p class=\"chips\">");
    for status in STATUSES {
        let n = match status {
            Status::Cached => cached(report, info),
            status => report.count(status),
        };
        if n > 0 {
            let _ = write!(page, "<span class=\"{status}\">{n} {status}</span>");
        }
    }
    page.push_str("</p>\n");
    if !report.warnings().is_empty() {
        page.push_str("<h3>Warnings</h3>\n<ul>");
        for warning in report.warnings() {
            let _ = write!(page, "<li>{}</li>", esc(warning));
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</header>\n");
}

/// The timeline draws, and the stations table lists, at most this many stations, so the
/// page of a run of 100,000 stations still opens.
const ROWS_SHOWN: usize = 2000;

const STATUSES: [Status; 5] = [
    Status::Ran,
    Status::Cached,
    Status::Failed,
    Status::Blocked,
    Status::Skipped,
];

fn graph(page: &mut String, diagram: &Diagram) {
    page.push_str("<section id=\"graph\">\n<h2>Graph</h2>\n<p class=\"legend\">");
    for (class, ..) in legend() {
        let _ = write!(page, "<span class=\"{class}\">{class}</span>");
    }
    let _ = writeln!(
        page,
        "</p>\n<div class=\"figure\">{}</div>\n</section>",
        diagram.svg()
    );
}

fn timeline(page: &mut String, report: &Report) {
    page.push_str("<section id=\"timeline\">\n<h2>Timeline</h2>\n");
    let spans: Vec<(&Entry, usize, SystemTime)> = crate::trace::drawn(report)
        .filter_map(|e| Some((e, e.worker()?, e.started()?)))
        .collect();
    let Some(origin) = spans.iter().map(|(_, _, start)| *start).min() else {
        page.push_str("<p class=\"none\">No station ran in this run.</p>\n</section>\n");
        return;
    };
    let offset = |at: SystemTime| at.duration_since(origin).unwrap_or(Duration::ZERO);
    let total = spans
        .iter()
        .map(|(e, _, start)| offset(*start) + e.duration())
        .max()
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_micros(1));
    let percent = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
    let drawn = spans.len().min(ROWS_SHOWN);
    if drawn < spans.len() {
        // The longest spans are the ones worth seeing; the rest would be slivers anyway.
        let _ = writeln!(
            page,
            "<p>The {drawn} longest of {} stations are drawn.</p>",
            spans.len()
        );
    }
    let mut spans = spans;
    spans.sort_by_key(|(e, ..)| std::cmp::Reverse(e.duration()));
    spans.truncate(drawn);
    let mut workers: Vec<usize> = spans.iter().map(|(_, w, _)| *w).collect();
    workers.sort_unstable();
    workers.dedup();
    for worker in workers {
        let _ = write!(
            page,
            "<div class=\"track\"><span class=\"worker\">worker {worker}</span><div class=\"lane\">"
        );
        for (entry, _, start) in spans.iter().filter(|(_, w, _)| *w == worker) {
            let _ = write!(
                page,
                "<div class=\"bar {status}\" style=\"left:{:.3}%;width:{:.3}%\" title=\"{node}: {status}, {took}\">{node}</div>",
                percent(offset(*start)),
                percent(entry.duration()),
                status = entry.status(),
                node = esc(entry.node()),
                took = clock::duration(entry.duration()),
            );
        }
        page.push_str("</div></div>\n");
    }
    let _ = writeln!(
        page,
        "<div class=\"axis\"><span>0</span><span>{}</span></div>\n</section>",
        clock::duration(total)
    );
}

/// `text` escaped, and preformatted when it has several lines (a compiler's error), so
/// they stay lines.
fn block(text: &str) -> String {
    if text.contains('\n') {
        format!("<pre class=\"text\">{}</pre>", esc(text))
    } else {
        esc(text)
    }
}

fn defects(page: &mut String, ledger: &Ledger) {
    page.push_str("<section id=\"defects\">\n<h2>Defects involved</h2>\n");
    if ledger.defects.is_empty() {
        page.push_str(
            "<p class=\"none\">No failure of this run is in the defect ledger.</p>\n</section>\n",
        );
        return;
    }
    page.push_str(
        "<table>\n<tr><th>Defect</th><th>Status</th><th>Seen</th><th>First / last seen</th>\
         <th>Stations</th><th>Impact</th><th>Notes</th></tr>\n",
    );
    for d in &ledger.defects {
        let mut status = d.status().to_string();
        if d.regressed() {
            status.push_str(", regressed");
        }
        if let Some(run) = d.quiet_since() {
            status.push_str(&format!(", quiet since run {run}"));
        }
        let every = d
            .mean_interval()
            .map(|i| format!("<br>every {}", clock::duration(i)))
            .unwrap_or_default();
        let notes: Vec<String> = d
            .notes()
            .iter()
            .map(|n| format!("<b>{}</b>: {}", esc(&n.kind().to_string()), esc(n.text())))
            .collect();
        let _ = writeln!(
            page,
            "<tr id=\"defect-{id}\"><td><b>{defect}</b> {title}</td><td>{status}</td><td>{count}×{every}</td>\
             <td>{first}<br>{last}</td><td>{stations}<br>on {instances}</td>\
             <td>{blocked} blocked, {lost} lost</td><td>{notes}</td></tr>",
            id = d.id().to_string().trim_start_matches('#'),
            defect = d.id(),
            title = esc(d.title()),
            count = d.runs_seen(),
            first = clock::utc(d.first_seen()),
            last = clock::utc(d.last_seen()),
            stations = esc(&d.stations().join(", ")),
            instances = esc(&d.instances().join(", ")),
            blocked = d.blocked(),
            lost = clock::duration(d.time_lost()),
            notes = if notes.is_empty() {
                "—".to_owned()
            } else {
                notes.join("<br>")
            },
        );
    }
    page.push_str("</table>\n</section>\n");
}

/// How many stations of the run came from the store: counted in the report when it is a
/// live one, in the run's row when it was read back.
fn cached(report: &Report, info: Option<&RunRow>) -> usize {
    report
        .count(Status::Cached)
        .max(info.map_or(0, |info| info.cached))
}

fn stations(page: &mut String, report: &Report, cached: usize) {
    page.push_str("<section id=\"stations\">\n<h2>Stations</h2>\n");
    let shown: Vec<&Entry> = report
        .entries()
        .iter()
        .filter(|e| e.status() != Status::Cached)
        .collect();
    if cached > 0 {
        let _ = writeln!(
            page,
            "<p>{cached} stations came from the store and are not listed.</p>"
        );
    }
    if shown.is_empty() {
        page.push_str("<p class=\"none\">Every station came from the store.</p>\n</section>\n");
        return;
    }
    if shown.len() > ROWS_SHOWN {
        let _ = writeln!(
            page,
            "<p>The first {ROWS_SHOWN} of {} stations are listed.</p>",
            shown.len()
        );
    }
    page.push_str("<table>\n<tr><th>Status</th><th>Station</th><th>Took</th><th>Why</th></tr>\n");
    for e in shown.into_iter().take(ROWS_SHOWN) {
        let why = e.error().or(e.reason()).unwrap_or("");
        let _ = writeln!(
            page,
            "<tr><td class=\"status {status}\">{status}</td><td><code>{node}</code><br><small>{id}</small>{on}</td>\
             <td>{took}</td><td>{why}</td></tr>",
            status = e.status(),
            node = esc(e.node()),
            id = esc(e.id()),
            on = e.ran_on().map_or_else(String::new, |worker| {
                format!("<br><small class=\"ran-on\">on {}</small>", esc(worker))
            }),
            took = clock::duration(e.duration()),
            why = block(why),
        );
    }
    page.push_str("</table>\n</section>\n");
}
