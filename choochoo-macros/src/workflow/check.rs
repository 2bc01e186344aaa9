//! Checks that every name an argument uses is a parameter or an earlier binding, that no
//! name is bound twice, and that the workflow does not call itself. Types are left to
//! rustc, which sees them through the expansion.

use super::parse::{Arg, Call, Output, Workflow};
use crate::errors::Errors;
use std::collections::{HashMap, HashSet};
use syn::Ident;

pub(crate) fn bindings(workflow: &Workflow<'_>, errors: &mut Errors) {
    let later: HashSet<String> = workflow
        .steps
        .iter()
        .map(|step| step.binding.to_string())
        .collect();
    // A parameter list that repeats a name is rustc's to report, on the same tokens.
    let mut defined: HashMap<String, Defined> = workflow
        .params
        .iter()
        .map(|(name, _)| (name.to_string(), Defined::Parameter))
        .collect();
    for step in &workflow.steps {
        uses(&step.call, &defined, &later, errors);
        define(&mut defined, step.binding, errors);
    }
    match &workflow.result {
        Output::Call(call) => uses(call, &defined, &later, errors),
        Output::Name(name) => used(name, &defined, &later, errors),
        Output::Tuple(_, names) => names
            .iter()
            .for_each(|name| used(name, &defined, &later, errors)),
    }
}

/// What a name in scope was defined as.
enum Defined {
    Parameter,
    Binding,
}

/// One error, on the second definition: a proc macro cannot attach a note pointing at the
/// first, and a second error for the same mistake would be noise.
fn define(defined: &mut HashMap<String, Defined>, name: &Ident, errors: &mut Errors) {
    let message = match defined.insert(name.to_string(), Defined::Binding) {
        None => return,
        Some(Defined::Parameter) => {
            format!("`{name}` is already a parameter of this workflow; give the binding a new name")
        }
        Some(Defined::Binding) => format!(
            "`{name}` is already bound by an earlier `let`; each binding names one station's output, so choose a new name"
        ),
    };
    errors.add(name, message);
}

fn uses(
    call: &Call<'_>,
    defined: &HashMap<String, Defined>,
    later: &HashSet<String>,
    errors: &mut Errors,
) {
    for arg in &call.args {
        if let Arg::Name(name) = arg {
            used(name, defined, later, errors);
        }
    }
}

/// One error per call of the workflow by its own name: its graph would have no end.
pub(crate) fn no_self_call(workflow: &Workflow<'_>, errors: &mut Errors) {
    let name = &workflow.item.sig.ident;
    for call in super::stations::calls(workflow) {
        if call.station.is_ident(name) {
            errors.add(
                call.station,
                format!("a workflow cannot call itself: `{name}` would have no end; call the stations it is made of, or another workflow"),
            );
        }
    }
}

fn used(
    name: &Ident,
    defined: &HashMap<String, Defined>,
    later: &HashSet<String>,
    errors: &mut Errors,
) {
    let key = name.to_string();
    if defined.contains_key(&key) {
        return;
    }
    let message = if later.contains(&key) {
        format!(
            "`{name}` is used before it is defined; a binding can only use parameters and earlier bindings, so move its `let` up"
        )
    } else if let Some((similar, kind)) = similar(&key, defined) {
        let kind = match kind {
            Defined::Parameter => "parameter",
            Defined::Binding => "binding",
        };
        format!("unknown binding `{name}`; did you mean the {kind} `{similar}`?")
    } else {
        format!(
            "unknown binding `{name}`; an argument must be a workflow parameter or an earlier `let` binding"
        )
    };
    errors.add(name, message);
}

/// The defined name closest to `name`, if it is close enough to be a slip (an edit for
/// every three characters, at least one), as rustc judges names.
fn similar<'a>(
    name: &str,
    defined: &'a HashMap<String, Defined>,
) -> Option<(&'a str, &'a Defined)> {
    let limit = (name.chars().count() / 3).max(1);
    defined
        .iter()
        .map(|(known, kind)| (distance(name, known), known.as_str(), kind))
        .filter(|(distance, ..)| *distance <= limit)
        .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
        .map(|(_, known, kind)| (known, kind))
}

/// The edit distance between two names (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(distance("text", "text"), 0);
        assert_eq!(distance("tex", "text"), 1);
        assert_eq!(distance("txet", "text"), 2);
        assert_eq!(distance("", "ab"), 2);
    }

    #[test]
    fn a_slip_names_the_closest_name_and_a_stranger_none() {
        let defined: HashMap<String, Defined> = [
            ("text".to_owned(), Defined::Parameter),
            ("count".to_owned(), Defined::Binding),
        ]
        .into_iter()
        .collect();
        assert!(matches!(
            similar("txt", &defined),
            Some(("text", Defined::Parameter))
        ));
        assert!(matches!(
            similar("cont", &defined),
            Some(("count", Defined::Binding))
        ));
        assert!(similar("report", &defined).is_none());
    }
}
