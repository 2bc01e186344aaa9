//! The defect ledger: every failure choochoo sees, grouped into what a team can act on.
//!
//! - An **observation** is one failed station attempt, recorded with the evidence an
//!   investigator wants: the error and its causes, the panic message, the last lines the
//!   station logged, its inputs, and the working directory kept as the failure left it. Its
//!   title follows the ticket convention `Handle: "<error message>" on "<instance>"`.
//! - Its **signature** is the station id and the error message with the volatile parts
//!   (numbers, hex ids, UUIDs, paths, quoted values, timestamps, addresses) masked, so that
//!   the same failure on another day, file or replica has the same signature.
//! - A **defect** is the long-lived cause behind all observations of one signature (or of
//!   several, once a person [merges](crate::Store::merge) them): how often it happens, where, what
//!   it costs, whether it came back after it was marked fixed, and the notes the team adds as
//!   it learns. It [exports](crate::Store::export) as a ticket body for the team's tracker.
//!
//! The ledger lives in the store's database beside the memo records, and an observation is
//! committed in one transaction with its defect's counters, so a run killed right after a
//! failure still leaves the failure counted.
//!
//! Here are the ledger's values, one file each: `model.rs` (observations, defects, notes),
//! `signature.rs` (masking a message into a signature) and `export.rs` (ticket bodies).
//! The store keeps them: `store/observe.rs` (what a run records), `store/triage.rs` (what a
//! person reads and does: list, mark, note, merge, export) and the SQL of `store/ledger.rs`.

pub(crate) mod export;
pub(crate) mod model;
pub(crate) mod signature;

#[cfg(test)]
mod tests;
