//! Generating a workload directory: `in/*.txt` (deterministic pseudo-random inputs), an
//! empty `out/` and `graph.json`. The same parameters give the same bytes.

use crate::random::Random;
use crate::shape::{Dag, Dep, Knobs, Shape};
use crate::spec::{Spec, Step};
use std::error::Error;
use std::path::Path;

type BoxError = Box<dyn Error + Send + Sync>;

/// The characters of an input file: text with words and lines.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789      \n";

/// The most steps a workload may have: its `graph.json` is read whole into memory.
const MAX_NODES: usize = 10_000_000;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// The graph's shape.
    pub shape: Shape,
    /// The number of steps (at least 1).
    pub nodes: usize,
    /// The seed of every random choice.
    pub seed: u64,
    /// The size of each input file.
    pub input_bytes: usize,
    /// The shape's parameters.
    pub knobs: Knobs,
}

impl Workload {
    /// A layered workload of `nodes` steps with seed 1 and 4 KiB inputs.
    pub fn layered(nodes: usize) -> Workload {
        Workload {
            shape: Shape::Layered,
            nodes,
            seed: 1,
            input_bytes: 4096,
            knobs: Knobs::default(),
        }
    }

    /// Checks the parameters, saying which one is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_NODES).contains(&self.nodes) {
            return Err(format!(
                "--nodes {} must be from 1 to {MAX_NODES}",
                self.nodes
            ));
        }
        if self.knobs.fan < 2 {
            return Err(format!("--fan {} must be at least 2", self.knobs.fan));
        }
        if self.knobs.layers == Some(0) {
            return Err("--layers must be at least 1".to_owned());
        }
        Ok(())
    }

    /// The graph spec, with its inputs named `in/iNNN.txt`, its steps `sNNN` and their
    /// outputs `out/sNNN.txt` (as many digits as the largest index needs).
    pub fn spec(&self) -> Spec {
        let label = format!("choochoo-bench:{}:{}:{}", self.seed, self.shape, self.nodes);
        let dag = self
            .shape
            .dag(self.nodes, self.knobs, &mut Random::new(&label));
        let digits = (self.nodes.max(dag.inputs) - 1).to_string().len();
        let mut spec = Spec::new(self.shape.name(), self.seed, self.nodes, self.input_bytes);
        spec.inputs = (0..dag.inputs)
            .map(|i| format!("in/i{i:0digits$}.txt"))
            .collect();
        spec.steps = steps(&dag, &spec.inputs, digits);
        spec
    }

    /// The bytes of input `index`.
    pub fn input(&self, index: usize) -> Vec<u8> {
        let mut random = Random::new(&format!("choochoo-bench-input:{}:{index}", self.seed));
        random.choices(ALPHABET, self.input_bytes)
    }

    /// Writes the workload into `dir`: the inputs, an empty `out/` and `graph.json`. Files
    /// that already hold the right bytes are left alone (their mtimes too).
    pub fn write(&self, dir: &Path) -> Result<Spec, BoxError> {
        self.check()?;
        let spec = self.spec();
        for sub in ["in", "out"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        }
        for (index, input) in spec.inputs.iter().enumerate() {
            write_if_changed(&dir.join(input), &self.input(index))?;
        }
        write_if_changed(&dir.join("graph.json"), spec.to_json().as_bytes())?;
        Ok(spec)
    }
}

/// The named steps of `dag`.
fn steps(dag: &Dag, inputs: &[String], digits: usize) -> Vec<Step> {
    let output = |i: usize| format!("out/s{i:0digits$}.txt");
    let path = |dep: &Dep| match *dep {
        Dep::Input(i) => inputs[i].clone(),
        Dep::Step(i) => output(i),
    };
    dag.steps
        .iter()
        .enumerate()
        .map(|(i, (deps, layer))| Step {
            id: format!("s{i:0digits$}"),
            deps: deps.iter().map(path).collect(),
            output: output(i),
            layer: *layer,
            salt: None,
        })
        .collect()
}

/// Writes `bytes` to `path` unless it holds them already, through a temporary file.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), BoxError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| format!("cannot write {}: {error}", path.display()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_parameters_give_the_same_workload() {
        let workload = Workload::layered(300);
        assert_eq!(workload.spec().to_json(), workload.spec().to_json());
        assert_eq!(workload.input(7), workload.input(7));
        assert_ne!(workload.input(7), workload.input(8));
        let other = Workload {
            seed: 2,
            ..workload
        };
        assert_ne!(workload.spec().to_json(), other.spec().to_json());
    }

    #[test]
    fn names_have_as_many_digits_as_the_largest_index() {
        let spec = Workload::layered(1000).spec();
        assert_eq!(spec.inputs[0], "in/i000.txt");
        assert_eq!(spec.steps[999].id, "s999");
        assert_eq!(spec.steps[999].output, "out/s999.txt");
        let one = Workload::layered(1).spec();
        assert_eq!(
            (one.inputs.as_slice(), one.steps[0].id.as_str()),
            (["in/i0.txt".to_owned()].as_slice(), "s0")
        );
    }

    /// The graph of `--nodes 12 --shape layered --seed 1`, as a Python harness seeding
    /// `random.Random` the same way generates it: 2 layers of 6.
    #[test]
    fn a_small_layered_graph_is_the_known_one() {
        let spec = Workload::layered(12).spec();
        let deps: Vec<String> = spec.steps.iter().map(|step| step.deps.join(" ")).collect();
        assert_eq!(deps, KNOWN_12);
        let input = Workload::layered(12).input(0);
        assert_eq!(&input[..16], KNOWN_INPUT_0);
    }

    const KNOWN_12: [&str; 12] = [
        "in/i00.txt",
        "in/i01.txt in/i02.txt",
        "in/i02.txt in/i03.txt",
        "in/i02.txt in/i03.txt in/i04.txt",
        "in/i03.txt in/i04.txt",
        "in/i05.txt",
        "out/s01.txt out/s02.txt out/s03.txt",
        "out/s00.txt out/s03.txt",
        "out/s00.txt out/s03.txt out/s05.txt",
        "out/s01.txt out/s02.txt out/s04.txt out/s05.txt",
        "out/s01.txt out/s02.txt out/s03.txt out/s04.txt",
        "out/s03.txt out/s04.txt out/s05.txt",
    ];
    const KNOWN_INPUT_0: &[u8] = b"da6c5 ik6 o815sj";

    #[test]
    fn bad_parameters_are_named() {
        let mut workload = Workload::layered(0);
        assert_eq!(
            workload.check().unwrap_err(),
            "--nodes 0 must be from 1 to 10000000"
        );
        workload.nodes = 10;
        workload.knobs.fan = 1;
        assert!(workload.check().unwrap_err().contains("--fan 1"));
    }
}
