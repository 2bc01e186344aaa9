//! The diagram's own cases: grouping a large graph, and names escaped in every format.

use super::{Diagram, Shape};
use crate::report::Status;

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
        clusters: Vec::new(),
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
        clusters: Vec::new(),
    };
    assert!(diagram.dot().contains(r#""say \"<hi>\"""#));
    assert!(diagram.mermaid().contains("say #quot;#lt;hi#gt;#quot;"));
    assert!(
        diagram
            .svg()
            .contains("data-node=\"say &quot;&lt;hi&gt;&quot;\"")
    );
}
