//! The defect board: every defect under its status (open, regressed, mitigated, fixed),
//! sorted by how often it happened, when it was last seen, or what it cost, each with a
//! sparkline of the runs it was seen in per day.

use super::page::{self, Answer, Part, esc};
use super::routes::App;
use super::sparkline;
use crate::clock;
use crate::defect::model::{Defect, DefectStatus};
use crate::error::Error;
use axum::http::StatusCode;
use std::cmp::Reverse;
use std::fmt::Write as _;
use std::time::SystemTime;

/// How the board's lists are sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sort {
    /// Most runs seen in first.
    Frequency,
    /// Most recently seen first (the default).
    LastSeen,
    /// Most stations blocked first, then most time lost.
    Impact,
}

impl Sort {
    const ALL: [(Sort, &'static str, &'static str); 3] = [
        (Sort::Frequency, "frequency", "Seen"),
        (Sort::LastSeen, "last", "Last seen"),
        (Sort::Impact, "impact", "Impact"),
    ];

    /// The sort a query names (`sort=frequency`, `last`, `impact`); the default otherwise.
    pub(super) fn from_query(query: Option<&str>) -> Sort {
        let asked = query
            .unwrap_or("")
            .split('&')
            .find_map(|pair| pair.strip_prefix("sort="));
        Sort::ALL
            .into_iter()
            .find(|(_, name, _)| Some(*name) == asked)
            .map_or(Sort::LastSeen, |(sort, ..)| sort)
    }

    fn apply(self, defects: &mut [Defect]) {
        match self {
            Sort::Frequency => defects.sort_by_key(|d| Reverse((d.runs_seen(), d.last_seen()))),
            Sort::LastSeen => defects.sort_by_key(|d| Reverse(d.last_seen())),
            Sort::Impact => defects.sort_by_key(|d| Reverse((d.blocked(), d.time_lost()))),
        }
    }
}

/// The board's groups, in the order it shows them.
const GROUPS: [(&str, &str); 4] = [
    ("open", "Open"),
    (
        "regressed",
        "Regressed: seen again after they were marked fixed",
    ),
    ("mitigated", "Mitigated"),
    ("fixed", "Fixed"),
];

/// The group a defect is shown in.
fn group(d: &Defect) -> &'static str {
    match d.status() {
        DefectStatus::Open if d.regressed() => "regressed",
        DefectStatus::Mitigated => "mitigated",
        DefectStatus::Fixed => "fixed",
        _ => "open",
    }
}

pub(super) fn page(app: &App, sort: Sort) -> Result<Answer, Error> {
    let mut defects = app.store.defects()?;
    sort.apply(&mut defects);
    let mut body = String::from("<h1>Defects</h1>\n");
    if defects.is_empty() {
        body.push_str("<p class=\"none\">No defects: no station has failed with this store.</p>\n");
    }
    let now = SystemTime::now();
    for (key, title) in GROUPS {
        let mine: Vec<&Defect> = defects.iter().filter(|d| group(d) == key).collect();
        if mine.is_empty() {
            continue;
        }
        let _ = write!(
            body,
            "<section id=\"{key}\">\n<h2>{title} <small>({})</small></h2>\n",
            mine.len()
        );
        table(&mut body, app, &mine, sort, now)?;
        body.push_str("</section>\n");
    }
    Ok(Answer::Html(
        StatusCode::OK,
        page::shell("Defects", Part::Defects, Some(app.writes_allowed()), &body),
    ))
}

fn table(
    body: &mut String,
    app: &App,
    defects: &[&Defect],
    sort: Sort,
    now: SystemTime,
) -> Result<(), Error> {
    body.push_str("<table class=\"defects\">\n<thead><tr><th>Defect</th><th>Title</th>");
    for (by, name, heading) in Sort::ALL {
        if by == sort {
            let _ = write!(body, "<th class=\"sorted\">{heading} ▾</th>");
        } else {
            let _ = write!(
                body,
                "<th><a href=\"/defects?sort={name}\">{heading}</a></th>"
            );
        }
    }
    let _ = write!(
        body,
        "<th>Per day, last {} days</th><th>Stations</th></tr></thead>\n<tbody>\n",
        sparkline::DAYS
    );
    for d in defects {
        row(body, app, d, now)?;
    }
    body.push_str("</tbody>\n</table>\n");
    Ok(())
}

fn row(body: &mut String, app: &App, d: &Defect, now: SystemTime) -> Result<(), Error> {
    let n = d.id().to_string().trim_start_matches('#').to_owned();
    let per_day = app
        .store
        .runs_per_day(d.id(), sparkline::DAYS, crate::stat::unix_ns(now))?;
    let _ = writeln!(
        body,
        "<tr id=\"defect-{n}\"><td><a href=\"/defects/{n}\">{id}</a></td>\
         <td class=\"title\">{title}</td><td>{runs}×</td>\
         <td title=\"{last_utc}\">{ago}</td><td>{blocked} blocked, {lost} lost</td>\
         <td>{spark}</td><td>{stations}</td></tr>",
        id = d.id(),
        title = esc(d.title()),
        runs = d.runs_seen(),
        last_utc = clock::utc(d.last_seen()),
        ago = clock::ago(d.last_seen(), now),
        blocked = d.blocked(),
        lost = clock::duration(d.time_lost()),
        spark = sparkline::svg(&per_day),
        stations = esc(&d.stations().join(", ")),
    );
    Ok(())
}
