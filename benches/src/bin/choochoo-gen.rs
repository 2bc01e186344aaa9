//! `choochoo-gen [--nodes N] [--shape chain|layered|fanin|wide] [--seed S] [--input-bytes B]
//! [--layers L] [--window W] [--fan F] --out DIR`: writes a workload for `choochoo-bench` and
//! for any harness that reads `graph.json`: `DIR/in/*.txt`, an empty `DIR/out/` and
//! `DIR/graph.json`. The same arguments give the same bytes.
//!
//! The defaults are 1,000 steps, `layered`, seed 1 and 4,096-byte inputs; see
//! `benches::shape` for the shapes and their parameters.

use benches::generate::Workload;
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

type BoxError = Box<dyn Error + Send + Sync>;

const USAGE: &str = "usage: choochoo-gen [--nodes N] [--shape chain|layered|fanin|wide] \
                     [--seed S] [--input-bytes B] [--layers L] [--window W] [--fan F] --out DIR";

const HELP: &str = "
Writes DIR/in/*.txt (pseudo-random inputs), an empty DIR/out/ and DIR/graph.json; the same
arguments give the same bytes.

  --nodes N        steps (default 1000)
  --shape SHAPE    layered (default): layers of steps, each reading 2-4 steps of the layer
                   before near its own position; chain: each step reads the one before, every
                   100th also a fresh input; fanin: leaves aggregated by a tree into one root;
                   wide: independent steps
  --seed S         seed of every random choice (default 1)
  --input-bytes B  size of each input (default 4096)
  --layers L       layered: layers (default round(sqrt(N) / 3), at least 2)
  --window W       layered: read steps within W positions (default 3)
  --fan F          fanin: steps each tree step aggregates (default 8)";

/// The parsed command line: what to write, and where.
fn parse(mut args: impl Iterator<Item = String>) -> Result<(Workload, PathBuf), BoxError> {
    let mut workload = Workload::layered(1000);
    let mut out = None;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} needs a number, not `{value}`"))
        };
        match flag.as_str() {
            "--nodes" => workload.nodes = number()?,
            "--shape" => workload.shape = value.parse()?,
            "--seed" => workload.seed = number()? as u64,
            "--input-bytes" => workload.input_bytes = number()?,
            "--layers" => workload.knobs.layers = Some(number()?),
            "--window" => workload.knobs.window = number()?,
            "--fan" => workload.knobs.fan = number()?,
            "--out" => out = Some(PathBuf::from(&value)),
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    workload.check()?;
    Ok((workload, out.ok_or("--out DIR is required")?))
}

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}\n{HELP}");
        return ExitCode::SUCCESS;
    }
    let (workload, out) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("choochoo-gen: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match workload.write(&out) {
        Ok(spec) => {
            let edges: usize = spec.steps.iter().map(|step| step.deps.len()).sum();
            let layers = spec.steps.iter().map(|step| step.layer).max().unwrap_or(0) + 1;
            eprintln!(
                "wrote {}: shape={} steps={} inputs={} edges={edges} layers={layers}",
                out.display(),
                workload.shape,
                spec.steps.len(),
                spec.inputs.len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("choochoo-gen: {error}");
            ExitCode::FAILURE
        }
    }
}
