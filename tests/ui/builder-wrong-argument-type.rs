use choochoo::{Graph, station};

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

fn main() {
    let mut graph = Graph::new();
    let text = graph.input("ten".to_owned());
    let _ = graph.add(Double, (&text,));
}
