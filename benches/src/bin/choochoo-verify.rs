//! `choochoo-verify DIR [--against OTHER]`: checks that every output of the workload in
//! `DIR` holds what its step computes (the SHA-256 hex of its deps' bytes and a newline),
//! recomputed from `DIR/in` and `DIR/graph.json`; with `--against`, also that the outputs
//! are the same bytes as in `OTHER`. Prints `OK DIR: N outputs match` and exits 0, or
//! `FAIL DIR` and the first mismatches and exits 1; 2 for a usage error or unreadable input.

use benches::spec::Spec;
use benches::verify;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type BoxError = Box<dyn Error + Send + Sync>;

const USAGE: &str = "usage: choochoo-verify DIR [--against OTHER]";

/// How many mismatches to report.
const LIMIT: usize = 5;

fn parse(mut args: impl Iterator<Item = String>) -> Result<(PathBuf, Option<PathBuf>), BoxError> {
    let (mut dir, mut against) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--against" => against = Some(args.next().ok_or("--against needs a directory")?),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}").into()),
            _ if dir.is_some() => return Err("more than one DIR".into()),
            _ => dir = Some(arg),
        }
    }
    let dir = dir.ok_or("no DIR given")?;
    Ok((dir.into(), against.map(PathBuf::from)))
}

/// Whether every output matches; the mismatches are printed.
fn run(dir: &Path, against: Option<&Path>) -> Result<bool, BoxError> {
    let spec = Spec::read(&dir.join("graph.json"))?;
    let mismatches = verify::check(dir, &spec, against, LIMIT)?;
    if mismatches.is_empty() {
        println!("OK {}: {} outputs match", dir.display(), spec.steps.len());
        return Ok(true);
    }
    println!("FAIL {}", dir.display());
    for mismatch in mismatches {
        println!("  {mismatch}");
    }
    Ok(false)
}

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (dir, against) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("choochoo-verify: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&dir, against.as_deref()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("choochoo-verify: {error}");
            ExitCode::from(2)
        }
    }
}
