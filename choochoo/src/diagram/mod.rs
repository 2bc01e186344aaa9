//! Diagrams: a workflow's graph drawn for people, with each station coloured by what
//! happened to it. A [`Diagram`] writes Graphviz DOT, Mermaid (which GitHub and most wikis
//! render), or an SVG picture laid out in-process, so no Graphviz install is needed.
//!
//! A diagram shows every station, and every constant input that feeds one (a workflow
//! parameter by its name, a literal by its value). Stations are named as in the store
//! (`workflow.binding`), the names `--force` and `clean` take. An SVG of a graph too large
//! to lay out readably (over 120 nodes) draws one box per station *function*
//! ("square ×1000") instead of one per node.

use crate::error::Error;
use crate::execution::paths::node_paths;
use crate::graph::{Graph, Kind};
use crate::report::{Report, Status};
use crate::workflow::Workflow;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Graphs larger than this are drawn grouped by station function in SVG.
const SVG_LIMIT: usize = 120;

/// Inputs shown by value are cut to this many characters.
const PREVIEW: usize = 32;

/// A workflow's graph as a picture: Graphviz DOT, Mermaid, or SVG laid out in-process.
///
/// Every station is drawn, and every constant input that feeds one (a workflow parameter by
/// its name, a literal by its value); stations are named as in the store
/// (`workflow.binding`). [`colored`](Diagram::colored) colours them by a run's report. An
/// SVG of more than 120 nodes draws one box per station function ("square ×1000").
///
/// ```
/// use choochoo::{station, workflow, Diagram};
///
/// #[station]
/// fn double(x: &u64) -> u64 { 2 * x }
///
/// workflow! {
///     fn twice(x: u64) -> u64 {
///         let y = double(x);
///         double(y)
///     }
/// }
///
/// # fn main() -> Result<(), choochoo::Error> {
/// let diagram = Diagram::of(twice(21))?;
/// assert!(diagram.dot().contains("\"twice.y\""));
/// assert!(diagram.mermaid().starts_with("flowchart LR"));
/// assert!(diagram.svg().contains("data-node=\"twice.y\""));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Diagram {
    title: String,
    shapes: Vec<Shape>,
    /// Indices into `shapes`: from an input to the station reading it.
    edges: Vec<(usize, usize)>,
}

#[derive(Clone, Debug)]
struct Shape {
    /// The node's name in the store, which identifies it in every format.
    node: String,
    /// The first line: the binding, the station's name, or an input's name or value.
    text: String,
    /// The second line: the station's name when a binding names the node.
    detail: Option<String>,
    /// For a map, how its items stand: `34 items: 33 cached, 1 failed`.
    items: Option<String>,
    /// The station's id; `None` for an input.
    station: Option<String>,
    status: Option<Status>,
}

impl Diagram {
    /// Builds `workflow`'s graph, without running or reading anything, and draws it with
    /// no colours.
    pub fn of<W: Workflow>(workflow: W) -> Result<Diagram, Error> {
        let mut graph = Graph::new();
        let title = workflow.name().to_owned();
        workflow.build(&mut graph)?;
        Diagram::from_graph(title, &graph)
    }

    /// Draws a graph built with the builder API.
    pub fn of_graph(graph: &Graph) -> Result<Diagram, Error> {
        Diagram::from_graph("graph".to_owned(), graph)
    }

    pub(crate) fn from_graph(title: String, graph: &Graph) -> Result<Diagram, Error> {
        let paths = node_paths(graph)?;
        let mut index = vec![usize::MAX; graph.nodes.len()];
        let mut diagram = Diagram {
            title,
            shapes: Vec::new(),
            edges: Vec::new(),
        };
        let feeds_a_station = feeding(graph);
        for (id, node) in graph.nodes.iter().enumerate() {
            let shape = match &node.kind {
                Kind::Input(_) if !feeds_a_station[id] => continue,
                Kind::Input(value) => Shape {
                    node: paths[id].to_string(),
                    text: match &node.label {
                        Some(label) => label.to_string(),
                        None => preview(readable(|| (node.codec.to_json)(&**value))),
                    },
                    detail: None,
                    items: None,
                    station: None,
                    status: None,
                },
                Kind::Station { station, inputs } => {
                    for source in inputs.iter().flat_map(crate::graph::Edge::sources) {
                        diagram
                            .edges
                            .push((index[source.index()], diagram.shapes.len()));
                    }
                    let name = station.name().to_owned();
                    let (text, detail) = match &node.label {
                        Some(label) if **label != *name => (label.to_string(), Some(name)),
                        _ => (name, None),
                    };
                    Shape {
                        node: paths[id].to_string(),
                        text,
                        detail,
                        items: None,
                        station: Some(station.id().to_owned()),
                        status: None,
                    }
                }
            };
            index[id] = diagram.shapes.len();
            diagram.shapes.push(shape);
        }
        // A fan-in reading the same node twice is one arrow.
        diagram.edges.sort_unstable();
        diagram.edges.dedup();
        Ok(diagram)
    }

    /// Colours each station by its status in `report`. A station the report does not
    /// name is drawn as cached: a report read back from the store keeps only the stations
    /// that did not come from it.
    pub fn colored(mut self, report: &Report) -> Diagram {
        let statuses: HashMap<&str, Status> = report
            .entries()
            .iter()
            .map(|entry| (entry.node(), entry.status()))
            .collect();
        for shape in self.shapes.iter_mut().filter(|s| s.station.is_some()) {
            shape.status = Some(
                statuses
                    .get(&*shape.node)
                    .copied()
                    .unwrap_or(Status::Cached),
            );
        }
        let mut items: HashMap<&str, Vec<Status>> = HashMap::new();
        for entry in report.entries() {
            if let Some((map, _)) = crate::report::split_item(entry.node()) {
                items.entry(map).or_default().push(entry.status());
            }
        }
        for (map, statuses) in items {
            self.set_items(map, format!("items: {}", status_counts(&statuses)));
        }
        self
    }

    /// Says how the items of the map `node` stand, under its name; for the command line's
    /// `graph`.
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn set_items(&mut self, node: &str, items: String) {
        if let Some(shape) = self.shapes.iter_mut().find(|s| s.node == node) {
            shape.items = Some(items);
        }
    }

    /// Sets one station's colour (`None`: not run); for the command line's `graph`.
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn set_status(&mut self, node: &str, status: Option<Status>) {
        if let Some(shape) = self.shapes.iter_mut().find(|s| s.node == node) {
            shape.status = status;
        }
    }

    /// The names of the stations drawn, in graph order.
    #[cfg_attr(not(feature = "cli"), allow(dead_code, reason = "used by the cli"))]
    pub(crate) fn stations(&self) -> impl Iterator<Item = &str> {
        self.shapes
            .iter()
            .filter(|s| s.station.is_some())
            .map(|s| s.node.as_str())
    }

    /// Graphviz DOT: `dot -Tsvg` draws it.
    pub fn dot(&self) -> String {
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

    /// A Mermaid flowchart, for Markdown that renders Mermaid (GitHub, GitLab, most wikis).
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (i, shape) in self.shapes.iter().enumerate() {
            let mut label = mermaid_text(&shape.text);
            if let Some(detail) = shape.second_line() {
                label = format!("{label}<br/><small>{}</small>", mermaid_text(&detail));
            }
            let (open, close) = if shape.station.is_some() {
                ("[\"", "\"]")
            } else {
                ("([\"", "\"])")
            };
            let _ = writeln!(out, "  n{i}{open}{label}{close}");
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

    /// An SVG picture, laid out in-process (with the `layout-rs` crate). Each station is a
    /// `<g class="station STATUS" data-node="NODE">` element, so a page can style or find it.
    pub fn svg(&self) -> String {
        if self.shapes.len() > SVG_LIMIT {
            return self.grouped().layout();
        }
        self.layout()
    }

    fn layout(&self) -> String {
        use layout::backends::svg::SVGWriter;
        use layout::core::base::Orientation;
        use layout::std_shapes::shapes::{Arrow, Element};
        use layout::topo::layout::VisualGraph;

        if self.shapes.is_empty() {
            return empty_svg("this workflow has no stations");
        }
        // layout-rs asserts its invariants; a graph it cannot place must not take the
        // program down with it.
        let laid_out = std::panic::catch_unwind(|| {
            let mut graph = VisualGraph::new(Orientation::LeftToRight);
            let handles: Vec<_> = self
                .shapes
                .iter()
                .map(|shape| {
                    let (kind, look, size, properties) = box_of(shape);
                    graph.add_node(Element::create_with_properties(
                        kind,
                        look,
                        Orientation::LeftToRight,
                        size,
                        properties,
                    ))
                })
                .collect();
            for (from, to) in &self.edges {
                graph.add_edge(Arrow::simple(""), handles[*from], handles[*to]);
            }
            let mut svg = SVGWriter::new();
            graph.do_it(false, false, false, &mut svg);
            svg.finalize()
        });
        match laid_out {
            Ok(svg) => polish(&svg),
            Err(_) => empty_svg("this graph could not be laid out; use `--format dot` instead"),
        }
    }

    /// One shape per station function (and per input type), for graphs too large to draw
    /// node by node. A group takes the worst status of its members.
    fn grouped(&self) -> Diagram {
        let mut keys: Vec<String> = Vec::new();
        let mut group_of = Vec::with_capacity(self.shapes.len());
        let mut groups: Vec<Shape> = Vec::new();
        let mut sizes: Vec<usize> = Vec::new();
        for shape in &self.shapes {
            let key = shape.station.clone().unwrap_or_else(|| "input".to_owned());
            let group = match keys.iter().position(|k| *k == key) {
                Some(group) => group,
                None => {
                    keys.push(key.clone());
                    groups.push(Shape {
                        node: key,
                        text: match &shape.station {
                            Some(_) => shape.detail.clone().unwrap_or_else(|| shape.text.clone()),
                            None => "inputs".to_owned(),
                        },
                        detail: None,
                        items: None,
                        station: shape.station.clone(),
                        status: shape.status,
                    });
                    sizes.push(0);
                    groups.len() - 1
                }
            };
            sizes[group] += 1;
            groups[group].status = worst(groups[group].status, shape.status);
            group_of.push(group);
        }
        for (group, size) in groups.iter_mut().zip(sizes) {
            if size > 1 {
                group.text = format!("{} ×{size}", group.text);
            }
        }
        let mut edges: Vec<(usize, usize)> = self
            .edges
            .iter()
            .map(|(from, to)| (group_of[*from], group_of[*to]))
            .filter(|(from, to)| from != to)
            .collect();
        edges.sort_unstable();
        edges.dedup();
        Diagram {
            title: self.title.clone(),
            shapes: groups,
            edges,
        }
    }
}

/// `33 cached, 1 failed`: how many of `statuses` there are of each, in the report's order.
pub(crate) fn status_counts(statuses: &[Status]) -> String {
    let counts: Vec<String> = Status::ALL
        .into_iter()
        .map(|status| (status, statuses.iter().filter(|s| **s == status).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    counts.join(", ")
}

impl Shape {
    /// The line under the name: the station's name, and how a map's items stand.
    fn second_line(&self) -> Option<String> {
        match (&self.detail, &self.items) {
            (Some(detail), Some(items)) => Some(format!("{detail} · {items}")),
            (detail, items) => detail.clone().or_else(|| items.clone()),
        }
    }
}

/// Which inputs feed a station (the others are not drawn).
fn feeding(graph: &Graph) -> Vec<bool> {
    let mut feeds = vec![false; graph.nodes.len()];
    for node in &graph.nodes {
        if let Kind::Station { inputs, .. } = &node.kind {
            for source in inputs.iter().flat_map(crate::graph::Edge::sources) {
                feeds[source.index()] = true;
            }
        }
    }
    feeds
}

/// An input's value as a short text.
fn preview(json: Option<serde_json::Value>) -> String {
    let text = match json {
        Some(serde_json::Value::String(text)) => format!("\"{text}\""),
        Some(value) => value.to_string(),
        None => "input".to_owned(),
    };
    if text.chars().count() <= PREVIEW {
        return text;
    }
    let cut: String = text.chars().take(PREVIEW - 1).collect();
    format!("{cut}…")
}

/// A value as JSON for people: `make` serializes it, and the files and directories inside
/// (which serialize as the bytes of their paths) are shown as their paths.
pub(crate) fn readable(
    make: impl FnOnce() -> Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    let (json, paths) = crate::file::collect_paths(make);
    let paths: Vec<(Vec<u8>, String)> = paths
        .iter()
        .map(|p| {
            let bytes = p.as_os_str().as_encoded_bytes().to_vec();
            (bytes, p.display().to_string())
        })
        .collect();
    json.map(|json| with_paths(json, &paths))
}

fn with_paths(json: serde_json::Value, paths: &[(Vec<u8>, String)]) -> serde_json::Value {
    use serde_json::Value;
    match json {
        Value::Array(items) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            if let Some((_, path)) = bytes.and_then(|b| paths.iter().find(|(p, _)| *p == b)) {
                return Value::String(path.clone());
            }
            Value::Array(items.into_iter().map(|i| with_paths(i, paths)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, with_paths(v, paths)))
                .collect(),
        ),
        other => other,
    }
}

/// Fill and stroke colours of each class of shape.
const CLASS_COLORS: [(&str, &str, &str); 7] = [
    ("ran", "#8fd9a8", "#1b7a43"),
    ("cached", "#dcefe2", "#5c8a6b"),
    ("failed", "#f4a0a0", "#b3261e"),
    ("blocked", "#f8cf8f", "#a05a00"),
    ("skipped", "#e2e2e2", "#777777"),
    ("unknown", "#ffffff", "#555555"),
    ("input", "#f4f4f8", "#8888aa"),
];

/// The class of a shape: its status, `unknown` (never run), or `input`.
fn class(shape: &Shape) -> &'static str {
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
fn colors(shape: &Shape) -> (&'static str, &'static str) {
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

/// What hovering a node says: its name in the store, its station and its status.
fn tooltip(shape: &Shape) -> String {
    match &shape.station {
        Some(station) => format!("{} ({station}): {}", shape.node, class(shape)),
        None => format!("input {}", shape.node),
    }
}

fn worst(a: Option<Status>, b: Option<Status>) -> Option<Status> {
    let rank = |s: Option<Status>| match s {
        Some(Status::Failed) => 5,
        Some(Status::Blocked) => 4,
        Some(Status::Skipped) => 3,
        None => 2,
        Some(Status::Ran) => 1,
        Some(Status::Cached) => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

type BoxSpec = (
    layout::std_shapes::shapes::ShapeKind,
    layout::core::style::StyleAttr,
    layout::core::geometry::Point,
    String,
);

/// The box of one shape for layout-rs: text, colours, size, and the SVG attributes that
/// identify it.
fn box_of(shape: &Shape) -> BoxSpec {
    use layout::core::color::Color;
    use layout::core::geometry::Point;
    use layout::core::style::StyleAttr;
    use layout::std_shapes::shapes::ShapeKind;

    let text = match shape.second_line() {
        Some(detail) => format!("{}\n{detail}", shape.text),
        None => shape.text.clone(),
    };
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(1);
    let lines = text.lines().count().max(1);
    // layout-rs sizes boxes for a font twice as wide as the one drawn; size them here.
    let size = Point::new(widest as f64 * 8.0 + 24.0, lines as f64 * 17.0 + 16.0);
    let (fill, stroke) = colors(shape);
    let rounded = if shape.station.is_some() { 6 } else { 16 };
    let look = StyleAttr::new(Color::fast(stroke), 2, Some(Color::fast(fill)), rounded, 14);
    let kind = if shape.station.is_some() {
        "station"
    } else {
        "input"
    };
    let properties = format!(
        "class=\"{kind} {}\" data-node=\"{}\"",
        class(shape),
        xml_escape(&shape.node)
    );
    (ShapeKind::Box(text), look, size, properties)
}

/// Makes layout-rs's SVG embeddable and readable: no XML prolog (so it can sit inside
/// HTML), a sans-serif font, and a class on the root.
fn polish(svg: &str) -> String {
    let body = match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    };
    body.replacen("<svg ", "<svg class=\"choochoo-graph\" ", 1)
        .replace(
            "font-family: Times, serif;",
            "font-family: Helvetica, Arial, sans-serif;",
        )
}

fn empty_svg(message: &str) -> String {
    format!(
        "<svg class=\"choochoo-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"40\">\
         <text x=\"10\" y=\"25\" font-family=\"sans-serif\" font-size=\"14\">{}</text></svg>",
        xml_escape(message)
    )
}

/// A DOT string literal.
fn dot_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// Text inside a quoted Mermaid label, with Mermaid's entity codes.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// Text for XML and HTML, attributes included.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(node: &str, station: Option<&str>, status: Option<Status>) -> Shape {
        Shape {
            node: node.to_owned(),
            text: node.to_owned(),
            detail: None,
            items: None,
            station: station.map(str::to_owned),
            status,
        }
    }

    #[test]
    fn large_graphs_group_by_station_and_keep_the_worst_status() {
        let mut shapes = vec![shape("x", None, None)];
        for i in 0..4 {
            let status = if i == 2 { Status::Failed } else { Status::Ran };
            shapes.push(shape(&format!("sq-{i}"), Some("app::square"), Some(status)));
        }
        shapes.push(shape("sum", Some("app::sum"), Some(Status::Blocked)));
        let edges = vec![
            (0, 1),
            (0, 2),
            (0, 3),
            (0, 4),
            (1, 5),
            (2, 5),
            (3, 5),
            (4, 5),
        ];
        let diagram = Diagram {
            title: "t".to_owned(),
            shapes,
            edges,
        };
        let grouped = diagram.grouped();
        let texts: Vec<&str> = grouped.shapes.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["inputs", "sq-0 ×4", "sum"]);
        assert_eq!(grouped.shapes[1].status, Some(Status::Failed));
        assert_eq!(grouped.edges, [(0, 1), (1, 2)]);
    }

    #[test]
    fn names_are_escaped_in_every_format() {
        let diagram = Diagram {
            title: "a\"b".to_owned(),
            shapes: vec![shape("say \"<hi>\"", Some("app::say"), None)],
            edges: Vec::new(),
        };
        assert!(diagram.dot().contains(r#""say \"<hi>\"""#));
        assert!(diagram.mermaid().contains("say #quot;#lt;hi#gt;#quot;"));
        assert!(
            diagram
                .svg()
                .contains("data-node=\"say &quot;&lt;hi&gt;&quot;\"")
        );
    }
}
