//! A real BuildGrid (REAPI server) on a free loopback port, started by the remote cache
//! tests: in plain text, over TLS (with client certificates required, if asked), or with its
//! JWT authorization on.

use crate::support::skip;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How the server is set up.
#[derive(Default)]
pub struct Options {
    /// The server's certificate and key (PEM files): it speaks TLS only.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With `tls`, the authorities whose client certificates it requires (a PEM file).
    pub client_ca: Option<PathBuf>,
    /// The HS256 secret (a file) of the JWT bearer tokens every call must carry.
    pub jwt_secret: Option<PathBuf>,
}

/// A running BuildGrid, stopped when dropped.
pub struct BuildGrid {
    child: Child,
    /// `grpc://127.0.0.1:PORT`, or `grpcs://` with `tls`.
    pub url: String,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl BuildGrid {
    /// Starts a plain-text BuildGrid; `None` when it is not installed, after
    /// `support::skip` said so.
    pub fn start() -> Option<BuildGrid> {
        BuildGrid::start_with(&Options::default())
    }

    /// Starts BuildGrid (`bgd` from `CHOOCHOO_BUILDGRID`, or the venv `.ci/buildgrid.sh`
    /// makes) set up as `options` say.
    pub fn start_with(options: &Options) -> Option<BuildGrid> {
        let bgd = bgd()?;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("buildgrid.yml");
        std::fs::write(&config, config_text(options, port, dir.path())).unwrap();
        let log = std::fs::File::create(dir.path().join("bgd.log")).unwrap();
        let mut command = Command::new(&bgd);
        command.args(["server", "start"]);
        if options.jwt_secret.is_some() {
            // Logs each refused call, which the tests count.
            command.arg("-vv");
        }
        let child = command
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", bgd.display()));
        let scheme = if options.tls.is_some() {
            "grpcs"
        } else {
            "grpc"
        };
        let mut server = BuildGrid {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            dir,
        };
        server.wait_listening();
        Some(server)
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("BuildGrid exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "BuildGrid did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's directory: its configuration, its log and its CAS on disk.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bgd.log")).unwrap_or_default()
    }
}

impl Drop for BuildGrid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `bgd` to run, or `None` after `support::skip` said it is missing.
fn bgd() -> Option<PathBuf> {
    let bgd = std::env::var_os("CHOOCHOO_BUILDGRID")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            checkout.join("target/buildgrid-venv/bin/bgd")
        });
    if !bgd.exists() {
        skip(
            "BuildGrid",
            &format!("there is no `bgd` at {}", bgd.display()),
            "run `bash .ci/buildgrid.sh` (BuildGrid 0.4.4 from PyPI into \
             target/buildgrid-venv), or set CHOOCHOO_BUILDGRID to a `bgd`",
        );
        return None;
    }
    Some(bgd)
}

/// BuildGrid 0.4.4's configuration: one instance (the default name) with an action cache, a
/// CAS on disk and ByteStream.
fn config_text(options: &Options, port: u16, dir: &Path) -> String {
    let channel = match &options.tls {
        // `tls-client-certs` makes BuildGrid require a client certificate signed by them.
        Some((cert, key)) => format!(
            "    insecure-mode: false
    credentials:
      tls-server-key: {}
      tls-server-cert: {}
{}",
            key.display(),
            cert.display(),
            options
                .client_ca
                .as_ref()
                .map_or(String::new(), |ca| format!(
                    "      tls-client-certs: {}\n",
                    ca.display()
                ))
        ),
        None => "    insecure-mode: true\n".to_owned(),
    };
    let authorization = match &options.jwt_secret {
        Some(secret) => format!(
            "  method: jwt\n  secret: {}\n  algorithm: hs256\n",
            secret.display()
        ),
        None => "  method: none\n".to_owned(),
    };
    format!(
        "server:
  - !channel
    address: \"127.0.0.1:{port}\"
{channel}authorization:
{authorization}storages:
  - !disk-storage &cas
    path: {cas}
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
instances:
  - name: \"\"
    services:
      - !action-cache
        cache: *ac
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
",
        cas = dir.join("cas").display()
    )
}
