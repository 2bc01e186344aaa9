//! A deployment with a command line from a one-line `main`: run it, watch it, break it, fix
//! it, and look at what happened.
//!
//! ```sh
//! DEPLOY_BROKEN=upload cargo run --example deploy -- run   # upload fails, announce is blocked
//! cargo run --example deploy -- status                     # what is cached, stale, failed
//! cargo run --example deploy -- defects                    # the failure, as a defect
//! cargo run --example deploy -- run                        # fixed: only upload and announce run
//! cargo run --example deploy -- run tests                  # only the tests and what they need
//! cargo run --example deploy -- run --resource db=1        # one migration at a time
//! cargo run --example deploy -- report --out report.html   # graph, timeline, failures
//! cargo run --example deploy -- trace --out trace.json     # open in ui.perfetto.dev
//! cargo run --example deploy -- graph --format mermaid
//! ```
//!
//! `DEPLOY_BROKEN` names stations to fail (comma-separated); `DEPLOY_PACE_MS` sets how long
//! each step of work takes (40 ms unless set).

use choochoo::{Ctx, File, station, workflow};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What is being released.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Release {
    app: String,
    version: String,
}

/// Reads the release's settings.
#[station]
fn configure(app: &str) -> Release {
    Release {
        app: app.to_owned(),
        version: "1.4.2".to_owned(),
    }
}

/// Builds the release's artifact, one unit after another.
#[station]
fn compile(ctx: &Ctx, release: &Release) -> Result<File, std::io::Error> {
    const UNITS: u64 = 12;
    let mut artifact = Vec::new();
    for unit in 1..=UNITS {
        pause();
        ctx.progress(unit, Some(UNITS));
        ctx.log(format_args!("compiled unit {unit}/{UNITS}"));
        artifact.extend(std::iter::repeat_n(unit as u8, 64 * 1024));
    }
    let path = ctx
        .out_dir()
        .join(format!("{}-{}.tar", release.app, release.version));
    std::fs::write(&path, artifact)?;
    Ok(File::new(path))
}

/// Runs the test suite against the artifact; returns how many tests passed.
#[station(name = "test suite")]
fn test_suite(ctx: &Ctx, artifact: &File) -> Result<u32, std::io::Error> {
    let bytes = std::fs::read(artifact.path())?;
    for suite in 1..=4 {
        pause();
        ctx.progress(suite, Some(4));
    }
    Ok(40 + (bytes.len() % 7) as u32)
}

/// Uploads the artifact to the release registry; returns its address.
#[station]
fn upload(ctx: &Ctx, artifact: &File, release: &Release) -> Result<String, UploadError> {
    let bytes =
        std::fs::read(artifact.path()).map_err(|source| UploadError::new(artifact, source))?;
    let total = bytes.len() as u64;
    ctx.log(format_args!(
        "connecting to registry.internal:443 ({total} bytes to send)"
    ));
    for sent in (0..=total).step_by(128 * 1024) {
        pause();
        ctx.progress_bytes(sent, Some(total));
        if broken("upload") && sent * 2 >= total {
            ctx.log(format_args!(
                "sent {sent} of {total} bytes; the registry hung up"
            ));
            let refused = std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by registry.internal:443",
            );
            return Err(UploadError::new(artifact, refused));
        }
    }
    ctx.progress_bytes(total, Some(total));
    Ok(format!(
        "https://releases.example.com/{}/{}",
        release.app, release.version
    ))
}

/// Migrates the database to the release's schema; returns the schema version. The
/// database takes one migration at a time (`run --resource db=1`).
#[station(resources = ["db"])]
fn migrate(ctx: &Ctx, release: &Release) -> Result<u32, std::io::Error> {
    pause();
    ctx.log(format_args!("migrating {} to schema 17", release.app));
    if broken("migrate") {
        return Err(std::io::Error::other("lock timeout on table `orders`"));
    }
    Ok(17)
}

/// Says the release is out on the team's chat: an async station, as an HTTP client's calls
/// are; past its time limit the request is dropped, not left hanging.
#[station(timeout = "10s")]
async fn announce(url: &str, passed: &u32, schema: &u32) -> String {
    tokio::time::sleep(pace()).await;
    format!("released {url} ({passed} tests passed, schema {schema})")
}

workflow! {
    /// Builds, tests, uploads and announces a release of `app`.
    pub fn deploy(app: String) -> String {
        let release = configure(app);
        let artifact = compile(release);
        let tests = test_suite(artifact);
        let url = upload(artifact, release);
        let schema = migrate(release);
        announce(url, tests, schema)
    }
}

fn main() -> std::process::ExitCode {
    choochoo::cli::main(|| deploy("shop".to_owned()))
}

/// An upload that did not go through, and why.
#[derive(Debug)]
pub struct UploadError {
    artifact: String,
    source: std::io::Error,
}

impl UploadError {
    fn new(artifact: &File, source: std::io::Error) -> UploadError {
        let name = artifact.path().file_name().unwrap_or_default();
        UploadError {
            artifact: name.to_string_lossy().into_owned(),
            source,
        }
    }
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot upload {}", self.artifact)
    }
}

impl std::error::Error for UploadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Whether `DEPLOY_BROKEN` names this station.
fn broken(station: &str) -> bool {
    std::env::var("DEPLOY_BROKEN").is_ok_and(|names| names.split(',').any(|n| n.trim() == station))
}

/// One step of pretend work.
fn pause() {
    std::thread::sleep(pace());
}

/// How long one step of work takes.
fn pace() -> Duration {
    let ms = std::env::var("DEPLOY_PACE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(40);
    Duration::from_millis(ms)
}
