//! Reads a `workflow!` body into steps: `let NAME = CALL;` statements and a final output.

use crate::errors::Errors;
use syn::{Expr, FnArg, Ident, Pat, ReturnType, Stmt, Type};

/// A workflow as written: parameters, steps in order, and the output expression.
pub(crate) struct Workflow<'a> {
    pub item: &'a syn::ItemFn,
    pub params: Vec<(&'a Ident, &'a Type)>,
    pub output: &'a Type,
    pub steps: Vec<Step<'a>>,
    pub result: Output<'a>,
}

/// `let binding = call;`
pub(crate) struct Step<'a> {
    pub binding: &'a Ident,
    pub call: Call<'a>,
}

/// `station_fn(arg, ...)`
pub(crate) struct Call<'a> {
    pub expr: &'a syn::ExprCall,
    pub station: &'a syn::Path,
    pub args: Vec<Arg<'a>>,
    /// `map(station_fn, list, shared...)`: `args[0]` is the list.
    pub mapped: bool,
}

/// One argument of a call.
pub(crate) enum Arg<'a> {
    /// A workflow parameter or an earlier binding.
    Name(&'a Ident),
    /// A literal, which becomes a constant input.
    Literal(&'a Expr),
}

/// The final expression: what the workflow returns.
pub(crate) enum Output<'a> {
    Call(Call<'a>),
    Name(&'a Ident),
    Tuple(&'a syn::ExprTuple, Vec<&'a Ident>),
}

const STEP_HELP: &str = "a workflow body is `let name = station_fn(args);` statements followed by the output: a binding, a call, or a tuple of bindings";

pub(crate) fn workflow<'a>(item: &'a syn::ItemFn, errors: &mut Errors) -> Option<Workflow<'a>> {
    signature(&item.sig, errors);
    let params = params(&item.sig, errors);
    let output = match &item.sig.output {
        ReturnType::Type(_, ty) => &**ty,
        ReturnType::Default => {
            errors.add(
                &item.sig,
                "a workflow declares its output type; add `-> T` after the parameters",
            );
            return None;
        }
    };
    let (last, stmts) = match item.block.stmts.split_last() {
        Some((Stmt::Expr(expr, None), stmts)) => (expr, stmts),
        _ => {
            errors.add(&item.block, "a workflow ends with its output: a binding, a call, or a tuple of bindings, without a trailing `;`");
            return None;
        }
    };
    let steps = stmts.iter().filter_map(|stmt| step(stmt, errors)).collect();
    let result = result(last, errors)?;
    Some(Workflow {
        item,
        params,
        output,
        steps,
        result,
    })
}

fn signature(sig: &syn::Signature, errors: &mut Errors) {
    if let Some(token) = &sig.asyncness {
        errors.add(
            token,
            "a workflow is a plain `fn` that builds a graph; remove `async`",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.add(
            &sig.generics,
            "a workflow cannot be generic; use concrete parameter types",
        );
    }
    if let Some(token) = &sig.unsafety {
        errors.add(token, "a workflow cannot be `unsafe`");
    }
}

fn params<'a>(sig: &'a syn::Signature, errors: &mut Errors) -> Vec<(&'a Ident, &'a Type)> {
    let mut params = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    params.push((&pat.ident, &*typed.ty))
                }
                pat => errors.add(
                    pat,
                    "a workflow parameter is a plain name, such as `doc: File`",
                ),
            },
            FnArg::Receiver(receiver) => {
                errors.add(receiver, "a workflow is a free fn and cannot take `self`")
            }
        }
    }
    params
}

fn step<'a>(stmt: &'a Stmt, errors: &mut Errors) -> Option<Step<'a>> {
    let Stmt::Local(local) = stmt else {
        errors.add(stmt, STEP_HELP);
        return None;
    };
    let binding = match &local.pat {
        Pat::Ident(pat)
            if pat.by_ref.is_none() && pat.mutability.is_none() && pat.subpat.is_none() =>
        {
            &pat.ident
        }
        Pat::Type(typed) => {
            errors.add(typed, "write `let name = ...;` without a type: the station's output type is the binding's type");
            return None;
        }
        pat => {
            errors.add(
                pat,
                "a binding is a plain name, such as `let count = word_count(doc);`",
            );
            return None;
        }
    };
    let Some(init) = &local.init else {
        errors.add(
            local,
            "a binding needs a value: `let name = station_fn(args);`",
        );
        return None;
    };
    if let Some((_, diverge)) = &init.diverge {
        errors.add(
            diverge,
            "`let ... else` is not part of a workflow; remove the `else` branch",
        );
    }
    let call = call(&init.expr, errors)?;
    Some(Step { binding, call })
}

fn call<'a>(expr: &'a Expr, errors: &mut Errors) -> Option<Call<'a>> {
    let Expr::Call(call) = expr else {
        errors.add(expr, "expected a station call such as `word_count(doc)`");
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        errors.add(
            &call.func,
            "call a station by its fn name or path, such as `word_count` or `tasks::word_count`",
        );
        return None;
    };
    if path.qself.is_some()
        || path
            .path
            .segments
            .last()
            .is_some_and(|s| !s.arguments.is_empty())
    {
        errors.add(
            path,
            "call a station by its fn name or path, without generic arguments",
        );
        return None;
    }
    if path.path.is_ident("map") {
        return mapped(call, errors);
    }
    let args = call
        .args
        .iter()
        .filter_map(|arg| argument(arg, errors))
        .collect();
    at_most_twelve(call, errors)?;
    Some(Call {
        expr: call,
        station: &path.path,
        args,
        mapped: false,
    })
}

/// `map(station_fn, list, shared...)`: the station, then a binding of type `Vec<T>`.
fn mapped<'a>(call: &'a syn::ExprCall, errors: &mut Errors) -> Option<Call<'a>> {
    const HELP: &str = "write `map(station_fn, list, shared...)`, where `list` is a binding of type `Vec<T>` and the station's first input is `&T`";
    let mut parts = call.args.iter();
    let station = match parts.next() {
        Some(Expr::Path(station)) if station.qself.is_none() => &station.path,
        Some(other) => {
            errors.add(other, HELP);
            return None;
        }
        None => {
            errors.add(call, HELP);
            return None;
        }
    };
    let args: Vec<Arg<'a>> = parts.filter_map(|arg| argument(arg, errors)).collect();
    at_most_twelve(call, errors)?;
    match args.first() {
        Some(Arg::Name(_)) => {}
        Some(Arg::Literal(expr)) => {
            errors.add(
                expr,
                "`map` goes over a binding of type `Vec<T>`, not a literal",
            );
            return None;
        }
        None => {
            errors.add(call, HELP);
            return None;
        }
    }
    Some(Call {
        expr: call,
        station,
        args,
        mapped: true,
    })
}

/// A station has at most twelve inputs, so a call has at most twelve arguments (and `map`
/// thirteen, with the station).
fn at_most_twelve(call: &syn::ExprCall, errors: &mut Errors) -> Option<()> {
    let limit = MAX_INPUTS + usize::from(is_map(call));
    match call.args.iter().nth(limit) {
        Some(extra) => {
            errors.add(
                extra,
                "a station takes at most 12 inputs, so a call has at most 12 arguments; remove this one",
            );
            None
        }
        None => Some(()),
    }
}

fn is_map(call: &syn::ExprCall) -> bool {
    matches!(&*call.func, Expr::Path(path) if path.path.is_ident("map"))
}

/// The most inputs a station has: the largest tuple `Inputs` is implemented for.
pub(crate) const MAX_INPUTS: usize = 12;

fn argument<'a>(expr: &'a Expr, errors: &mut Errors) -> Option<Arg<'a>> {
    match expr {
        Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
            path.path.get_ident().map(Arg::Name)
        }
        Expr::Lit(_) => Some(Arg::Literal(expr)),
        Expr::Unary(unary)
            if matches!(unary.op, syn::UnOp::Neg(_)) && matches!(&*unary.expr, Expr::Lit(_)) =>
        {
            Some(Arg::Literal(expr))
        }
        _ => {
            errors.add(expr, "a station argument is a workflow parameter, an earlier binding, or a literal; compute other values in a station");
            None
        }
    }
}

fn result<'a>(expr: &'a Expr, errors: &mut Errors) -> Option<Output<'a>> {
    match expr {
        Expr::Call(_) => call(expr, errors).map(Output::Call),
        Expr::Path(path) if path.path.get_ident().is_some() => {
            path.path.get_ident().map(Output::Name)
        }
        Expr::Tuple(tuple) => {
            let mut names = Vec::new();
            for elem in &tuple.elems {
                match elem {
                    Expr::Path(path) if path.path.get_ident().is_some() => {
                        names.extend(path.path.get_ident())
                    }
                    other => errors.add(other, "a workflow's output tuple lists bindings by name"),
                }
            }
            Some(Output::Tuple(tuple, names))
        }
        other => {
            errors.add(
                other,
                "a workflow ends with its output: a binding, a call, or a tuple of bindings",
            );
            None
        }
    }
}
