//! A sparkline: a defect's runs per day as a row of small bars, drawn inline in SVG.

use std::fmt::Write as _;

/// How many days a sparkline covers, up to today.
pub(super) const DAYS: usize = 30;

/// Bars of `per_day` (oldest first), scaled to the busiest day, with a title counting them.
pub(super) fn svg(per_day: &[u64]) -> String {
    const BAR: usize = 3;
    const HEIGHT: u64 = 16;
    let most = per_day.iter().copied().max().unwrap_or(0).max(1);
    let total: u64 = per_day.iter().sum();
    let width = per_day.len() * BAR;
    let mut svg = format!(
        "<svg class=\"spark\" width=\"{width}\" height=\"{HEIGHT}\" viewBox=\"0 0 {width} {HEIGHT}\" \
         role=\"img\" data-total=\"{total}\"><title>seen in {total} runs in the last {} days</title>",
        per_day.len()
    );
    for (day, &runs) in per_day.iter().enumerate() {
        if runs == 0 {
            continue;
        }
        let height = (runs * HEIGHT).div_ceil(most).max(1);
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{height}\"/>",
            day * BAR,
            HEIGHT - height,
            BAR - 1
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::svg;

    #[test]
    fn a_bar_per_day_seen_scaled_to_the_busiest() {
        let line = svg(&[0, 1, 0, 4]);
        assert_eq!(line.matches("<rect").count(), 2, "{line}");
        assert!(
            line.contains("x=\"9\" y=\"0\" width=\"2\" height=\"16\""),
            "{line}"
        );
        assert!(
            line.contains("x=\"3\" y=\"12\" width=\"2\" height=\"4\""),
            "{line}"
        );
        assert!(line.contains("seen in 5 runs in the last 4 days"), "{line}");
        assert!(!svg(&[0; 30]).contains("<rect"));
    }
}
