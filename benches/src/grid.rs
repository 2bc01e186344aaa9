//! Width × depth grids of trivial in-memory stations (`u64` in, `u64` out; each station adds
//! its two upstream neighbours), for the runner's cost per station: the `scheduler` bench
//! and `choochoo-scale`.

use choochoo::{Graph, Node, station};

#[station]
fn seed(x: &u64) -> u64 {
    *x
}

#[station]
fn mix(a: &u64, b: &u64) -> u64 {
    a.wrapping_mul(31).wrapping_add(*b)
}

/// A `width` × `depth` grid and its last station, whose cone is the whole grid when
/// `depth ≥ width`.
pub fn grid(width: usize, depth: usize) -> (Graph, Node<u64>) {
    let mut graph = Graph::new();
    let inputs: Vec<Node<u64>> = (0..width as u64).map(|x| graph.input(x)).collect();
    let mut layer: Vec<Node<u64>> = inputs.iter().map(|x| graph.add(Seed, (x,))).collect();
    for _ in 1..depth {
        layer = (0..width)
            .map(|i| graph.add(Mix, (&layer[i], &layer[(i + 1) % width])))
            .collect();
    }
    (graph, layer[0])
}
