//! Diagrams: a workflow's graph drawn for people, with each station coloured by what
//! happened to it. A [`Diagram`] writes Graphviz DOT, Mermaid (which GitHub and most wikis
//! render), or an SVG picture laid out in-process, so no Graphviz install is needed.
//!
//! A diagram shows every station, and every constant input that feeds one (a workflow
//! parameter by its name, a literal by its value). Stations are named as in the store
//! (`workflow.binding`), the names `--force` and `clean` take; a sub-workflow's stations
//! (`outer.inner.binding`) are drawn in a cluster of their own in DOT and Mermaid. An SVG of a graph too large
//! to lay out readably (over 120 nodes) draws one box per station *function*
//! ("square ×1000") instead of one per node.
//!
//! The model (`Diagram`, one `Shape` per node) is built and coloured here; each format has
//! its own file: `dot`, `mermaid`, `svg` (laid out with layout-rs, grouped when large);
//! `clusters` places the stations of sub-workflows.
//! `colors` holds the class and colours of a shape, shared by all three, and `preview` how
//! an input's value is shown.

mod clusters;
pub(crate) mod colors;
mod dot;
mod mermaid;
pub(crate) mod preview;
pub(crate) mod svg;
#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::execution::paths::node_paths;
use crate::graph::{Graph, Kind};
use crate::report::{Report, Status};
use crate::workflow::Workflow;
use preview::{preview, readable};
use std::collections::HashMap;

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
    /// The sub-workflows' boxes.
    clusters: Vec<clusters::Cluster>,
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
            clusters: Vec::new(),
        };
        let mut scopes = Vec::new();
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
                    for source in inputs.iter().flat_map(crate::graph::edge::Edge::sources) {
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
            scopes.push(node.scope());
        }
        diagram.clusters = clusters::clusters(graph, &scopes);
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
        self.write_dot()
    }

    /// A Mermaid flowchart, for Markdown that renders Mermaid (GitHub, GitLab, most wikis).
    pub fn mermaid(&self) -> String {
        self.write_mermaid()
    }

    /// An SVG picture, laid out in-process (with the `layout-rs` crate). Each station is a
    /// `<g class="station STATUS" data-node="NODE">` element, so a page can style or find it.
    pub fn svg(&self) -> String {
        self.write_svg()
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
            for source in inputs.iter().flat_map(crate::graph::edge::Edge::sources) {
                feeds[source.index()] = true;
            }
        }
    }
    feeds
}
