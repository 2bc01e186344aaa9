//! A diagram as Graphviz DOT: `dot -Tsvg` draws it.

use super::colors::{class, colors};
use super::{Diagram, Shape};
use std::fmt::Write as _;

impl Diagram {
    /// The diagram as a DOT `digraph`, one node statement per shape.
    pub(super) fn write_dot(&self) -> String {
        let mut out = format!("digraph {} {{\n", dot_string(&self.title));
        out.push_str("  rankdir=LR;\n");
        out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fillcolor=\"#ffffff\"];\n");
        for shape in &self.shapes {
            let mut label = shape.text.clone();
            if let Some(detail) = shape.second_line() {
                label = format!("{label}\n{detail}");
            }
            let (fill, _) = colors(shape);
            let _ = write!(
                out,
                "  {} [label={}, fillcolor=\"{fill}\", tooltip={}",
                dot_string(&shape.node),
                dot_string(&label),
                dot_string(&tooltip(shape))
            );
            if shape.station.is_none() {
                out.push_str(", shape=ellipse, style=\"dashed,filled\"");
            }
            out.push_str("];\n");
        }
        for (from, to) in &self.edges {
            let (from, to) = (&self.shapes[*from].node, &self.shapes[*to].node);
            let _ = writeln!(out, "  {} -> {};", dot_string(from), dot_string(to));
        }
        out.push_str("}\n");
        out
    }
}

/// What hovering a node says: its name in the store, its station and its status.
fn tooltip(shape: &Shape) -> String {
    match &shape.station {
        Some(station) => format!("{} ({station}): {}", shape.node, class(shape)),
        None => format!("input {}", shape.node),
    }
}

/// A DOT string literal.
fn dot_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}
