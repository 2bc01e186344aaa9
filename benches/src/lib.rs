//! Benchmarks for choochoo: criterion benches under `benches/` (run with
//! `cargo bench -p benches`); results and the commands that produced them are recorded in
//! `benches/RESULTS.md`.
//!
//! The `choochoo-bench` binary runs the peer harness's workloads (`shared/bench`) with
//! choochoo; [`spec`] reads their `graph.json`.

pub mod spec;
