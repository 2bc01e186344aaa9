//! Showing a run as it goes: progress bars on a terminal, one plain line per event
//! elsewhere (a CI log), nothing with `--quiet`; with `--verbose`, what stations warn of and
//! log, as they do. The bars' templates and amounts are in `progress_format`.
//!
//! The overall bar counts stations done of all, with those that ran and those that came
//! from the store counted apart, and estimates the time left from how long each station
//! took the last time it ran (or, for stations never run, the mean of those run so far).
//! A map's items count as stations of their own, added to the total as the map finds its
//! list; the map itself costs nothing beyond its items.

use super::args::Args;
use super::progress_format::{amount, station_template};
use crate::clock;
use crate::error::Error;
use crate::graph::{Graph, Kind};
use crate::progress::{Event, Unit};
use crate::report::Status;
use crate::store::Store;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Station names longer than this are cut in the bars' column.
const NAME_WIDTH: usize = 40;

/// The overall bar, before and after a map adds its items to it.
const OVERALL: &str =
    "{spinner:.green} {elapsed:>4} [{bar:32.green/white}] {pos}/{len} stations {wide_msg}";
const OVERALL_WITH_ITEMS: &str = "{spinner:.green} {elapsed:>4} [{bar:32.green/white}] {pos}/{len} stations and items {wide_msg}";

/// How a run is shown.
pub(super) struct ProgressView {
    shared: Option<Arc<Shared>>,
}

struct Shared {
    verbose: bool,
    /// `None`: plain lines.
    bars: Option<Bars>,
    jobs: usize,
    /// The width of the station column: the longest station name, up to a limit.
    width: usize,
    /// How long each station took the last time it ran.
    expected: HashMap<String, Duration>,
    /// The graph's maps, whose time is their items'.
    maps: HashSet<Box<str>>,
    state: Mutex<State>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
}

#[derive(Default)]
struct State {
    total: usize,
    done: usize,
    counts: HashMap<Status, usize>,
    /// Sum and number of this run's `ran` durations, for stations with no history.
    ran_time: Duration,
    ran: usize,
    /// Expected time of the stations not finished yet that have a history, and how many
    /// have none.
    left_known: Duration,
    left_unknown: usize,
    running: HashMap<String, Running>,
}

/// A station being run: its bar, or for plain output the last progress it printed.
struct Running {
    bar: Option<ProgressBar>,
    /// The kind of bar set on it: whether the total is known, and the unit.
    shape: Option<(bool, Unit)>,
    printed_at: Instant,
    printed_quarter: u64,
}

impl ProgressView {
    pub(super) fn start(
        args: &Args,
        store: &Store,
        graph: &Graph,
        jobs: usize,
    ) -> Result<ProgressView, Error> {
        if args.quiet {
            return Ok(ProgressView { shared: None });
        }
        let bars = std::io::stderr().is_terminal().then(Bars::new);
        // Only the bars show the time left: plain lines need no history.
        let expected = match bars {
            Some(_) => last_durations(store, &args.profile)?,
            None => HashMap::new(),
        };
        let paths = crate::execution::paths::node_paths(graph)?;
        let mut state = State::default();
        let mut width = 0;
        let mut maps = HashSet::new();
        for (id, node) in graph.nodes.iter().enumerate() {
            if !matches!(node.kind, Kind::Station { .. }) {
                continue;
            }
            width = width.max(paths[id].chars().count().min(NAME_WIDTH));
            if node.map().is_some() {
                // Its items' names are not known yet: room for them.
                width = NAME_WIDTH;
                maps.insert(Box::<str>::from(&paths[id]));
                continue;
            }
            match expected.get(&paths[id]) {
                Some(took) => state.left_known += *took,
                None => state.left_unknown += 1,
            }
        }
        Ok(ProgressView {
            shared: Some(Arc::new(Shared {
                verbose: args.verbose,
                bars,
                jobs: jobs.max(1),
                width,
                expected,
                maps,
                state: Mutex::new(state),
            })),
        })
    }

    /// The listener for [`Runner::progress`](crate::Runner::progress), unless quiet.
    pub(super) fn listener(&self) -> Option<impl Fn(&Event<'_>) + Send + Sync + 'static> {
        let shared = self.shared.clone()?;
        Some(move |event: &Event<'_>| shared.on(event))
    }

    /// Clears the bars, before the summary is printed.
    pub(super) fn finish(&self) {
        let Some(shared) = &self.shared else { return };
        let mut state = shared.lock();
        for (_, running) in state.running.drain() {
            if let Some(bar) = running.bar {
                bar.finish_and_clear();
            }
        }
        if let Some(bars) = &shared.bars {
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
    }
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(style(OVERALL));
        overall.enable_steady_tick(Duration::from_millis(120));
        Bars { multi, overall }
    }
}

/// A style from a template written here; a mistake in one shows the default style.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on(&self, event: &Event<'_>) {
        let mut state = self.lock();
        match *event {
            Event::Started { stations } => {
                state.total = stations;
                if let Some(bars) = &self.bars {
                    bars.overall.set_length(stations as u64);
                }
            }
            Event::Items { items, .. } => self.items(&mut state, items),
            Event::Running { node, .. } => self.running(&mut state, node),
            Event::Progress {
                node,
                done,
                total,
                unit,
            } => self.progress(&mut state, node, done, total, unit),
            Event::Finished {
                node,
                status,
                duration,
                ..
            } => self.finished(&mut state, node, status, duration),
            Event::Warning { node, line } => self.said(&state, node, "warning", line),
            Event::Log { node, line } => self.said(&state, node, "log", line),
        }
    }

    /// With `--verbose`, a line a station warned of or logged, as it comes.
    fn said(&self, state: &State, node: &str, word: &str, line: &str) {
        if !self.verbose {
            return;
        }
        match &self.bars {
            Some(bars) => {
                let _ = bars.multi.println(format!("  {word:>7}  {node}: {line}"));
            }
            None => self.line(state.total, None, word, format_args!("{node}: {line}")),
        }
    }

    /// A map's items join the total, each with the time it took the last time it ran.
    fn items(&self, state: &mut State, items: &[String]) {
        state.total += items.len();
        for item in items {
            match self.expected.get(item) {
                Some(took) => state.left_known += *took,
                None => state.left_unknown += 1,
            }
        }
        if let Some(bars) = &self.bars {
            bars.overall.set_length(state.total as u64);
            bars.overall.set_style(style(OVERALL_WITH_ITEMS));
        }
    }

    fn running(&self, state: &mut State, node: &str) {
        if state.running.contains_key(node) {
            return;
        }
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.multi.add(ProgressBar::new_spinner());
            bar.set_style(style(&station_template(self.width, None)));
            bar.set_prefix(node.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            self.line(state.total, None, "start", format_args!("{node}"));
        }
        let running = Running {
            bar,
            shape: None,
            printed_at: Instant::now(),
            printed_quarter: 0,
        };
        state.running.insert(node.to_owned(), running);
    }

    fn progress(&self, state: &mut State, node: &str, done: u64, total: Option<u64>, unit: Unit) {
        let stations = state.total;
        let Some(running) = state.running.get_mut(node) else {
            return;
        };
        if let Some(bar) = &running.bar {
            let shape = (total.is_some(), unit);
            if running.shape != Some(shape) {
                bar.set_style(style(&station_template(self.width, Some(shape))));
                running.shape = Some(shape);
            }
            match total {
                Some(total) => bar.set_length(total),
                None => bar.unset_length(),
            }
            bar.set_position(done);
            return;
        }
        // Plain output: a line at each quarter, or every ten seconds when the total is unknown.
        let quarter = total.filter(|t| *t > 0).map(|t| done.min(t) * 4 / t);
        let due = match quarter {
            Some(quarter) => quarter > running.printed_quarter,
            None => running.printed_at.elapsed() >= Duration::from_secs(10),
        };
        if due {
            running.printed_quarter = quarter.unwrap_or(running.printed_quarter);
            running.printed_at = Instant::now();
            let amount = amount(done, total, unit);
            self.line(stations, None, "working", format_args!("{node} {amount}"));
        }
    }

    fn finished(&self, state: &mut State, node: &str, status: Status, duration: Duration) {
        state.done += 1;
        *state.counts.entry(status).or_default() += 1;
        match self.expected.get(node) {
            _ if self.maps.contains(node) => {}
            Some(took) => state.left_known = state.left_known.saturating_sub(*took),
            None => state.left_unknown = state.left_unknown.saturating_sub(1),
        }
        if status == Status::Ran && !self.maps.contains(node) {
            state.ran += 1;
            state.ran_time += duration;
        }
        if let Some(bar) = state.running.remove(node).and_then(|r| r.bar) {
            bar.finish_and_clear();
            if let Some(bars) = &self.bars {
                bars.multi.remove(&bar);
            }
        }
        let shown = self.verbose || status != Status::Cached;
        let took = if matches!(status, Status::Ran | Status::Failed) {
            format!(" ({})", clock::duration(duration))
        } else {
            String::new()
        };
        match &self.bars {
            Some(bars) => {
                bars.overall.set_position(state.done as u64);
                bars.overall.set_message(self.overall_message(state));
                if shown {
                    let _ = bars
                        .multi
                        .println(format!("  {:>7}  {node}{took}", status.to_string()));
                }
            }
            None if shown => {
                let word = status.to_string();
                self.line(
                    state.total,
                    Some(state.done),
                    &word,
                    format_args!("{node}{took}"),
                );
            }
            None => {}
        }
    }

    /// `· 3 ran · 5 cached · 1 failed · ~12s left`.
    fn overall_message(&self, state: &State) -> String {
        let mut parts: Vec<String> = Status::ALL
            .into_iter()
            .filter_map(|s| state.counts.get(&s).map(|n| format!("{n} {s}")))
            .collect();
        if let Some(left) = self.time_left(state) {
            parts.push(format!("~{} left", clock::duration(left)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("· {}", parts.join(" · "))
        }
    }

    /// The expected time of what is left, spread over the workers; unknown until every
    /// station left has a history or one station of this run has ran.
    fn time_left(&self, state: &State) -> Option<Duration> {
        let unknown = if state.left_unknown == 0 {
            Duration::ZERO
        } else if state.ran > 0 {
            state.ran_time / state.ran as u32 * state.left_unknown as u32
        } else {
            return None;
        };
        Some((state.left_known + unknown) / self.jobs as u32)
    }

    /// A plain line: `  [3/6] ran      deploy.build (1.2s)`, the counter only when a
    /// station is done.
    fn line(&self, total: usize, done: Option<usize>, word: &str, rest: std::fmt::Arguments<'_>) {
        let digits = total.max(1).ilog10() as usize + 1;
        let counter = done.map_or_else(String::new, |done| format!("[{done}/{total}]"));
        // One write per line: stderr is not buffered, and each piece would be a system call.
        let line = format!(
            "{counter:>width$} {word:<8} {rest}\n",
            width = 2 * digits + 3
        );
        std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes()).ok();
    }
}

/// How long each station took the last time it ran, by node.
fn last_durations(store: &Store, profile: &str) -> Result<HashMap<String, Duration>, Error> {
    Ok(store
        .last_entries(profile, true)?
        .into_iter()
        .filter(|(_, last)| last.status == Status::Ran)
        .map(|(node, last)| (node, last.duration))
        .collect())
}
