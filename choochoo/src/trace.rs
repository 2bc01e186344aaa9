//! Traces: a run's timeline in the Chrome trace-event format, which Perfetto
//! (<https://ui.perfetto.dev>, "Open trace file") and `chrome://tracing` open.
//!
//! Each worker thread of the run is a track, and so is each Temporal worker the run sent
//! stations to (named `on NAME`); each station that ran or failed on one is a
//! complete event (`"ph": "X"`) named after its node, with its status, station id, reason
//! and error in `args`. Stations that were blocked or skipped never started: they are
//! instant events (`"ph": "i"`) on a track of their own, at the end of the run. Stations
//! that came from the store did no work and are left out. A map's items are spans of their
//! own, on the worker each ran on; the map is drawn as its items.

use crate::report::entry::Entry;
use crate::report::{Report, Status, split_item};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

impl Report {
    /// The run as Chrome trace-event JSON, for Perfetto (<https://ui.perfetto.dev>) or
    /// `chrome://tracing`: one track per worker thread, each station that ran or failed a
    /// complete event named after its node with its status, station id, reason and error in
    /// `args`; blocked and skipped stations are instant events on a track of their own, and
    /// cached ones are left out. Timestamps are microseconds from the first station's start.
    ///
    /// Clocks are read per station, so two stations in a row on one worker may overlap by
    /// a few microseconds; each track is trimmed so its spans never overlap, as the
    /// format requires.
    pub fn chrome_trace(&self) -> String {
        let spans = spans(self);
        let origin = spans.iter().map(|span| span.start).min();
        let micros = |at: SystemTime| {
            origin.map_or(0, |origin| {
                at.duration_since(origin)
                    .unwrap_or(Duration::ZERO)
                    .as_micros() as u64
            })
        };
        let mut events = vec![json!({
            "name": "process_name", "ph": "M", "pid": 1, "tid": 0,
            "args": {"name": format!("choochoo run {}", self.run_id())},
        })];
        let mut tracks: Vec<Track<'_>> = spans.iter().map(|span| span.track).collect();
        tracks.sort_unstable();
        tracks.dedup();
        let tids = tids(&tracks);
        for (track, tid) in tracks.iter().zip(&tids) {
            events.push(thread_name(*tid, &track.name()));
        }
        let mut end = 0;
        for (track, tid) in tracks.iter().zip(&tids) {
            // Trim by track: a span starts no earlier than the one before it ended.
            let mut free_at = 0;
            for span in spans.iter().filter(|span| span.track == *track) {
                let start = micros(span.start).max(free_at);
                let stop =
                    (micros(span.start) + span.entry.duration().as_micros() as u64).max(start);
                free_at = stop;
                end = end.max(stop);
                events.push(complete(span.entry, *tid, start, stop - start));
            }
        }
        let not_run: Vec<&Entry> = drawn(self)
            .filter(|e| {
                e.status() != Status::Cached && (e.started().is_none() || e.worker().is_none())
            })
            .collect();
        if !not_run.is_empty() {
            let track = tids.iter().max().map_or(0, |tid| tid + 1);
            events.push(thread_name(track, "not run"));
            for entry in not_run {
                events.push(instant(entry, track, end));
            }
        }
        json!({"traceEvents": events, "displayTimeUnit": "ms"}).to_string()
    }
}

/// A station that ran or failed on a worker.
struct Span<'a> {
    entry: &'a Entry,
    track: Track<'a>,
    start: SystemTime,
}

/// Where a station ran: a worker thread of the run, or a Temporal worker, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Track<'a> {
    Thread(usize),
    Worker(&'a str),
}

impl Track<'_> {
    fn name(&self) -> String {
        match self {
            Track::Thread(n) => format!("worker {n}"),
            Track::Worker(name) => format!("on {name}"),
        }
    }
}

/// The `tid` of each track (sorted, threads first): a thread's number, then the Temporal
/// workers after the last thread.
fn tids(tracks: &[Track<'_>]) -> Vec<usize> {
    let threads = tracks.iter().filter_map(|track| match track {
        Track::Thread(n) => Some(n + 1),
        Track::Worker(_) => None,
    });
    let mut next = threads.max().unwrap_or(0);
    let tid = |track: &Track<'_>| match track {
        Track::Thread(n) => *n,
        Track::Worker(_) => {
            next += 1;
            next - 1
        }
    };
    tracks.iter().map(tid).collect()
}

/// The report's spans, by worker and start.
fn spans(report: &Report) -> Vec<Span<'_>> {
    let mut spans: Vec<Span<'_>> = drawn(report)
        .filter(|entry| entry.status() != Status::Cached)
        .filter_map(|entry| {
            let track = match entry.ran_on() {
                Some(name) => Track::Worker(name),
                None => Track::Thread(entry.worker()?),
            };
            Some(Span {
                entry,
                track,
                start: entry.started()?,
            })
        })
        .collect();
    spans.sort_by_key(|span| (span.track, span.start));
    spans
}

/// The entries drawn: every one but the maps whose items are in the report, which stand
/// for them.
pub(crate) fn drawn(report: &Report) -> impl Iterator<Item = &Entry> {
    let maps: HashSet<&str> = report
        .entries()
        .iter()
        .filter_map(|entry| split_item(entry.node()).map(|(map, _)| map))
        .collect();
    report
        .entries()
        .iter()
        .filter(move |entry| !maps.contains(entry.node()))
}

fn thread_name(tid: usize, name: &str) -> Value {
    json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": name}})
}

fn complete(entry: &Entry, tid: usize, ts: u64, dur: u64) -> Value {
    json!({
        "name": entry.node(), "cat": entry.status().to_string(), "ph": "X",
        "pid": 1, "tid": tid, "ts": ts, "dur": dur, "args": args(entry),
    })
}

fn instant(entry: &Entry, tid: usize, ts: u64) -> Value {
    json!({
        "name": entry.node(), "cat": entry.status().to_string(), "ph": "i", "s": "t",
        "pid": 1, "tid": tid, "ts": ts, "args": args(entry),
    })
}

fn args(entry: &Entry) -> Value {
    let mut args = json!({"status": entry.status().to_string(), "station": entry.id()});
    for (key, value) in [("reason", entry.reason()), ("error", entry.error())] {
        if let Some(value) = value {
            args[key] = Value::from(value);
        }
    }
    if let Some(dir) = entry.kept_dir() {
        args["kept_dir"] = Value::from(dir.display().to_string());
    }
    args
}
