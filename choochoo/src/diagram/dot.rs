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
        for shape in self.loose() {
            write_shape(&mut out, &self.shapes[shape], "  ");
        }
        for cluster in self.inside(None) {
            self.write_cluster(&mut out, cluster, 1);
        }
        for (from, to) in &self.edges {
            let (from, to) = (&self.shapes[*from].node, &self.shapes[*to].node);
            let _ = writeln!(out, "  {} -> {};", dot_string(from), dot_string(to));
        }
        out.push_str("}\n");
        out
    }
}

impl Diagram {
    /// A sub-workflow's box, `depth` deep, with its shapes and the boxes inside it.
    fn write_cluster(&self, out: &mut String, index: usize, depth: usize) {
        let cluster = &self.clusters[index];
        let indent = "  ".repeat(depth);
        let _ = writeln!(
            out,
            "{indent}subgraph {} {{",
            dot_string(&format!("cluster_{}", cluster.path))
        );
        let _ = writeln!(
            out,
            "{indent}  label={}; style=\"rounded,dashed\"; color=\"#888888\";",
            dot_string(&cluster.label)
        );
        for &shape in &cluster.members {
            write_shape(out, &self.shapes[shape], &format!("{indent}  "));
        }
        for inner in self.inside(Some(index)) {
            self.write_cluster(out, inner, depth + 1);
        }
        let _ = writeln!(out, "{indent}}}");
    }
}

/// One node statement.
fn write_shape(out: &mut String, shape: &Shape, indent: &str) {
    let mut label = shape.text.clone();
    if let Some(detail) = shape.second_line() {
        label = format!("{label}\n{detail}");
    }
    let (fill, _) = colors(shape);
    let _ = write!(
        out,
        "{indent}{} [label={}, fillcolor=\"{fill}\", tooltip={}",
        dot_string(&shape.node),
        dot_string(&label),
        dot_string(&tooltip(shape))
    );
    if shape.station.is_none() {
        out.push_str(", shape=ellipse, style=\"dashed,filled\"");
    }
    out.push_str("];\n");
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
