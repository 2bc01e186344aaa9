//! Times and durations written for people: `1.2s`, `3m 04s`, `5m ago`,
//! `2025-06-01 12:03:04 UTC`. Shared by the HTML report and the command line.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A duration at the precision a person reads it at.
pub(crate) fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d < Duration::from_millis(1) {
        format!("{}µs", d.as_micros())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, secs % 3600 / 60)
    }
}

/// How long before `now` a moment was, in its largest unit: `12s ago`, `3h ago`.
#[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
pub(crate) fn ago(at: SystemTime, now: SystemTime) -> String {
    let Ok(elapsed) = now.duration_since(at) else {
        return "just now".to_owned();
    };
    let secs = elapsed.as_secs();
    match secs {
        0 => "just now".to_owned(),
        1..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// A moment in UTC, to the second: `2025-06-01 12:03:04 UTC`.
pub(crate) fn utc(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The calendar date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A Unix time in nanoseconds, as the store keeps it.
pub(crate) fn from_ns(ns: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_their_scale() {
        assert_eq!(duration(Duration::from_micros(12)), "12µs");
        assert_eq!(duration(Duration::from_millis(340)), "340ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.2s");
        assert_eq!(duration(Duration::from_secs(184)), "3m 04s");
        assert_eq!(duration(Duration::from_secs(7380)), "2h 03m");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661);
        assert_eq!(utc(leap_day), "2000-02-29 01:01:01 UTC");
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(ago(now - Duration::from_secs(90), now), "1m ago");
    }
}
