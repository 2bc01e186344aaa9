//! A workload's graph spec, `graph.json`: reading and writing it, expanding each step's
//! shell command, and finding the steps downstream of an input.
//!
//! The format is neutral, so that any harness can drive make, ninja, snakemake, doit, DVC
//! and `choochoo-bench` with it: a JSON object with `"format": "choochoo-bench-graph"`,
//! `"version": 1`, a `command_template`, a `salt_prefix`, the `inputs` (file paths) and the
//! `steps` (each an `id`, its `deps`, its `output` and optionally a `salt`), in topological
//! order, every path relative to the workload directory. A step's output holds the
//! lowercase SHA-256 hex digest of its deps' bytes, joined in order, and a newline.

pub use crate::template::Template;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashSet;
use std::error::Error;
use std::path::Path;

/// The `format` field every spec carries.
const FORMAT: &str = "choochoo-bench-graph";
/// The only spec version this reader knows.
const VERSION: u32 = 1;

/// The shell command of every step: `{deps}` and `{output}` are paths, `{id}` the step's
/// name, and the line appended to `.steps.log` counts the steps that ran.
pub const COMMAND_TEMPLATE: &str =
    "{salt_prefix}cat {deps} | sha256sum | cut -c1-64 > {output} && echo {id} >> .steps.log";
/// What a salted step's command starts with: `:` is a shell builtin, so the command text
/// changes while its output does not.
pub const SALT_PREFIX: &str = ": {salt}; ";

/// A workload: its inputs and its steps, in topological order. Paths are relative to the
/// workload directory.
#[derive(Debug, Serialize, Deserialize)]
pub struct Spec {
    format: String,
    version: u32,
    /// How it was generated: the shape's name (empty for a spec written by hand).
    #[serde(default)]
    pub shape: String,
    /// How it was generated: the seed.
    #[serde(default)]
    pub seed: u64,
    /// How it was generated: the number of steps.
    #[serde(default)]
    pub nodes: usize,
    /// How it was generated: the size of each input file.
    #[serde(default)]
    pub input_bytes: usize,
    /// The shell command of a step, with `{salt_prefix}`, `{deps}`, `{output}` and `{id}`.
    pub command_template: String,
    /// What `{salt_prefix}` becomes for a salted step, with `{salt}` in it.
    pub salt_prefix: String,
    /// The source files.
    pub inputs: Vec<String>,
    /// The steps, each after every step it reads.
    pub steps: Vec<Step>,
}

/// One step: it reads `deps` (inputs or other steps' outputs) and writes `output`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Step {
    /// The step's name, such as `s042`.
    pub id: String,
    /// The files it reads, in order.
    pub deps: Vec<String>,
    /// The file it writes.
    pub output: String,
    /// Its depth in the graph, for information only.
    #[serde(default)]
    pub layer: usize,
    /// Set when the step's command changed without its output changing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// A spec as `graph.json` holds it, its strings borrowed from the text where they have no
/// escapes: what `choochoo-bench` builds its graph from, without a copy of every path.
#[derive(Debug, Deserialize)]
pub struct Borrowed<'a> {
    #[serde(borrow)]
    format: Cow<'a, str>,
    version: u32,
    /// As [`Spec::command_template`].
    #[serde(borrow)]
    pub command_template: Cow<'a, str>,
    /// As [`Spec::salt_prefix`].
    #[serde(borrow)]
    pub salt_prefix: Cow<'a, str>,
    /// As [`Spec::inputs`].
    #[serde(borrow)]
    pub inputs: Vec<Text<'a>>,
    /// As [`Spec::steps`].
    #[serde(borrow)]
    pub steps: Vec<BorrowedStep<'a>>,
}

/// A [`Step`] of a [`Borrowed`] spec.
#[derive(Debug, Deserialize)]
pub struct BorrowedStep<'a> {
    /// As [`Step::id`].
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// As [`Step::deps`].
    #[serde(borrow)]
    pub deps: Vec<Text<'a>>,
    /// As [`Step::output`].
    #[serde(borrow)]
    pub output: Cow<'a, str>,
    /// As [`Step::salt`].
    #[serde(borrow, default)]
    pub salt: Option<Cow<'a, str>>,
}

/// A string in a list of a [`Borrowed`] spec: borrowed from the text unless it holds an
/// escape (a `Cow` element of a `Vec` would be copied, each in an allocation of its own).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'a> Borrowed<'a> {
    /// Reads and checks `text`, the contents of the spec at `path`.
    pub fn parse(text: &'a str, path: &Path) -> Result<Borrowed<'a>, Box<dyn Error + Send + Sync>> {
        let spec: Borrowed<'a> = serde_json::from_str(text)
            .map_err(|error| format!("{} is not a graph spec: {error}", path.display()))?;
        check(path, &spec.format, spec.version)?;
        Ok(spec)
    }

    /// The command template, parsed once for the commands of many steps.
    pub fn template(&self) -> Template {
        Template::new(&self.command_template, &self.salt_prefix)
    }
}

/// `Ok` for a spec of this format and version.
fn check(path: &Path, format: &str, version: u32) -> Result<(), Box<dyn Error + Send + Sync>> {
    if format != FORMAT || version != VERSION {
        return Err(format!(
            "{} is `{format}` version {version}, not `{FORMAT}` version {VERSION}",
            path.display()
        )
        .into());
    }
    Ok(())
}

impl Spec {
    /// A spec of the standard command and salt prefix, with empty lists.
    pub fn new(shape: &str, seed: u64, nodes: usize, input_bytes: usize) -> Spec {
        Spec {
            format: FORMAT.to_owned(),
            version: VERSION,
            shape: shape.to_owned(),
            seed,
            nodes,
            input_bytes,
            command_template: COMMAND_TEMPLATE.to_owned(),
            salt_prefix: SALT_PREFIX.to_owned(),
            inputs: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// The spec as `graph.json` holds it: one line of compact JSON.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string(self).expect("a spec is plain data");
        json.push('\n');
        json
    }

    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Spec, Box<dyn Error + Send + Sync>> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let spec: Spec = serde_json::from_str(&text)
            .map_err(|error| format!("{} is not a graph spec: {error}", path.display()))?;
        check(path, &spec.format, spec.version)?;
        Ok(spec)
    }

    /// The exact shell command of `step`, as every peer tool runs it.
    pub fn command(&self, step: &Step) -> String {
        self.template().command(step)
    }

    /// The command template, parsed once for the commands of many steps.
    pub fn template(&self) -> Template {
        Template::new(&self.command_template, &self.salt_prefix)
    }

    /// The steps that read `input`, directly or through other steps.
    pub fn cone(&self, input: &str) -> Vec<&Step> {
        let mut changed: HashSet<&str> = HashSet::from([input]);
        let mut cone = Vec::new();
        for step in &self.steps {
            if step.deps.iter().any(|dep| changed.contains(dep.as_str())) {
                changed.insert(&step.output);
                cone.push(step);
            }
        }
        cone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(steps: Vec<Step>) -> Spec {
        Spec {
            command_template: "{salt_prefix}cat {deps} > {output} && echo {id} >> .steps.log"
                .to_owned(),
            inputs: vec!["in/a".to_owned(), "in/b".to_owned()],
            steps,
            ..Spec::new("", 0, 0, 0)
        }
    }

    fn step(id: &str, deps: &[&str]) -> Step {
        Step {
            id: id.to_owned(),
            deps: deps.iter().map(|dep| (*dep).to_owned()).collect(),
            output: format!("out/{id}"),
            layer: 0,
            salt: None,
        }
    }

    #[test]
    fn commands_are_expanded_like_python_format() {
        let mut s = step("s1", &["in/a", "in/b"]);
        let g = spec(Vec::new());
        assert_eq!(
            g.command(&s),
            "cat in/a in/b > out/s1 && echo s1 >> .steps.log"
        );
        s.salt = Some("v2".to_owned());
        assert_eq!(
            g.command(&s),
            ": v2; cat in/a in/b > out/s1 && echo s1 >> .steps.log"
        );
    }

    #[test]
    fn a_borrowed_spec_borrows_its_paths_and_reads_escapes() {
        let mut written = spec(vec![step("s1", &["in/a", "in/\"b"])]);
        written.steps[0].salt = Some("v2".to_owned());
        let text = serde_json::to_string(&written).unwrap();
        let borrowed = Borrowed::parse(&text, Path::new("graph.json")).unwrap();
        let read = &borrowed.steps[0];
        let deps: Vec<&str> = read.deps.iter().map(|dep| &**dep).collect();
        assert_eq!(deps, ["in/a", "in/\"b"]);
        assert!(
            matches!(read.deps[0].0, Cow::Borrowed(_)),
            "copied: {:?}",
            read.deps[0]
        );
        assert!(matches!(borrowed.inputs[0].0, Cow::Borrowed(_)));
        let template = borrowed.template();
        assert_eq!(template.command(read), written.command(&written.steps[0]));
    }

    #[test]
    fn the_cone_follows_outputs() {
        let g = spec(vec![
            step("s1", &["in/a"]),
            step("s2", &["in/b"]),
            step("s3", &["out/s1"]),
            step("s4", &["out/s2", "out/s3"]),
        ]);
        let ids = |input| {
            g.cone(input)
                .iter()
                .map(|s| s.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("in/a"), ["s1", "s3", "s4"]);
        assert_eq!(ids("in/b"), ["s2", "s4"]);
    }
}
