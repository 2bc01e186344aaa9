//! A diagram as a Mermaid flowchart, which GitHub, GitLab and most wikis render.

use super::Diagram;
use super::colors::{CLASS_COLORS, class};
use std::fmt::Write as _;

impl Diagram {
    /// The diagram as a `flowchart LR`, with one `classDef` per class of shape.
    pub(super) fn write_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for i in self.loose() {
            self.write_node(&mut out, i, "  ");
        }
        for cluster in self.inside(None) {
            self.write_subgraph(&mut out, cluster, 1);
        }
        for (from, to) in &self.edges {
            let _ = writeln!(out, "  n{from} --> n{to}");
        }
        let mut classes: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, shape) in self.shapes.iter().enumerate() {
            let class = class(shape);
            match classes.iter_mut().find(|(name, _)| *name == class) {
                Some((_, members)) => members.push(i),
                None => classes.push((class, vec![i])),
            }
        }
        for (class, members) in classes {
            let (fill, stroke) = CLASS_COLORS
                .iter()
                .find(|(name, ..)| *name == class)
                .map_or(("#ffffff", "#555555"), |(_, fill, stroke)| (*fill, *stroke));
            let _ = writeln!(out, "  classDef {class} fill:{fill},stroke:{stroke}");
            let members: Vec<String> = members.iter().map(|i| format!("n{i}")).collect();
            let _ = writeln!(out, "  class {} {class}", members.join(","));
        }
        out
    }
}

impl Diagram {
    /// Shape `i`'s node statement.
    fn write_node(&self, out: &mut String, i: usize, indent: &str) {
        let shape = &self.shapes[i];
        let mut label = mermaid_text(&shape.text);
        if let Some(detail) = shape.second_line() {
            label = format!("{label}<br/><small>{}</small>", mermaid_text(&detail));
        }
        let (open, close) = if shape.station.is_some() {
            ("[\"", "\"]")
        } else {
            ("([\"", "\"])")
        };
        let _ = writeln!(out, "{indent}n{i}{open}{label}{close}");
    }

    /// A sub-workflow's `subgraph`, `depth` deep, with its nodes and the subgraphs inside.
    fn write_subgraph(&self, out: &mut String, index: usize, depth: usize) {
        let cluster = &self.clusters[index];
        let indent = "  ".repeat(depth);
        let label = mermaid_text(&cluster.label);
        let _ = writeln!(out, "{indent}subgraph c{index}[\"{label}\"]");
        for &shape in &cluster.members {
            self.write_node(out, shape, &format!("{indent}  "));
        }
        for inner in self.inside(Some(index)) {
            self.write_subgraph(out, inner, depth + 1);
        }
        let _ = writeln!(out, "{indent}end");
    }
}

/// Text inside a quoted Mermaid label, with Mermaid's entity codes.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}
