//! The shapes of a workload's graph: which inputs and earlier steps each step reads.

use crate::random::Random;
use std::fmt;
use std::str::FromStr;

/// The shape of a generated graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Step `i` reads step `i - 1`; every 100th step also reads a fresh input.
    Chain,
    /// Layers of steps: a first-layer step reads its own input and up to two neighbouring
    /// ones; a later step reads 2–4 steps of the layer before, near its own relative position.
    Layered,
    /// Leaves (one input each) feed an aggregation tree with one root.
    Fanin,
    /// Independent steps, each reading its own input.
    Wide,
}

/// The parameters of a shape, each with its default.
#[derive(Clone, Copy, Debug)]
pub struct Knobs {
    /// Layered: the number of layers; `None` is `round(sqrt(N) / 3)`, at least 2.
    pub layers: Option<usize>,
    /// Layered: a step reads steps within this many positions of its own in the layer before.
    pub window: usize,
    /// Fanin: how many steps each step of the tree aggregates.
    pub fan: usize,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            layers: None,
            window: 3,
            fan: 8,
        }
    }
}

/// What a step reads: an input file or an earlier step's output, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dep {
    /// The input with this index.
    Input(usize),
    /// The output of the step with this index, which comes earlier.
    Step(usize),
}

/// A graph before it is named: how many inputs, and each step's deps and depth.
#[derive(Debug, PartialEq, Eq)]
pub struct Dag {
    /// The number of input files.
    pub inputs: usize,
    /// The steps in topological order: what each reads, and its layer.
    pub steps: Vec<(Vec<Dep>, usize)>,
}

impl Shape {
    /// Its name in `graph.json` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Chain => "chain",
            Shape::Layered => "layered",
            Shape::Fanin => "fanin",
            Shape::Wide => "wide",
        }
    }

    /// The graph of `n` (≥ 1) steps of this shape.
    pub fn dag(self, n: usize, knobs: Knobs, random: &mut Random) -> Dag {
        match self {
            Shape::Chain => chain(n),
            Shape::Layered => layered(n, knobs, random),
            Shape::Fanin => fanin(n, knobs.fan),
            Shape::Wide => Dag {
                inputs: n,
                steps: (0..n).map(|i| (vec![Dep::Input(i)], 0)).collect(),
            },
        }
    }
}

impl FromStr for Shape {
    type Err = String;

    fn from_str(name: &str) -> Result<Shape, String> {
        [Shape::Chain, Shape::Layered, Shape::Fanin, Shape::Wide]
            .into_iter()
            .find(|shape| shape.name() == name)
            .ok_or_else(|| format!("unknown shape `{name}`; use chain, layered, fanin or wide"))
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How often a chain reads a fresh input.
const CHAIN_INPUT_EVERY: usize = 100;

fn chain(n: usize) -> Dag {
    let steps = (0..n)
        .map(|i| {
            let fresh = (i % CHAIN_INPUT_EVERY == 0).then_some(Dep::Input(i / CHAIN_INPUT_EVERY));
            let previous = i.checked_sub(1).map(Dep::Step);
            (fresh.into_iter().chain(previous).collect(), i)
        })
        .collect();
    Dag {
        inputs: n.div_ceil(CHAIN_INPUT_EVERY),
        steps,
    }
}

/// The widths of the layers of a layered graph of `n` steps: as equal as they can be, the
/// first ones one wider.
fn layer_widths(n: usize, layers: Option<usize>) -> Vec<usize> {
    let default = ((n as f64).sqrt() / 3.0).round_ties_even() as usize;
    let count = layers.unwrap_or(default.max(2)).clamp(1, n);
    let (base, extra) = (n / count, n % count);
    (0..count).map(|l| base + usize::from(l < extra)).collect()
}

fn layered(n: usize, knobs: Knobs, random: &mut Random) -> Dag {
    let widths = layer_widths(n, knobs.layers);
    let inputs = widths[0];
    let mut steps = Vec::with_capacity(n);
    let mut previous = 0..0; // the indices of the layer before's steps
    for (layer, &width) in widths.iter().enumerate() {
        for position in 0..width {
            let deps = if layer == 0 {
                first_layer_deps(position, inputs, random)
            } else {
                let picks =
                    later_layer_picks(position, width, previous.len(), knobs.window, random);
                picks
                    .into_iter()
                    .map(|q| Dep::Step(previous.start + q))
                    .collect()
            };
            steps.push((deps, layer));
        }
        previous = steps.len() - width..steps.len();
    }
    Dag { inputs, steps }
}

/// A first-layer step at `position` reads its own input and 0–2 of its neighbours.
fn first_layer_deps(position: usize, inputs: usize, random: &mut Random) -> Vec<Dep> {
    let k = random.between(1, 3);
    let neighbours: Vec<usize> = [position.checked_sub(1), Some(position + 1)]
        .into_iter()
        .flatten()
        .filter(|&q| q < inputs)
        .collect();
    let mut picks = random.sample(&neighbours, (k - 1).min(neighbours.len()));
    picks.push(position);
    picks.sort_unstable();
    picks.into_iter().map(Dep::Input).collect()
}

/// The positions in the layer before (`before` wide) that the step at `position` of a
/// `width`-wide layer reads: 2–4 of those within `window` of the same relative position.
fn later_layer_picks(
    position: usize,
    width: usize,
    before: usize,
    window: usize,
    random: &mut Random,
) -> Vec<usize> {
    let centre = if width > 1 {
        (position as f64 * (before - 1) as f64 / (width - 1) as f64).round_ties_even() as usize
    } else {
        before / 2
    };
    let low = centre.saturating_sub(window);
    let high = (before - 1).min(centre.saturating_add(window));
    let candidates: Vec<usize> = (low..=high).collect();
    let k = random.between(2, 4).min(candidates.len());
    let mut picks = random.sample(&candidates, k);
    picks.sort_unstable();
    picks
}

/// The number of steps of an aggregation tree over `leaves` leaves, leaves included.
fn tree_size(leaves: usize, fan: usize) -> usize {
    let (mut total, mut level) = (leaves, leaves);
    while level > 1 {
        level = level.div_ceil(fan);
        total += level;
    }
    total
}

/// As many leaves as an aggregation tree of at most `n` steps holds; the steps left over
/// are more leaves, which the root reads directly.
fn fanin(n: usize, fan: usize) -> Dag {
    if n == 1 {
        return Dag {
            inputs: 1,
            steps: vec![(vec![Dep::Input(0)], 0)],
        };
    }
    let mut leaves = (n * (fan - 1) / fan).max(1);
    while tree_size(leaves, fan) > n {
        leaves -= 1;
    }
    let extra = n - tree_size(leaves, fan);
    let mut steps: Vec<(Vec<Dep>, usize)> = (0..leaves).map(|i| (vec![Dep::Input(i)], 0)).collect();
    let mut level: Vec<usize> = (0..leaves).collect();
    while level.len() > 1 {
        let depth = steps.last().map_or(0, |(_, layer)| layer + 1);
        level = level
            .chunks(fan)
            .map(|group| {
                steps.push((group.iter().copied().map(Dep::Step).collect(), depth));
                steps.len() - 1
            })
            .collect();
    }
    let (mut root_deps, root_layer) = steps.pop().expect("a tree has a root");
    for input in leaves..leaves + extra {
        root_deps.push(Dep::Step(steps.len()));
        steps.push((vec![Dep::Input(input)], 0));
    }
    steps.push((root_deps, root_layer));
    Dag {
        inputs: leaves + extra,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(dag: &Dag, step: usize) -> Vec<Dep> {
        dag.steps[step].0.clone()
    }

    #[test]
    fn layered_graphs_have_the_documented_layers() {
        let widths = layer_widths(1000, None);
        assert_eq!(
            (widths.len(), widths[0], widths[9], widths[10]),
            (11, 91, 91, 90)
        );
        let widths = layer_widths(10_000, None);
        assert_eq!(
            (widths.len(), widths[0], widths[1], widths[32]),
            (33, 304, 303, 303)
        );
        assert_eq!(layer_widths(100, None), [34, 33, 33]);
        assert_eq!(layer_widths(5, None), [3, 2]);
        assert_eq!(layer_widths(1, None), [1]);
        assert_eq!(layer_widths(10, Some(4)), [3, 3, 2, 2]);
    }

    #[test]
    fn every_step_reads_only_inputs_and_earlier_steps() {
        for shape in [Shape::Chain, Shape::Layered, Shape::Fanin, Shape::Wide] {
            for n in [1, 2, 9, 100, 777] {
                let dag = shape.dag(n, Knobs::default(), &mut Random::new("test"));
                assert_eq!(dag.steps.len(), n, "{shape} {n}");
                for (i, (deps, _)) in dag.steps.iter().enumerate() {
                    assert!(!deps.is_empty(), "{shape} {n}: step {i} reads nothing");
                    for dep in deps {
                        match *dep {
                            Dep::Input(q) => assert!(q < dag.inputs, "{shape} {n}: {dep:?}"),
                            Dep::Step(q) => assert!(q < i, "{shape} {n}: step {i} reads {q}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_chain_reads_a_fresh_input_every_hundred_steps() {
        let dag = chain(250);
        assert_eq!(dag.inputs, 3);
        assert_eq!(reads(&dag, 0), [Dep::Input(0)]);
        assert_eq!(reads(&dag, 99), [Dep::Step(98)]);
        assert_eq!(reads(&dag, 200), [Dep::Input(2), Dep::Step(199)]);
    }

    #[test]
    fn a_fanin_tree_has_one_root_and_exactly_n_steps() {
        // 16 leaves, 2 aggregators, 1 root: 19; one more leaf feeds the root directly.
        let dag = fanin(20, 8);
        assert_eq!(dag.steps.len(), 20);
        assert_eq!(dag.inputs, 17);
        assert_eq!(reads(&dag, 16), (0..8).map(Dep::Step).collect::<Vec<_>>());
        assert_eq!(reads(&dag, 18), [Dep::Input(16)]);
        assert_eq!(
            reads(&dag, 19),
            [Dep::Step(16), Dep::Step(17), Dep::Step(18)]
        );
        let read: usize = dag
            .steps
            .iter()
            .flat_map(|(deps, _)| deps)
            .filter(|dep| matches!(dep, Dep::Step(_)))
            .count();
        assert_eq!(read, 19, "every step but the root is read once");
    }

    #[test]
    fn layered_steps_read_near_their_position() {
        let dag = layered(1001, Knobs::default(), &mut Random::new("near"));
        assert_eq!(layer_widths(1001, None), [91; 11]);
        for (i, (deps, layer)) in dag.steps.iter().enumerate().skip(91) {
            let position = i - 91 * layer;
            assert!((2..=4).contains(&deps.len()), "step {i}: {deps:?}");
            for dep in deps {
                let Dep::Step(q) = *dep else {
                    panic!("step {i} reads an input")
                };
                assert_eq!(q / 91, layer - 1, "step {i} reads the layer before");
                assert!((q % 91).abs_diff(position) <= 3, "step {i} reads {q}");
            }
        }
    }
}
