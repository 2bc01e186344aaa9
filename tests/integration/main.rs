//! choochoo's integration tests: one binary, one module per concern.

mod support;
mod typed;
