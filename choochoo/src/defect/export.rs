//! Ticket bodies: a defect written out for the team's tracker, as Markdown for the
//! description field (here) or as JSON for scripts (`export_json.rs`).

use super::model::{Defect, NoteKind, RUNS_FOR_A_PACE, duration, nanos};
use super::observation::Observation;
use std::fmt::{self, Display, Formatter};
use std::time::Duration;

/// The format of an [exported](crate::Store::export) ticket body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExportFormat {
    /// For a tracker's description field: summary table, timeline, evidence, notes.
    Markdown,
    /// Everything the ledger holds about the defect, for scripts.
    Json,
}

/// How many observations a Markdown ticket shows the evidence of, newest first. The
/// timeline lists them all, and the JSON export has every observation's evidence.
const EVIDENCE_SHOWN: usize = 5;

/// The Markdown ticket body of `defect`.
pub(crate) fn markdown(defect: &Defect, observations: &[Observation]) -> String {
    Markdown {
        defect,
        observations,
    }
    .to_string()
}

struct Markdown<'a> {
    defect: &'a Defect,
    observations: &'a [Observation],
}

impl Display for Markdown<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.summary(f)?;
        self.timeline(f)?;
        self.evidence(f)?;
        self.notes(f)?;
        self.decisions(f)
    }
}

impl Markdown<'_> {
    fn summary(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let d = self.defect;
        writeln!(f, "# Defect {}: {}\n", d.id, d.title)?;
        writeln!(f, "| | |\n|---|---|")?;
        let mut status = d.status.to_string();
        if d.regressed {
            status.push_str(", regressed: seen again after it was marked fixed");
        }
        if let Some(run) = d.quiet_since {
            status.push_str(&format!(", quiet since run {run}"));
        }
        let unknown = || unknown_pace(d);
        let rows = [
            ("Status", status),
            (
                "Runs seen",
                format!("{}, last in run {}", d.runs, d.last_run),
            ),
            ("Observations", observations(d)),
            ("First seen", utc(d.first_ns)),
            ("Last seen", utc(d.last_ns)),
            (
                "Mean interval",
                d.mean_interval().map_or_else(unknown, human),
            ),
            ("Next expected", next_expected(d).map_or_else(unknown, utc)),
            ("Stations", codes(&d.stations)),
            ("Instances", codes(&d.instances)),
            ("Blocked downstream", format!("{} stations", d.blocked)),
            ("Time lost", human(duration(d.lost_ns))),
            ("Signatures", codes(&d.signatures)),
        ];
        for (name, value) in rows {
            writeln!(f, "| {name} | {value} |")?;
        }
        Ok(())
    }

    fn timeline(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n## Timeline\n")?;
        writeln!(
            f,
            "| Observation | Failed | Instance | Station | Run | Attempts | Took | Blocked |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|")?;
        for o in self.observations {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                o.id,
                utc(o.finished_ns),
                code(&o.instance),
                code(&o.station_name),
                o.run,
                attempts(o),
                human(duration(o.duration_ns)),
                o.blocked
            )?;
        }
        Ok(())
    }

    fn evidence(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n## Evidence")?;
        for o in self.observations.iter().rev().take(EVIDENCE_SHOWN) {
            observation(f, o)?;
        }
        let hidden = self.observations.len().saturating_sub(EVIDENCE_SHOWN);
        if hidden > 0 {
            writeln!(
                f,
                "\n_The evidence of {hidden} earlier observations is in the JSON export._"
            )?;
        }
        Ok(())
    }

    fn decisions(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.defect.decisions.is_empty() {
            return Ok(());
        }
        writeln!(f, "\n## Decisions\n")?;
        for decision in &self.defect.decisions {
            let by = decision.by.replace(['\n', '\r'], " ");
            writeln!(f, "- {}: {} by {by}", utc(decision.at_ns), decision.what)?;
        }
        Ok(())
    }

    fn notes(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for kind in NoteKind::ALL {
            writeln!(f, "\n## {kind}\n")?;
            let notes: Vec<_> = self
                .defect
                .notes
                .iter()
                .filter(|n| n.kind == kind)
                .collect();
            if notes.is_empty() {
                writeln!(f, "_None yet._")?;
            }
            for note in notes {
                // Indented, a note's later lines stay inside its list item.
                writeln!(f, "- {}", note.text.replace('\n', "\n  "))?;
            }
        }
        Ok(())
    }
}

/// One observation's evidence: where and when, the error, the log tail, the inputs.
fn observation(f: &mut Formatter<'_>, o: &Observation) -> fmt::Result {
    writeln!(f, "\n### Observation {}: {}\n", o.id, o.title)?;
    writeln!(
        f,
        "- Station: {} ({}), node {}, profile {}",
        code(&o.station_id),
        code(&o.station_name),
        code(&o.node),
        code(&o.profile)
    )?;
    writeln!(
        f,
        "- Run {}: started {}, failed {}, took {}",
        o.run,
        utc(o.started_ns),
        utc(o.finished_ns),
        human(duration(o.duration_ns))
    )?;
    writeln!(f, "- Blocked downstream: {} stations", o.blocked)?;
    if o.attempts > 1 {
        writeln!(f, "- Attempts: {}", attempts(o))?;
    }
    if let Some(dir) = &o.kept_dir {
        writeln!(f, "- Kept directory: {}", code(&dir.to_string_lossy()))?;
    }
    for later in o.failures.iter().skip(1) {
        writeln!(
            f,
            "- Attempt {} failed: {}",
            later.attempt,
            code(&later.message)
        )?;
        if let Some(dir) = &later.kept_dir {
            writeln!(f, "  - Kept directory: {}", code(&dir.to_string_lossy()))?;
        }
    }
    let mut error: Vec<String> = match o.chain.split_first() {
        Some((outer, causes)) => std::iter::once(outer.clone())
            .chain(causes.iter().map(|cause| format!("caused by: {cause}")))
            .collect(),
        None => vec![o.message.clone()],
    };
    if let Some(panic) = &o.panic {
        error.push(format!("panic: {panic}"));
    }
    block(f, "Error", &error)?;
    if !o.log_tail.is_empty() {
        block(f, "Log tail", &o.log_tail)?;
    }
    inputs(f, o)
}

fn inputs(f: &mut Formatter<'_>, o: &Observation) -> fmt::Result {
    if o.inputs.is_empty() {
        return Ok(());
    }
    writeln!(f, "\nInputs:\n\n| Input | Hash | Value |\n|---|---|---|")?;
    for (name, digest) in &o.inputs {
        let value = o
            .input_values
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(String::new, |(_, value)| format!(" {}", code(value)));
        // The first 16 hex digits tell inputs apart; the JSON export has the whole hash.
        let hash = &digest.to_hex()[..16];
        writeln!(f, "| {} | {} |{value} |", code(name), code(hash))?;
    }
    Ok(())
}

/// `1`, `3`, `3, recovered on attempt 3`.
fn attempts(o: &Observation) -> String {
    if o.recovered {
        format!("{}, recovered on attempt {}", o.attempts, o.attempts)
    } else {
        o.attempts.to_string()
    }
}

/// `6 (3 stations)`, `4 (1 recovered)`: the observations, and what sets them apart.
fn observations(d: &Defect) -> String {
    let mut parts = Vec::new();
    if d.stations.len() > 1 {
        parts.push(format!("{} stations", d.stations.len()));
    }
    if d.recovered > 0 {
        parts.push(format!("{} recovered", d.recovered));
    }
    match parts.is_empty() {
        true => d.count.to_string(),
        false => format!("{} ({})", d.count, parts.join(", ")),
    }
}

/// Why a defect has no pace yet: `unknown (seen in 2 runs; figured from 3)`.
pub(crate) fn unknown_pace(d: &Defect) -> String {
    let runs = match d.runs {
        1 => "1 run".to_owned(),
        n => format!("{n} runs"),
    };
    format!("unknown (seen in {runs}; figured from {RUNS_FOR_A_PACE})")
}

/// Lines shown as they are, in a fenced block long enough not to be closed by them.
fn block(f: &mut Formatter<'_>, caption: &str, lines: &[String]) -> fmt::Result {
    let longest = lines.iter().map(|line| longest_backtick_run(line)).max();
    let fence = "`".repeat(longest.unwrap_or(0).max(2) + 1);
    writeln!(f, "\n{caption}:\n\n{fence}text")?;
    for line in lines {
        writeln!(f, "{line}")?;
    }
    writeln!(f, "{fence}")
}

/// `text` as inline code inside a table cell: delimited by more backticks than it holds,
/// with its pipes escaped and its line breaks flattened, which a table row cannot hold.
fn code(text: &str) -> String {
    let ticks = "`".repeat(longest_backtick_run(text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    let text = text.replace('|', "\\|").replace(['\n', '\r'], " ");
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

fn codes(items: &[String]) -> String {
    items
        .iter()
        .map(|item| code(item))
        .collect::<Vec<_>>()
        .join(", ")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Last seen plus the mean interval, in Unix nanoseconds.
pub(super) fn next_expected(d: &Defect) -> Option<i64> {
    let interval = d.mean_interval()?;
    Some(d.last_ns.saturating_add(nanos(interval)))
}

/// A duration as a person reads it: `350ms`, `4.2s`, `3m 20s`, `5h 12m`, `6d 3h`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        1..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `2024-05-01 10:00:00 UTC`.
fn utc(ns: i64) -> String {
    let (date, (h, m, s)) = civil(ns);
    format!("{date} {h:02}:{m:02}:{s:02} UTC")
}

/// `2024-05-01T10:00:00Z`.
pub(super) fn rfc3339(ns: i64) -> String {
    let (date, (h, m, s)) = civil(ns);
    format!("{date}T{h:02}:{m:02}:{s:02}Z")
}

/// The UTC date (`2024-05-01`) and time of day of a Unix time in nanoseconds.
fn civil(ns: i64) -> (String, (i64, i64, i64)) {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::clock::civil(days);
    let date = format!("{year:04}-{month:02}-{day:02}");
    (date, (secs / 3600, secs % 3600 / 60, secs % 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        // 2024 is a leap year: the day after February 28th is the 29th.
        assert_eq!(rfc3339(1_709_164_800_000_000_000), "2024-02-29T00:00:00Z");
        assert_eq!(utc(1_714_557_600_500_000_000), "2024-05-01 10:00:00 UTC");
    }

    #[test]
    fn durations_read_like_a_person_writes_them() {
        let cases = [
            (Duration::from_millis(350), "350ms"),
            (Duration::from_millis(4_200), "4.2s"),
            (Duration::from_secs(200), "3m 20s"),
            (Duration::from_secs(5 * 3600 + 12 * 60), "5h 12m"),
            (Duration::from_secs(6 * 86_400 + 3 * 3600), "6d 3h"),
        ];
        for (d, text) in cases {
            assert_eq!(human(d), text);
        }
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("`x`"), "`` `x` ``");
    }
}
