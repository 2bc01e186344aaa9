//! The graph's own mistakes: a node of another graph wired into it, remembered as the
//! graph's error, and whether it can be run for the outputs asked of it.

use super::Graph;
use super::edge::Edge;
use super::node::NodeId;
use crate::error::Error;
use crate::station::Station;

impl Graph {
    /// Whether the graph can be run for `outputs`: no node of another graph was wired into
    /// it, and each output is a node of its own.
    pub(crate) fn check(&self, outputs: &[NodeId]) -> Result<(), Error> {
        if let Some(mistake) = self.foreign.as_ref().or(self.misnamed.as_ref()) {
            return Err(Error::usage(mistake.clone()));
        }
        match outputs.iter().find(|output| output.graph != self.id) {
            Some(output) => Err(Error::usage(format!(
                "the output {output} is not a node of {}, the graph being run; ask for a node \
                 of the graph given to `run_graph`",
                self.id
            ))),
            None => Ok(()),
        }
    }

    /// `inputs`, if every node they name is of this graph. Else the first node of another
    /// graph is remembered as the error of the graph, and the station is added without
    /// inputs: a graph with that error never runs.
    pub(super) fn own_edges<S: Station>(&mut self, station: &S, inputs: Vec<Edge>) -> Vec<Edge> {
        let foreign = inputs.iter().enumerate().find_map(|(input, edge)| {
            let source = edge.sources().iter().find(|id| id.graph != self.id)?;
            Some((input, *source))
        });
        let Some((input, source)) = foreign else {
            return inputs;
        };
        if self.foreign.is_none() {
            let input = match Station::input_names(station).get(input) {
                Some(name) => format!("`{name}`"),
                None => format!("#{}", input + 1),
            };
            self.foreign = Some(format!(
                "the input {input} of `{}` is wired to {source}, but the station is added to \
                 {}; a node wires only into the graph that made it",
                Station::name(station),
                self.id
            ));
        }
        Vec::new()
    }
}
