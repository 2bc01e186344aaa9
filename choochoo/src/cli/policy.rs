//! `run --retries NAME=N`, `--backoff NAME=200ms`, `--timeout NAME=30s`: attempt policies
//! set for one run, in the attribute's duration syntax (`"250ms"`, `"30s"`, `"5m"`, `"1h"`);
//! and `--resource NAME=N`, how many stations may hold a resource at once.

use super::args::RunOptions;
use crate::run::Runner;
use std::time::Duration;

/// Reads `NAME=N` for `--retries`.
pub(super) fn retries(text: &str) -> Result<(String, u32), String> {
    let (name, value) = assignment(text, "N", "db=3")?;
    let n = value.parse::<u32>().map_err(|_| {
        format!("`{value}` is not a number of retries; write a whole number, e.g. `{name}=3`")
    })?;
    Ok((name, n))
}

/// Reads `NAME=N` for `--resource`: at least one unit.
pub(super) fn units(text: &str) -> Result<(String, usize), String> {
    let (name, value) = assignment(text, "N", "db=1")?;
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok((name, n)),
        _ => Err(format!(
            "`{value}` is not a number of units; write a whole number above zero, e.g. `{name}=1`"
        )),
    }
}

/// Reads `NAME=DURATION` for `--backoff` and `--timeout`.
pub(super) fn duration(text: &str) -> Result<(String, Duration), String> {
    let (name, value) = assignment(text, "DURATION", "db=30s")?;
    let duration = parse_duration(value).ok_or_else(|| {
        format!("`{value}` is not a duration; write a whole number and a unit, `ms`, `s`, `m` or `h`, e.g. `{name}=30s`")
    })?;
    Ok((name, duration))
}

/// `NAME=VALUE` split at the first `=`, neither side empty.
fn assignment<'t>(text: &'t str, value: &str, example: &str) -> Result<(String, &'t str), String> {
    match text.split_once('=') {
        Some((name, rest)) if !name.trim().is_empty() && !rest.trim().is_empty() => {
            Ok((name.trim().to_owned(), rest.trim()))
        }
        _ => Err(format!(
            "expected NAME={value}, a station and its setting, e.g. `{example}`"
        )),
    }
}

/// `"250ms"`, `"30s"`, `"5m"`, `"1h"`, as `#[station(timeout = …)]` reads them.
fn parse_duration(text: &str) -> Option<Duration> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let scale: u64 = match &text[digits.len()..] {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    let ms = digits.trim().parse::<u64>().ok()?.checked_mul(scale)?;
    Some(Duration::from_millis(ms))
}

/// The runner with the run's policy options applied, in the order they were given.
pub(super) fn apply<'s>(mut runner: Runner<'s>, options: &RunOptions) -> Runner<'s> {
    for (name, n) in &options.retries {
        runner = runner.retries(name, *n);
    }
    for (name, pause) in &options.backoff {
        runner = runner.backoff(name, *pause);
    }
    for (name, limit) in &options.timeout {
        runner = runner.timeout(name, *limit);
    }
    for (name, units) in &options.resource {
        runner = runner.resource(name, *units);
    }
    runner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_attribute_reads_them() {
        assert_eq!(parse_duration("200ms"), Some(Duration::from_millis(200)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        for wrong in ["30", "s", "1.5s", "-1s", "3d", "", "99999999999999999999h"] {
            assert_eq!(parse_duration(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn an_assignment_names_a_station_and_its_setting() {
        assert_eq!(retries("db=3"), Ok(("db".to_owned(), 3)));
        assert_eq!(
            duration("deploy.app=250ms"),
            Ok(("deploy.app".to_owned(), Duration::from_millis(250)))
        );
        let error = retries("db").unwrap_err();
        assert!(error.contains("expected NAME=N"), "{error}");
        let error = retries("db=three").unwrap_err();
        assert!(
            error.contains("`three` is not a number of retries"),
            "{error}"
        );
        assert_eq!(units("db=2"), Ok(("db".to_owned(), 2)));
        let error = units("db=0").unwrap_err();
        assert!(error.contains("`0` is not a number of units"), "{error}");
        let error = duration("db=30").unwrap_err();
        assert!(error.contains("`30` is not a duration"), "{error}");
        assert!(duration("=30s").is_err());
    }
}
