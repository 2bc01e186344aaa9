//! Checks that every name an argument uses is a parameter or an earlier binding, and that no
//! name is bound twice. Types are left to rustc, which sees them through the expansion.

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
    } else {
        format!(
            "unknown binding `{name}`; an argument must be a workflow parameter or an earlier `let` binding"
        )
    };
    errors.add(name, message);
}
