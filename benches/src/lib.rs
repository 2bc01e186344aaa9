//! Benchmarks for choochoo: criterion benches under `benches/` (run with
//! `cargo bench -p benches`); results and the commands that produced them are recorded in
//! `benches/RESULTS.md`.
