//! The defect ledger: every failure choochoo sees, grouped into what a team can act on.
//!
//! - An **observation** is one station failing in one run, recorded at its first failed
//!   attempt with the evidence an investigator wants: the error and its causes, the panic
//!   message, the last lines the station logged, its inputs, and the working directory kept
//!   as the failure left it. Its later attempts in the run are added to it, and if one
//!   succeeds it is marked recovered. Its title follows the ticket convention
//!   `Handle: "<error message>" on "<instance>"`.
//! - Its **signature** is the station id and the error message with the volatile parts
//!   (numbers, hex ids, UUIDs, paths, quoted values, timestamps, addresses) masked, so that
//!   the same failure on another day, file or replica has the same signature.
//! - A run's failures that share a **cause** (the same masked message whatever the station,
//!   or the same masked root error at the bottom of the chain) are one **event**: the first
//!   one's defect takes the others' signatures, so one outage failing three stations is one
//!   defect, in this run and the next.
//! - A **defect** is the long-lived cause behind all observations of its signatures (one, or
//!   several, grouped by events or by a person who [merges](crate::Store::merge) them): how
//!   often it happens (counted in runs, its pace figured once it was seen in three), where,
//!   what it costs, whether it came back after it was marked fixed or has been quiet since a
//!   good run, and the notes and decisions of the team. It [exports](crate::Store::export) as
//!   a ticket body for the team's tracker.
//!
//! The ledger lives in the store's database beside the memo records, and an observation is
//! committed in one transaction with its defect's counters, so a run killed right after a
//! failure still leaves the failure counted.
//!
//! Here are the ledger's values, one file each: `model.rs` (defects, notes, decisions),
//! `observation.rs` (observations and their attempts), `signature.rs` (masking a message
//! into a signature), `cause.rs` (what a run's failures share to be one event), and
//! `export.rs` and `export_json.rs` (ticket bodies, in Markdown and JSON). The store keeps
//! them: `store/observe.rs` (what a run records), `store/triage.rs` (what a person reads and
//! does: list, mark, note, merge, export) and the SQL of `store/ledger.rs` (writes),
//! `store/ledger_reads.rs` (reads) and `store/ledger_rows.rs` (rows).

pub(crate) mod cause;
pub(crate) mod export;
pub(crate) mod export_json;
pub(crate) mod model;
pub(crate) mod observation;
pub(crate) mod signature;

#[cfg(test)]
mod event_tests;
#[cfg(test)]
mod tests;
