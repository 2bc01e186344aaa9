//! The command line's `serve`, and the workflow program the dashboard's tests run as
//! another process: this test binary, asked to run only [`program`], with the gated
//! workflow of `serve.rs` behind `choochoo::cli`.

use crate::http;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

/// The arguments of the child program, as JSON.
const ARGS: &str = "CHOOCHOO_TEST_SERVE_ARGS";
/// The directory its stations wait for their gates in (none: they do not wait).
const GATES: &str = "CHOOCHOO_TEST_SERVE_GATES";

/// The workflow program: a one-line `main` over the gated workflow.
#[test]
#[ignore = "the program the serve tests run as a child process"]
fn program() {
    let Ok(args) = std::env::var(ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("the arguments as JSON");
    let gates = std::env::var(GATES).unwrap_or_default();
    let code = choochoo::cli::main_with_args(args, || crate::serve::gated(&gates));
    let code = (0..=u8::MAX)
        .find(|n| ExitCode::from(*n) == code)
        .unwrap_or(101);
    std::process::exit(i32::from(code));
}

/// Starts the program in `dir` with `args`, its stations waiting in `gates` (if not empty),
/// its standard output piped.
pub(crate) fn spawn(dir: &Path, args: &[&str], gates: &str) -> Child {
    let mut argv = vec!["gated"];
    argv.extend_from_slice(args);
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "serve_cli::program",
            "--ignored",
            "--nocapture",
            "-q",
        ])
        .env(ARGS, serde_json::to_string(&argv).unwrap())
        .env(GATES, gates)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the program")
}

/// Waits for the program to end; its exit code, output and errors.
pub(crate) fn finish(child: Child) -> (i32, String, String) {
    let output = child.wait_with_output().expect("wait for the program");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The address `serve` says it serves at, from its first lines.
fn served_at(child: &mut Child) -> SocketAddr {
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://") {
                let addr = line[at + 7..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let _ = tx.send(addr);
                return;
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve says where it serves within a minute");
    addr.parse()
        .unwrap_or_else(|_| panic!("not an address: {addr}"))
}

#[test]
fn serve_serves_the_store_with_the_workflow_s_graph_read_only() {
    let site = tempfile::tempdir().unwrap();
    let missing = spawn(site.path(), &["serve", "--addr", "127.0.0.1:0"], "");
    let (code, _, stderr) = finish(missing);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("there is no store in .choochoo; run the workflow first"),
        "{stderr}"
    );

    let (code, stdout, stderr) = finish(spawn(site.path(), &["run"], ""));
    assert_eq!(code, 1, "the hostile station fails\n{stdout}\n{stderr}");
    let mut serving = spawn(site.path(), &["serve", "--addr", "127.0.0.1:0"], "");
    let addr = served_at(&mut serving);
    let run = http::get(addr, "/runs/1");
    assert_eq!(run.status, 200, "{}", run.body);
    // The graph comes from the program's workflow, coloured by the run.
    assert!(
        run.body
            .contains("class=\"station failed\" data-node=\"hostile\""),
        "{}",
        run.body
    );
    assert!(
        run.body
            .contains("class=\"station ran\" data-node=\"third\""),
        "{}",
        run.body
    );
    let refused = http::post_form(addr, "/defects/1/notes", "kind=remedy&text=x", &[]);
    assert_eq!(refused.status, 403, "read-only unless --allow-writes");
    serving.kill().unwrap();
    serving.wait().unwrap();
}
