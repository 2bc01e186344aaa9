//! Benchmarks for choochoo: criterion benches under `benches/` (run with
//! `cargo bench -p benches`) and programs for side-by-side runs with other build
//! tools on the same generated graphs; results and the commands that produced them are in
//! `benches/RESULTS.md`.
//!
//! - `choochoo-gen` writes a workload: input files and a [`spec`] (`graph.json`) of one of
//!   the [`shape`]s ([`generate`]).
//! - `choochoo-bench` builds it with choochoo, each step a station.
//! - `choochoo-scale` times clean and no-op runs of trivial-station [`grid`]s as they grow.
//! - `choochoo-verify` checks every output against the bytes its step computes ([`verify`]).

pub mod generate;
pub mod grid;
pub mod random;
pub mod shape;
pub mod spec;
pub mod template;
pub mod verify;
