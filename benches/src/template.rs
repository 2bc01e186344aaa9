//! A step's shell command: the spec's `command_template` and `salt_prefix` (Python format
//! strings) parsed once, then filled from each step's fields.

use crate::spec::{BorrowedStep, Step};

/// What a command is filled from: a step, owned or borrowed.
pub trait Fields {
    /// The step's name.
    fn id(&self) -> &str;
    /// The files it reads, in order.
    fn deps(&self) -> &[impl AsRef<str>];
    /// The file it writes.
    fn output(&self) -> &str;
    /// Its salt, if any.
    fn salt(&self) -> Option<&str>;
}

impl Fields for Step {
    fn id(&self) -> &str {
        &self.id
    }
    fn deps(&self) -> &[impl AsRef<str>] {
        &self.deps
    }
    fn output(&self) -> &str {
        &self.output
    }
    fn salt(&self) -> Option<&str> {
        self.salt.as_deref()
    }
}

impl Fields for BorrowedStep<'_> {
    fn id(&self) -> &str {
        &self.id
    }
    fn deps(&self) -> &[impl AsRef<str>] {
        &self.deps
    }
    fn output(&self) -> &str {
        &self.output
    }
    fn salt(&self) -> Option<&str> {
        self.salt.as_deref()
    }
}

/// A spec's command template and salt prefix, parsed: [`Spec::template`](crate::spec::Spec::template).
#[derive(Debug)]
pub struct Template {
    command: Vec<Part>,
    salt_prefix: Vec<Part>,
}

/// A piece of a parsed template: text as it is, or a field filled from the step.
#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    SaltPrefix,
    Deps,
    Output,
    Id,
    Salt,
}

impl Template {
    /// The template `command` with the salt prefix `salt_prefix`, parsed.
    pub fn new(command: &str, salt_prefix: &str) -> Template {
        Template {
            command: parse(command, |name| match name {
                "salt_prefix" => Some(Part::SaltPrefix),
                "deps" => Some(Part::Deps),
                "output" => Some(Part::Output),
                "id" => Some(Part::Id),
                _ => None,
            }),
            salt_prefix: parse(salt_prefix, |name| (name == "salt").then_some(Part::Salt)),
        }
    }

    /// The exact shell command of `step`.
    pub fn command(&self, step: &impl Fields) -> String {
        let mut out = String::with_capacity(64 + 16 * step.deps().len());
        self.write(&self.command, step, &mut out);
        out
    }

    fn write(&self, parts: &[Part], step: &impl Fields, out: &mut String) {
        for part in parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::SaltPrefix if step.salt().is_some() => {
                    self.write(&self.salt_prefix, step, out)
                }
                Part::SaltPrefix => {}
                Part::Deps => {
                    for (at, dep) in step.deps().iter().enumerate() {
                        if at > 0 {
                            out.push(' ');
                        }
                        out.push_str(dep.as_ref());
                    }
                }
                Part::Output => out.push_str(step.output()),
                Part::Id => out.push_str(step.id()),
                Part::Salt => out.push_str(step.salt().unwrap_or_default()),
            }
        }
    }
}

/// Parses a Python format string: `{{` and `}}` are literal braces, a `{name}` that `field`
/// knows is that field, and one it does not know is kept as written.
fn parse(template: &str, field: impl Fn(&str) -> Option<Part>) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        text.push_str(&rest[..at]);
        let tail = &rest[at..];
        let named = tail.strip_prefix('{').and_then(|t| t.split_once('}'));
        if tail.starts_with("{{") || tail.starts_with("}}") {
            text.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let Some((name, after)) = named {
            match field(name) {
                Some(part) => {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                }
                None => text.push_str(&tail[..name.len() + 2]),
            }
            rest = after;
        } else {
            text.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_escape_and_unknown_fields_stay() {
        let none = |_: &str| None;
        assert_eq!(
            parse("a {{b}} {c} }", none),
            [Part::Text("a {b} {c} }".to_owned())]
        );
        let id = |name: &str| (name == "id").then_some(Part::Id);
        assert_eq!(
            parse("{id}:{x}{", id),
            [Part::Id, Part::Text(":{x}{".to_owned())]
        );
    }
}
