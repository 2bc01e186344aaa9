//! Checks that every name an argument uses is a parameter or an earlier binding, and that no
//! name is bound twice. Types are left to rustc, which sees them through the expansion.

use super::parse::{Arg, Call, Output, Workflow};
use crate::errors::Errors;
use std::collections::HashMap;
use syn::Ident;

pub(crate) fn bindings(workflow: &Workflow<'_>, errors: &mut Errors) {
    let mut defined: HashMap<String, &Ident> = HashMap::new();
    let later: HashMap<String, &Ident> =
        workflow.steps.iter().map(|step| (step.binding.to_string(), step.binding)).collect();
    for (name, _) in &workflow.params {
        define(&mut defined, name, errors);
    }
    for step in &workflow.steps {
        uses(&step.call, &defined, &later, errors);
        define(&mut defined, step.binding, errors);
    }
    match &workflow.result {
        Output::Call(call) => uses(call, &defined, &later, errors),
        Output::Name(name) => used(name, &defined, &later, errors),
        Output::Tuple(_, names) => names.iter().for_each(|name| used(name, &defined, &later, errors)),
    }
}

fn define<'a>(defined: &mut HashMap<String, &'a Ident>, name: &'a Ident, errors: &mut Errors) {
    if let Some(first) = defined.insert(name.to_string(), name) {
        let mut error = syn::Error::new(
            name.span(),
            format!("`{name}` is already defined; each binding names one station's output, so choose a new name"),
        );
        error.combine(syn::Error::new(first.span(), format!("`{name}` is first defined here")));
        errors.push(error);
    }
}

fn uses(call: &Call<'_>, defined: &HashMap<String, &Ident>, later: &HashMap<String, &Ident>, errors: &mut Errors) {
    for arg in &call.args {
        if let Arg::Name(name) = arg {
            used(name, defined, later, errors);
        }
    }
}

fn used(name: &Ident, defined: &HashMap<String, &Ident>, later: &HashMap<String, &Ident>, errors: &mut Errors) {
    let key = name.to_string();
    if defined.contains_key(&key) {
        return;
    }
    let message = if later.contains_key(&key) {
        format!("`{name}` is used before it is defined; a binding can only use parameters and earlier bindings, so move its `let` up")
    } else {
        format!("unknown binding `{name}`; an argument must be a workflow parameter or an earlier `let` binding")
    };
    errors.add(name, message);
}
