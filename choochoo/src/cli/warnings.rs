//! What stations warned of ([`Ctx::warn`](crate::Ctx::warn)), where the command line shows
//! it: at the end of a run, each station's lines under its name, and in `status` under the
//! line of each station whose last run warned.

use super::say;
use crate::report::Report;
use std::collections::HashMap;
use std::io::Write;

/// Prints to standard error what the stations of a run warned of: `warnings of NODE:`, then
/// its lines, as they were given.
pub(super) fn at_end(report: &Report) {
    let mut err = std::io::stderr().lock();
    for entry in report.entries() {
        if entry.warnings().is_empty() {
            continue;
        }
        let _ = writeln!(err, "warnings of {}:", entry.node());
        for line in entry.warnings() {
            let _ = writeln!(err, "  {line}");
        }
    }
}

/// Prints under a line of `status`, `indent` columns in, what each of `nodes` warned of
/// the last time it ran (`warned`, by node): `NODE warned:`, then each line as `| …`.
pub(super) fn under(indent: usize, warned: &HashMap<String, Vec<String>>, nodes: &[&str]) {
    for node in nodes {
        let Some(lines) = warned.get(*node) else {
            continue;
        };
        say(format_args!("{:indent$}{node} warned:", ""));
        for line in lines {
            say(format_args!("{:indent$}| {line}", ""));
        }
    }
}
