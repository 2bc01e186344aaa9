//! How a running station's progress reads: the template of its bar, and its amount done
//! as a plain line says it.

use crate::progress::Unit;
use indicatif::HumanBytes;

/// The line of a running station, named in a column `width` wide; with a bar when it
/// reports progress towards a known total, and bytes shown as sizes with a rate.
pub(super) fn station_template(width: usize, shape: Option<(bool, Unit)>) -> String {
    let rest = match shape {
        None => "",
        Some((true, Unit::Bytes)) => {
            " [{bar:24.cyan/white}] {bytes}/{total_bytes} {binary_bytes_per_sec}"
        }
        Some((true, _)) => " [{bar:24.cyan/white}] {pos}/{len}",
        Some((false, Unit::Bytes)) => " {bytes} {binary_bytes_per_sec}",
        Some((false, _)) => " {pos}",
    };
    format!("  {{spinner:.cyan}} {{prefix:{width}!}}{rest}")
}

/// `50% (20.0 MiB/40.0 MiB)`, `3/10`, `12.0 KiB`.
pub(super) fn amount(done: u64, total: Option<u64>, unit: Unit) -> String {
    let show = |n: u64| match unit {
        Unit::Bytes => HumanBytes(n).to_string(),
        _ => n.to_string(),
    };
    match total {
        Some(total) if total > 0 => {
            format!(
                "{}% ({}/{})",
                done.min(total) * 100 / total,
                show(done),
                show(total)
            )
        }
        _ => show(done),
    }
}
