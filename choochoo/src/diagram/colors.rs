//! The class of a shape (its status, `unknown` or `input`) and its colours, shared by every
//! format and by the pages that draw a legend.

use super::Shape;
use crate::report::Status;

/// Fill and stroke colours of each class of shape.
pub(super) const CLASS_COLORS: [(&str, &str, &str); 7] = [
    ("ran", "#8fd9a8", "#1b7a43"),
    ("cached", "#dcefe2", "#5c8a6b"),
    ("failed", "#f4a0a0", "#b3261e"),
    ("blocked", "#f8cf8f", "#a05a00"),
    ("skipped", "#e2e2e2", "#777777"),
    ("unknown", "#ffffff", "#555555"),
    ("input", "#f4f4f8", "#8888aa"),
];

/// The class of a shape: its status, `unknown` (never run), or `input`.
pub(super) fn class(shape: &Shape) -> &'static str {
    match (&shape.station, shape.status) {
        (None, _) => "input",
        (Some(_), None) => "unknown",
        (Some(_), Some(Status::Ran)) => "ran",
        (Some(_), Some(Status::Cached)) => "cached",
        (Some(_), Some(Status::Failed)) => "failed",
        (Some(_), Some(Status::Blocked)) => "blocked",
        (Some(_), Some(Status::Skipped)) => "skipped",
    }
}

/// The fill and stroke colour of a shape.
pub(super) fn colors(shape: &Shape) -> (&'static str, &'static str) {
    let class = class(shape);
    CLASS_COLORS
        .iter()
        .find(|(name, ..)| *name == class)
        .map_or(("#ffffff", "#555555"), |(_, fill, stroke)| (*fill, *stroke))
}

/// The legend's entries: class and colour, for pages that draw a diagram.
pub(crate) fn legend() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    CLASS_COLORS.iter().copied()
}
