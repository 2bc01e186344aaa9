//! The message a `workflow!` call with the wrong number of arguments gets. `#[station]`
//! records each station's inputs as written ([`Params`]); `workflow!` asks, in a constant
//! evaluated at compile time, whether its call gives one argument per input, and if not
//! panics there, on the user's call, with a message that names the missing inputs or the
//! extra arguments.

/// A station's name and its inputs as written in its signature, such as `("doc", "&File")`.
#[derive(Debug)]
pub struct Params {
    /// The station's function name.
    pub station: &'static str,
    /// Each input's parameter name and type, in order.
    pub inputs: &'static [(&'static str, &'static str)],
}

/// The type of the input at a position past a station's last input. Any argument fits it,
/// so an extra argument is reported once, by the arity check, rather than again here.
#[derive(Debug)]
pub enum Surplus {}

/// A message built at compile time: a fixed buffer and how much of it is used.
#[derive(Debug)]
pub struct Message {
    bytes: [u8; 1024],
    len: usize,
    full: bool,
}

impl Message {
    const fn new() -> Message {
        Message {
            bytes: [0; 1024],
            len: 0,
            full: false,
        }
    }

    /// Appends `text` whole, or, when it does not fit, `...` once and nothing after it, so
    /// the message never ends inside a character.
    const fn push(mut self, text: &str) -> Message {
        let text = text.as_bytes();
        if self.full {
            return self;
        }
        if self.len + text.len() + 3 > self.bytes.len() {
            self.full = true;
            return self.copy(b"...");
        }
        self.copy(text)
    }

    const fn copy(mut self, text: &[u8]) -> Message {
        let mut i = 0;
        while i < text.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// The message as text.
    pub const fn as_str(&self) -> &str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(text) => text,
            Err(_) => "wrong number of arguments",
        }
    }
}

/// What is wrong with the number of a call's arguments.
#[derive(Debug, PartialEq, Eq)]
pub enum Mistake {
    /// Inputs have no argument: reported on the call's parentheses.
    Missing,
    /// Arguments have no input: reported on the last argument.
    Extra,
}

/// `None` when a call with `args` (the arguments as written) gives one argument per input of
/// the station; otherwise what is wrong and the message.
pub const fn arity_error(params: &Params, args: &[&str]) -> Option<(Mistake, Message)> {
    let inputs = params.inputs.len();
    if args.len() == inputs {
        None
    } else if args.len() < inputs {
        Some((Mistake::Missing, missing(params, args)))
    } else {
        Some((Mistake::Extra, extra(params, args)))
    }
}

/// "`add` is missing its input `b: &u64`; give one argument per input: `add(a, b)`"
const fn missing(params: &Params, args: &[&str]) -> Message {
    let count = params.inputs.len() - args.len();
    let mut message = Message::new().push("`").push(params.station);
    message = message.push(if count == 1 {
        "` is missing its input "
    } else {
        "` is missing its inputs "
    });
    message = list_inputs(message, params.inputs, args.len());
    message = message
        .push("; give one argument per input: `")
        .push(params.station)
        .push("(");
    let mut i = 0;
    while i < params.inputs.len() {
        if i > 0 {
            message = message.push(", ");
        }
        message = message.push(if i < args.len() {
            args[i]
        } else {
            params.inputs[i].0
        });
        i += 1;
    }
    message.push(")`")
}

/// "`add` takes 2 inputs, `a: &u64` and `b: &u64`, so the argument `c` is extra; remove it"
const fn extra(params: &Params, args: &[&str]) -> Message {
    let inputs = params.inputs.len();
    let mut message = Message::new().push("`").push(params.station);
    message = match inputs {
        0 => message.push("` takes no inputs"),
        1 => message.push("` takes 1 input, "),
        _ => message
            .push("` takes ")
            .push(count_text(inputs))
            .push(" inputs, "),
    };
    message = list_inputs(message, params.inputs, 0);
    let extra = args.len() - inputs;
    message = message.push(if extra == 1 {
        ", so the argument "
    } else {
        ", so the arguments "
    });
    let mut i = inputs;
    while i < args.len() {
        if i > inputs {
            message = message.push(if i + 1 == args.len() { " and " } else { ", " });
        }
        message = message.push("`").push(args[i]).push("`");
        i += 1;
    }
    message.push(if extra == 1 {
        " is extra; remove it"
    } else {
        " are extra; remove them"
    })
}

/// "`a: &u64`, `b: &u64` and `c: &str`", from input `from` on.
const fn list_inputs(mut message: Message, inputs: &[(&str, &str)], from: usize) -> Message {
    let mut i = from;
    while i < inputs.len() {
        if i > from {
            message = message.push(if i + 1 == inputs.len() { " and " } else { ", " });
        }
        let (name, ty) = inputs[i];
        message = message.push("`").push(name).push(": ").push(ty).push("`");
        i += 1;
    }
    message
}

/// A station has at most twelve inputs.
const fn count_text(n: usize) -> &'static str {
    const DIGITS: [&str; 13] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
    ];
    if n < DIGITS.len() { DIGITS[n] } else { "many" }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADD: Params = Params {
        station: "add",
        inputs: &[("a", "&u64"), ("b", "&u64")],
    };

    fn error(params: &Params, args: &[&str]) -> Option<(Mistake, String)> {
        arity_error(params, args).map(|(mistake, message)| (mistake, message.as_str().to_owned()))
    }

    #[test]
    fn a_call_with_one_argument_per_input_is_fine() {
        assert_eq!(error(&ADD, &["x", "y"]), None);
    }

    #[test]
    fn a_short_call_names_each_missing_input_and_shows_the_whole_call() {
        assert_eq!(
            error(&ADD, &["x"]),
            Some((
                Mistake::Missing,
                "`add` is missing its input `b: &u64`; give one argument per input: `add(x, b)`"
                    .to_owned()
            ))
        );
        assert_eq!(
            error(&ADD, &[]),
            Some((Mistake::Missing, "`add` is missing its inputs `a: &u64` and `b: &u64`; give one argument per input: `add(a, b)`".to_owned()))
        );
    }

    #[test]
    fn a_long_call_names_the_inputs_and_the_extra_arguments() {
        assert_eq!(
            error(&ADD, &["x", "y", "z"]),
            Some((Mistake::Extra, "`add` takes 2 inputs, `a: &u64` and `b: &u64`, so the argument `z` is extra; remove it".to_owned()))
        );
        let one = Params {
            station: "shout",
            inputs: &[("text", "&str")],
        };
        assert_eq!(
            error(&one, &["t", "5", "\"x\""]),
            Some((Mistake::Extra, "`shout` takes 1 input, `text: &str`, so the arguments `5` and `\"x\"` are extra; remove them".to_owned()))
        );
        let none = Params {
            station: "now",
            inputs: &[],
        };
        assert_eq!(
            error(&none, &["t"]),
            Some((
                Mistake::Extra,
                "`now` takes no inputs, so the argument `t` is extra; remove it".to_owned()
            ))
        );
    }

    #[test]
    fn a_message_too_long_for_the_buffer_ends_in_an_ellipsis_on_a_whole_part() {
        let long = "é".repeat(300);
        let inputs: &'static [(&'static str, &'static str)] =
            Box::leak(vec![("ä", &*Box::leak(long.into_boxed_str())); 3].into_boxed_slice());
        let params = Params {
            station: "wide",
            inputs,
        };
        let (_, message) = error(&params, &[]).unwrap();
        assert!(message.ends_with("..."), "{message}");
        assert!(message.len() <= 1024);
    }
}
