//! The guide: how choochoo decides what to run, and how to operate a workflow program. Each
//! page is one topic with examples that compile and run.
//!
//! | page | what it covers |
//! |---|---|
//! | [`skipping`] | the key of a station, files by content, early cutoff, resume, forcing |
//! | [`effects`] | writing stations that change the world: checks that explain, safe cleans, retries, time limits, child processes, kills and running twice, profiles, a private store |
//! | [`defects`] | the defect ledger: observations, defects, notes, tickets |
//! | [`command_line`] | the one-line `main` and the commands it gives a program |
//! | [`remote_cache`] | sharing results between machines through a REAPI cache server |
//! | [`secrets`] | passwords and tokens as inputs: in the key, written nowhere |
//!
//! The references are on the items themselves: [`#[station]`](crate::station) (options,
//! signatures, what may flow between stations) and [`workflow!`](crate::workflow) (grammar,
//! what is rejected).

// The pages that link to feature-gated items get those links' targets here: inside the crate
// when the feature is on, docs.rs (built with every feature) when it is off, so that no build
// of the docs has a broken link.

#[doc = include_str!("skipping.md")]
pub mod skipping {}

#[doc = include_str!("effects.md")]
pub mod effects {}

#[doc = include_str!("defects.md")]
#[cfg_attr(feature = "cli", doc = "[`cli`]: crate::cli")]
#[cfg_attr(
    not(feature = "cli"),
    doc = "[`cli`]: https://docs.rs/choochoo/latest/choochoo/cli/"
)]
pub mod defects {}

#[doc = include_str!("command_line.md")]
#[cfg_attr(
    feature = "cli",
    doc = "[`cli`]: crate::cli\n[`cli::main_with_args`]: crate::cli::main_with_args"
)]
#[cfg_attr(
    not(feature = "cli"),
    doc = "[`cli`]: https://docs.rs/choochoo/latest/choochoo/cli/\n\
           [`cli::main_with_args`]: https://docs.rs/choochoo/latest/choochoo/cli/fn.main_with_args.html"
)]
pub mod command_line {}

#[doc = include_str!("remote_cache.md")]
#[cfg_attr(
    feature = "remote",
    doc = "[`Remote`]: crate::Remote\n[`Remote::from_env`]: crate::Remote::from_env\n\
           [`Remote::timeout`]: crate::Remote::timeout\n[`Runner::remote`]: crate::Runner::remote\n\
           [`Runner::local_only`]: crate::Runner::local_only\n[`Remote::ca`]: crate::Remote::ca\n\
           [`Remote::identity`]: crate::Remote::identity\n[`Remote::header`]: crate::Remote::header\n\
           [`Remote::bearer_token`]: crate::Remote::bearer_token\n\
           [`Remote::bearer_token_file`]: crate::Remote::bearer_token_file"
)]
#[cfg_attr(
    not(feature = "remote"),
    doc = "[`Remote`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html\n\
           [`Remote::from_env`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.from_env\n\
           [`Remote::timeout`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.timeout\n\
           [`Runner::remote`]: https://docs.rs/choochoo/latest/choochoo/struct.Runner.html#method.remote\n\
           [`Runner::local_only`]: https://docs.rs/choochoo/latest/choochoo/struct.Runner.html#method.local_only\n\
           [`Remote::ca`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.ca\n\
           [`Remote::identity`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.identity\n\
           [`Remote::header`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.header\n\
           [`Remote::bearer_token`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.bearer_token\n\
           [`Remote::bearer_token_file`]: https://docs.rs/choochoo/latest/choochoo/struct.Remote.html#method.bearer_token_file"
)]
pub mod remote_cache {}

#[doc = include_str!("secrets.md")]
pub mod secrets {}
