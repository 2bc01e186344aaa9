//! Verifying a workload's outputs: every step's expected bytes are recomputed from the
//! inputs on disk and the spec, in topological order, so the check holds after any edit of
//! an input, and compared with the files the build left.

use crate::spec::Spec;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::fmt;
use std::path::Path;

type BoxError = Box<dyn Error + Send + Sync>;

/// An output that is not what its step computes.
#[derive(Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The output's path in the workload.
    pub output: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with an output.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// There is no such file.
    Missing,
    /// The file holds other bytes.
    WrongBytes,
    /// The file differs from the same output of another workload directory.
    DiffersFrom(String),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Missing => write!(f, "{}: missing", self.output),
            Problem::WrongBytes => write!(f, "{}: wrong bytes", self.output),
            Problem::DiffersFrom(other) => write!(f, "{}: differs from {other}", self.output),
        }
    }
}

/// What a step writes for deps of these bytes: their SHA-256 in lowercase hex, and a newline.
pub fn output_of<'a>(deps: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for bytes in deps {
        hasher.update(bytes);
    }
    let mut line: String = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    line.push('\n');
    line.into_bytes()
}

/// Every step's output path and expected bytes, in the spec's order. Inputs are read from
/// `dir` when a step needs them; earlier outputs are the expected bytes, not the files.
pub fn expected(dir: &Path, spec: &Spec) -> Result<Vec<(String, Vec<u8>)>, BoxError> {
    let inputs: HashSet<&str> = spec.inputs.iter().map(String::as_str).collect();
    let mut outputs: HashMap<&str, Vec<u8>> = HashMap::with_capacity(spec.steps.len());
    let mut expected = Vec::with_capacity(spec.steps.len());
    for step in &spec.steps {
        let mut deps = Vec::with_capacity(step.deps.len());
        for dep in &step.deps {
            deps.push(match outputs.get(dep.as_str()) {
                Some(bytes) => bytes.clone(),
                None if inputs.contains(dep.as_str()) => read(&dir.join(dep))?,
                None => {
                    return Err(format!(
                        "step {} reads {dep}, no input nor earlier output",
                        step.id
                    )
                    .into());
                }
            });
        }
        let bytes = output_of(deps.iter().map(Vec::as_slice));
        outputs.insert(&step.output, bytes.clone());
        expected.push((step.output.clone(), bytes));
    }
    Ok(expected)
}

/// The first `limit` outputs in `dir` that are not what their steps compute; with `against`,
/// also the first that differs from the same file there.
pub fn check(
    dir: &Path,
    spec: &Spec,
    against: Option<&Path>,
    limit: usize,
) -> Result<Vec<Mismatch>, BoxError> {
    let mut mismatches = Vec::new();
    for (output, bytes) in expected(dir, spec)? {
        let problem = match std::fs::read(dir.join(&output)) {
            Ok(found) if found == bytes => continue,
            Ok(_) => Problem::WrongBytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Problem::Missing,
            Err(error) => return Err(format!("cannot read {output}: {error}").into()),
        };
        mismatches.push(Mismatch { output, problem });
        if mismatches.len() >= limit {
            return Ok(mismatches);
        }
    }
    if let Some(other) = against {
        mismatches.extend(first_difference(dir, other, spec));
    }
    Ok(mismatches)
}

/// The first output of `spec` whose file in `dir` and in `other` differ (or is missing in
/// one of them).
fn first_difference(dir: &Path, other: &Path, spec: &Spec) -> Option<Mismatch> {
    spec.steps.iter().find_map(|step| {
        let here = std::fs::read(dir.join(&step.output)).ok();
        let there = std::fs::read(other.join(&step.output)).ok();
        (here.is_none() || here != there).then(|| Mismatch {
            output: step.output.clone(),
            problem: Problem::DiffersFrom(other.display().to_string()),
        })
    })
}

fn read(path: &Path) -> Result<Vec<u8>, BoxError> {
    std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Workload;

    #[test]
    fn an_output_is_the_hex_sha256_of_its_deps_and_a_newline() {
        // `printf 'ab' | sha256sum`
        let line = output_of([b"a".as_slice(), b"b".as_slice()]);
        assert_eq!(
            line,
            b"fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603\n"
        );
    }

    #[test]
    fn missing_wrong_and_different_outputs_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let spec = Workload::layered(20).write(dir).unwrap();
        let mismatches = check(dir, &spec, None, 3).unwrap();
        assert_eq!(mismatches.len(), 3, "nothing built yet");
        assert_eq!(mismatches[0].to_string(), "out/s00.txt: missing");

        for (output, bytes) in expected(dir, &spec).unwrap() {
            std::fs::write(dir.join(output), bytes).unwrap();
        }
        assert_eq!(check(dir, &spec, None, 5).unwrap(), []);
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            check(dir, &spec, Some(other.path()), 5).unwrap()[0].to_string(),
            format!("out/s00.txt: differs from {}", other.path().display())
        );

        // An edited input makes its readers' outputs wrong.
        std::fs::write(dir.join(&spec.inputs[0]), "edited").unwrap();
        let wrong = check(dir, &spec, None, 1).unwrap();
        assert_eq!(wrong[0].output, spec.steps[0].output);
        assert_eq!(wrong[0].problem, Problem::WrongBytes);
    }
}
