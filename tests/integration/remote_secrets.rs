//! The remote cache's credentials are never shown: the command line, given an API key header
//! and a bearer token by flags, a token file and the environment, is run as a child process
//! (this test binary, asked to run only [`program`]) with every `tracing` event of every
//! crate at every level printed; no credential may appear in anything it printed or in any
//! file it left, including the trace and the HTML report. The same child program runs the
//! workflow from the library for the tests of the environment's settings.

use crate::fake;
use crate::remote::shared;
use crate::support::serial;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata};

/// The arguments of the child program, as JSON.
const ARGS: &str = "CHOOCHOO_TEST_REMOTE_ARGS";

/// The workflow program the test runs: the command line, with every `tracing` event on
/// standard error.
#[test]
#[ignore = "the program the secrets test runs as a child process"]
fn program() {
    let Ok(args) = std::env::var(ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("the arguments as JSON");
    tracing::subscriber::set_global_default(Everything).expect("the only subscriber");
    if args.len() == 3 && args[1] == "library" {
        library(Path::new(&args[2]));
        return;
    }
    let code = choochoo::cli::main_with_args(args, || shared("kept from prying eyes".to_owned()));
    let code = (0..=u8::MAX)
        .find(|n| ExitCode::from(*n) == code)
        .unwrap_or(101);
    std::process::exit(i32::from(code));
}

/// Runs the workflow from the library with the remote cache the environment names
/// (`Runner::new`), and prints what each station did.
fn library(store: &Path) {
    let store = choochoo::Store::open(store).expect("open the store");
    let run = choochoo::Runner::new(&store)
        .run(shared("kept from prying eyes".to_owned()))
        .expect("the run");
    let statuses: Vec<_> = run.report().entries().iter().map(|e| e.status()).collect();
    println!("statuses: {statuses:?}");
    println!("warnings: {:?}", run.report().warnings());
}

/// Prints every span and event, whatever its level or crate.
struct Everything;

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl tracing::Subscriber for Everything {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = Line(String::new());
        span.record(&mut line);
        let meta = span.metadata();
        eprintln!("trace-span {} {}:{}", meta.target(), meta.name(), line.0);
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = Line(String::new());
        values.record(&mut line);
        eprintln!("trace-record{}", line.0);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line(String::new());
        event.record(&mut line);
        let meta = event.metadata();
        eprintln!("trace-event {} {}:{}", meta.level(), meta.target(), line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Runs the program in `dir` with `args` (`["library", STORE]` for a library run) and
/// `env`; how it exited and what it printed, both streams.
pub fn cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut argv = vec!["workflow"];
    argv.extend_from_slice(args);
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "remote_secrets::program",
            "--ignored",
            "--nocapture",
            "-q",
        ])
        .env(ARGS, serde_json::to_string(&argv).unwrap())
        .current_dir(dir)
        .stdin(Stdio::null());
    for name in [
        "CHOOCHOO_REMOTE",
        "CHOOCHOO_REMOTE_CA",
        "CHOOCHOO_REMOTE_CERT",
        "CHOOCHOO_REMOTE_KEY",
        "CHOOCHOO_REMOTE_HEADERS",
        "CHOOCHOO_REMOTE_TOKEN",
        "CHOOCHOO_REMOTE_TOKEN_FILE",
        "CHOOCHOO_REMOTE_WRITE",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), printed)
}

/// Every file under `dir` but `except`, by path, with its bytes.
fn files(dir: &Path, except: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path != except {
                let bytes = std::fs::read(&path).unwrap();
                found.push((path, bytes));
            }
        }
    }
    found
}

#[test]
fn no_credential_is_ever_shown() {
    let _serial = serial();
    let fake = fake::Server::start_with(fake::Options {
        require: Some(("x-api-key", "header-secret-5e1f".to_owned())),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "file-token-secret-9b2c\n").unwrap();
    let url = fake.url.as_str();
    let token = token_file.to_str().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let (code, text) = cli(dir.path(), args, env);
        assert_eq!(code, 0, "{args:?}:\n{text}");
        text
    };
    // Accepted: the writer's key and token by flags.
    let header = "x-api-key=header-secret-5e1f";
    let accepted = ["run", "--verbose", "--remote", url, "--remote-write"];
    let flags = ["--remote-header", header, "--remote-token-file", token];
    let mut printed = vec![run(&[&accepted[..], &flags].concat(), &[])];
    assert_eq!(fake.results(), 3, "{}", printed[0]);
    // Refused: a wrong key and a token from the environment, into another store. The server
    // repeats the wrong key in its answer; the warning does not.
    let wrong = [
        (
            "CHOOCHOO_REMOTE_HEADERS",
            "x-api-key=env-header-secret-7d3a,x-team=env-other-secret-1c8e",
        ),
        ("CHOOCHOO_REMOTE_TOKEN", "env-token-secret-4f6b"),
    ];
    let refused = run(
        &["--store", "other", "run", "--verbose", "--remote", url],
        &wrong,
    );
    assert!(
        refused.contains(
            "refused the credentials (UNAUTHENTICATED: x-api-key <redacted> is not a key"
        ),
        "{refused}"
    );
    printed.push(refused);
    for args in [
        &["status"][..],
        &["trace"],
        &["report", "--out", "report.html"],
        &["plan"],
    ] {
        printed.push(run(args, &wrong));
    }
    let all = printed.join("\n");
    // The transport's own events were printed too.
    assert!(all.contains("trace-event") && all.contains(" h2"), "{all}");
    for secret in [
        "header-secret-5e1f",
        "file-token-secret-9b2c",
        "env-header-secret-7d3a",
        "env-other-secret-1c8e",
        "env-token-secret-4f6b",
    ] {
        assert!(!all.contains(secret), "{secret} was printed:\n{all}");
        for (path, bytes) in files(dir.path(), &token_file) {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} is in {}", path.display());
        }
    }
}
