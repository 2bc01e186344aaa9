//! A child's output, line by line, into its station's log ([`Ctx::log`]), and kept whole
//! when the caller asked for it.

use crate::station::Ctx;
use std::io::{BufRead, BufReader, Read};

/// Reads `from` to its end: each line is logged when `log` is set, and the bytes are
/// returned when `keep` is.
pub(super) fn pump(ctx: &Ctx, from: Option<impl Read>, log: bool, keep: bool) -> Vec<u8> {
    let Some(from) = from else {
        return Vec::new();
    };
    let mut reader = BufReader::new(from);
    let mut kept = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return kept,
            Ok(_) => {
                if log {
                    let text = String::from_utf8_lossy(&line);
                    ctx.log(text.trim_end_matches(['\n', '\r']));
                }
                if keep {
                    kept.extend_from_slice(&line);
                }
            }
        }
    }
}
