//! A diagram as an SVG picture, laid out in-process with layout-rs, so no Graphviz install
//! is needed; a graph too large to read node by node is drawn one box per station function.

use super::colors::{class, colors};
use super::{Diagram, Shape};
use crate::report::Status;

/// Graphs larger than this are drawn grouped by station function in SVG.
const SVG_LIMIT: usize = 120;

impl Diagram {
    /// The diagram laid out as SVG, grouped by station function past `SVG_LIMIT` shapes.
    pub(super) fn write_svg(&self) -> String {
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
    pub(super) fn grouped(&self) -> Diagram {
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
            clusters: Vec::new(),
        }
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

/// Text for XML and HTML, attributes included. Control characters (but line ends and
/// tabs), which XML does not allow and a page would hide, are written out as `\u{1b}`.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    out
}
