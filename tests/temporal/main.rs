//! Stations on Temporal workers, against a real Temporal dev server and a real BuildGrid,
//! both started on 127.0.0.1 by the tests: a coordinator and workers are this test binary
//! run as a workflow program (`program::program`). Built only with the `temporal` feature
//! (`cargo test -p tests --features temporal --test temporal`).

#![allow(
    unreachable_pub,
    reason = "test modules share helpers with `pub`; nothing is exported"
)]

mod bench;
#[path = "../integration/buildgrid.rs"]
#[allow(
    dead_code,
    reason = "the TLS and token options serve the remote cache's tests"
)]
mod buildgrid;
mod kills;
mod program;
mod retries;
mod safety;
mod server;
#[path = "../integration/support.rs"]
#[allow(dead_code, reason = "the helpers of other tests")]
mod support;
mod workers;
