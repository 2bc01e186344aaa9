//! Nothing: this package holds the compile tests of choochoo without its `tokio` feature
//! (`ui.rs`), which the `tests` package turns on for everything else.
