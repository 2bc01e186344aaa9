//! Secret inputs: a `Secret` is part of its stations' keys and is written nowhere. A deploy
//! whose password two of its three stations read runs, fails, is planned, reported, traced
//! and its defect exported, from the library and from the command line (a child process:
//! this test binary, asked to run only [`program`]); then every file under the store, every
//! file written, and everything printed are searched for the password's bytes. Rotating the
//! password runs exactly its two stations again, each saying why.

use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Action, Diagram, ExportFormat, Graph, Runner, Secret, Status, station, workflow};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// The arguments of the child program, as JSON.
const ARGS: &str = "CHOOCHOO_TEST_SECRETS_ARGS";
/// The password of the child program.
const PASSWORD: &str = "CHOOCHOO_TEST_DB_PASSWORD";
/// Set, the child program's migration fails.
const FAIL_ENV: &str = "CHOOCHOO_TEST_SECRETS_FAIL";

/// Makes `migrate` fail, in this process.
static FAIL: AtomicBool = AtomicBool::new(false);

/// Migrates the schema with the password; fails when asked, without saying the password.
#[station]
fn migrate(schema: &str, db_password: &Secret<String>) -> Result<u64, std::io::Error> {
    executed("migrate");
    if FAIL.load(Ordering::SeqCst) || std::env::var_os(FAIL_ENV).is_some() {
        return Err(std::io::Error::other(
            "the database refused the migration of schema shop",
        ));
    }
    assert!(db_password.expose().starts_with("pw-"));
    Ok(schema.len() as u64)
}

/// Seeds the tables with the password.
#[station]
fn seed(tables: &u64, db_password: &Secret<String>) -> String {
    executed("seed");
    format!(
        "{tables} tables seeded, password of {} bytes",
        db_password.expose().len()
    )
}

/// Writes the manual; no password needed.
#[station]
fn docs(schema: &str) -> String {
    executed("docs");
    format!("the manual of {schema}")
}

workflow! {
    /// Migrates and seeds a database, and writes its manual.
    pub fn deploy(schema: String, db_password: Secret<String>) -> (String, String) {
        let tables = migrate(schema, db_password);
        let seeded = seed(tables, db_password);
        let manual = docs(schema);
        (seeded, manual)
    }
}

/// A password no other test uses, the same length each time.
fn password(n: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("pw-{n}-{:010}-{:09}-rotate-me", std::process::id(), nanos)
}

/// Every file under `dir`, by path, with its bytes.
pub fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.push((std::fs::read(&path).unwrap(), path));
            }
        }
    }
    found
        .into_iter()
        .map(|(bytes, path)| (path, bytes))
        .collect()
}

/// Fails if any of `secrets` is in a file under `dir` or in `printed`; returns how many
/// files were searched.
pub fn assert_nowhere(secrets: &[String], dirs: &[&Path], printed: &str) -> usize {
    let mut searched = 0;
    for dir in dirs {
        for (path, bytes) in files(dir) {
            searched += 1;
            for secret in secrets {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{secret} is in {}", path.display());
            }
        }
    }
    for secret in secrets {
        assert!(
            !printed.contains(secret.as_str()),
            "{secret} was printed:\n{printed}"
        );
    }
    searched
}

fn reasons(report: &choochoo::Report) -> Vec<(String, Status, Option<String>)> {
    report
        .entries()
        .iter()
        .map(|e| {
            let station = e.id().rsplit("::").next().unwrap().to_owned();
            (station, e.status(), e.reason().map(str::to_owned))
        })
        .collect()
}

#[test]
fn a_secret_is_in_the_key_and_nowhere_else() {
    let _serial = serial();
    let store = temp_store();
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(&store.store);
    let (first, second, third) = (password(1), password(2), password(3));
    let workflow = |password: &str| deploy("shop".to_owned(), Secret::new(password.to_owned()));
    let mut printed = String::new();

    let run = runner.run(workflow(&first)).unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("migrate", 1), ("seed", 1), ("docs", 1)])
    );
    printed += &format!("{}\n{:?}\n{:?}\n", run.report(), run.report(), run.output());
    runner.run(workflow(&first)).unwrap();
    assert_eq!(take_executions(), counts(&[]), "the same secret is a hit");

    // A plan names the secret that changed, and no value.
    let plan = runner.plan(workflow(&second)).unwrap();
    let planned: Vec<_> = plan
        .entries()
        .iter()
        .map(|e| (e.action(), e.reason().map(str::to_owned)))
        .collect();
    let changed = Some("secret `db_password` changed".to_owned());
    assert_eq!(planned[0], (Action::Run, changed.clone()), "{plan}");
    assert_eq!(planned[2], (Action::Cached, None), "{plan}");
    printed += &format!("{plan}\n{plan:?}\n");

    // Rotated: exactly the two stations that read it run, each because of it.
    let run = runner.run(workflow(&second)).unwrap();
    assert_eq!(take_executions(), counts(&[("migrate", 1), ("seed", 1)]));
    let expected = [
        ("migrate".to_owned(), Status::Ran, changed.clone()),
        ("seed".to_owned(), Status::Ran, changed.clone()),
        ("docs".to_owned(), Status::Cached, None),
    ];
    assert_eq!(reasons(run.report()), expected);
    printed += &format!("{}\n{:?}\n", run.report(), run.report());

    // A failure with a third password: observed, blocked, exported.
    FAIL.store(true, Ordering::SeqCst);
    let error = runner.run(workflow(&third)).unwrap_err();
    FAIL.store(false, Ordering::SeqCst);
    assert_eq!(take_executions(), counts(&[("migrate", 1)]));
    let failed = error.report().unwrap();
    let statuses: Vec<Status> = failed.entries().iter().map(|e| e.status()).collect();
    assert_eq!(statuses, [Status::Failed, Status::Blocked, Status::Cached]);
    printed += &format!("{error}\n{error:?}\n{failed}\n");
    let defects = store.store.defects().unwrap();
    assert_eq!(defects.len(), 1);
    for format in [ExportFormat::Markdown, ExportFormat::Json] {
        printed += &store.store.export(defects[0].id(), format).unwrap();
    }
    let observations = store.store.observations(defects[0].id()).unwrap();
    let values = observations[0].input_values();
    assert!(
        values.iter().any(|(_, value)| value == "\"<secret>\""),
        "the secret is shown as a mark among the observation's inputs: {values:?}"
    );
    printed += &format!("{observations:?}\n{:?}\n", defects[0]);

    // The report, its trace and its page, and a picture of the graph with its inputs.
    let report = store.store.report(None).unwrap().unwrap();
    let diagram = Diagram::of(workflow(&third)).unwrap();
    let html = report.html(&store.store, &diagram).unwrap();
    std::fs::write(out.path().join("report.html"), &html).unwrap();
    std::fs::write(out.path().join("trace.json"), report.chrome_trace()).unwrap();
    printed += &format!(
        "{}\n{}\n{}\n",
        diagram.dot(),
        diagram.mermaid(),
        diagram.svg()
    );

    let secrets = [first, second, third];
    let searched = assert_nowhere(&secrets, &[store.store.dir(), out.path()], &printed);
    assert!(searched > 5, "only {searched} files were searched");
    assert!(store.store.dir().join("secret.key").exists());
}

/// Hands out a secret; its output cannot be stored.
#[station]
fn leak(password: &Secret<String>) -> Vec<Secret<String>> {
    vec![password.clone()]
}

#[test]
fn a_station_returning_a_secret_fails_instead_of_storing_it() {
    let store = temp_store();
    let mut graph = Graph::new();
    let secret = password(4);
    let password = graph.input_named("password", Secret::new(secret.clone()));
    let leaked = graph.add(Leak, (&password,));
    let error = Runner::new(&store.store)
        .run_graph(&graph, leaked)
        .unwrap_err();
    let entry = &error.report().unwrap().entries()[0];
    assert_eq!(entry.status(), Status::Failed);
    let message = entry.error().unwrap();
    assert!(
        message.contains("its output cannot be stored")
            && message.contains("a `Secret` is never stored or sent"),
        "{message}"
    );
    assert_nowhere(&[secret], &[store.store.dir()], &format!("{error:?}"));
}

/// Connects to one host with the password.
#[station]
fn connect(host: &str, password: &Secret<String>) -> String {
    executed("connect");
    format!("{host}: {} bytes", password.expose().len())
}

/// Counts the keys it is given (a fan-in of secrets).
#[station]
fn keyring(keys: &Vec<Secret<String>>) -> usize {
    executed("keyring");
    keys.iter()
        .filter(|key| key.expose().starts_with("pw-"))
        .count()
}

/// A builder graph: a named secret shared by a map's items, and two secrets fanned in.
fn builder(secret: &str, keys: [&str; 2]) -> (Graph, choochoo::Node<(Vec<String>, usize)>) {
    let mut graph = Graph::new();
    let password = graph.input_named("db_password", Secret::new(secret.to_owned()));
    let hosts = graph.input(vec!["alpha".to_owned(), "beta".to_owned()]);
    let connected = graph.map_named("connect", Connect, &hosts, (&password,));
    let keys: Vec<_> = keys
        .iter()
        .map(|key| graph.input(Secret::new((*key).to_owned())))
        .collect();
    let counted = graph.add_named("keyring", Keyring, (&keys,));
    let both = graph.add(Both, (&connected, &counted));
    (graph, both)
}

/// Joins the two.
#[station]
fn both(connected: &Vec<String>, counted: &usize) -> (Vec<String>, usize) {
    (connected.clone(), *counted)
}

#[test]
fn a_secret_in_a_map_or_a_builder_graph_works_the_same() {
    let _serial = serial();
    let store = temp_store();
    let runner = Runner::new(&store.store);
    let (shared, one, two, rotated) = (password(5), password(6), password(7), password(8));
    let (graph, out) = builder(&shared, [&one, &two]);
    let run = runner.run_graph(&graph, out).unwrap();
    assert_eq!(run.output().1, 2);
    assert_eq!(take_executions(), counts(&[("connect", 2), ("keyring", 1)]));
    let (graph, out) = builder(&shared, [&one, &two]);
    runner.run_graph(&graph, out).unwrap();
    assert_eq!(take_executions(), counts(&[]));

    // The map's shared secret rotated: both items run, for that reason; the keyring not.
    let (graph, out) = builder(&rotated, [&one, &two]);
    let run = runner.run_graph(&graph, out).unwrap();
    assert_eq!(take_executions(), counts(&[("connect", 2)]));
    let items: Vec<_> = run
        .report()
        .entries()
        .iter()
        .filter(|e| e.node().starts_with("connect["))
        .map(|e| (e.status(), e.reason()))
        .collect();
    let because = Some("secret `password` changed");
    assert_eq!(items, [(Status::Ran, because), (Status::Ran, because)]);

    // One of the fanned-in secrets rotated: only the keyring runs.
    let (graph, out) = builder(&rotated, [&one, &shared]);
    let run = runner.run_graph(&graph, out).unwrap();
    assert_eq!(take_executions(), counts(&[("keyring", 1)]));
    assert_eq!(run.output().1, 2);
    let printed = format!("{}\n{:?}", run.report(), run.report());
    assert_nowhere(&[shared, one, two, rotated], &[store.store.dir()], &printed);
}

#[test]
fn a_missing_secret_variable_is_named() {
    let error = Secret::from_env("CHOOCHOO_TEST_SECRETS_UNSET").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the secret's environment variable `CHOOCHOO_TEST_SECRETS_UNSET` is not set; set it \
         to the secret"
    );
}

/// The workflow program the command-line test runs: the deploy, its password from the
/// environment.
#[test]
#[ignore = "the program the secrets test runs as a child process"]
fn program() {
    let Ok(args) = std::env::var(ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("the arguments as JSON");
    let code = choochoo::cli::main_with_args(args, || {
        deploy(
            "shop".to_owned(),
            Secret::from_env(PASSWORD).expect("the password"),
        )
    });
    let code = (0..=u8::MAX)
        .find(|n| ExitCode::from(*n) == code)
        .unwrap_or(101);
    std::process::exit(i32::from(code));
}

/// Runs the program in `dir` with `args` and `env`; how it exited and what it printed.
pub fn cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut argv = vec!["deploy"];
    argv.extend_from_slice(args);
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "secrets::program",
            "--ignored",
            "--nocapture",
            "-q",
        ])
        .env(ARGS, serde_json::to_string(&argv).unwrap())
        .env("RUST_LOG", "trace")
        .env_remove(FAIL_ENV)
        .env_remove("CHOOCHOO_SECRET_KEY")
        .current_dir(dir)
        .stdin(Stdio::null());
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), printed)
}

#[test]
fn the_command_line_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second, third) = (password(9), password(10), password(11));
    let mut printed = String::new();
    let mut expect = |code: i32, args: &[&str], secret: &str, fail: bool| {
        let mut env = vec![(PASSWORD, secret)];
        if fail {
            env.push((FAIL_ENV, "1"));
        }
        let (got, text) = cli(dir.path(), args, &env);
        assert_eq!(got, code, "{args:?}:\n{text}");
        printed += &text;
        text
    };
    expect(0, &["run", "--verbose"], &first, false);
    let plan = expect(0, &["plan"], &second, false);
    assert!(plan.contains("secret `db_password` changed"), "{plan}");
    let run = expect(0, &["run", "--verbose"], &second, false);
    assert_eq!(
        run.matches("secret `db_password` changed").count(),
        2,
        "{run}"
    );
    // Back to the first password: its results are still there.
    let again = expect(0, &["run", "--verbose"], &first, false);
    assert!(!again.contains("changed"), "{again}");
    let failed = expect(1, &["run", "--verbose"], &third, true);
    assert!(
        failed.contains("the database refused the migration"),
        "{failed}"
    );
    for args in [
        &["status"][..],
        &["plan", "--format", "json"],
        &["trace", "--out", "trace.json"],
        &["trace"],
        &["report", "--out", "report.html"],
        &["graph"],
        &["defects"],
        &["defects", "show", "1"],
        &["defects", "export", "1", "--format", "json"],
        &["defects", "export", "1"],
        &["fsck"],
    ] {
        expect(0, args, &second, false);
    }
    let searched = assert_nowhere(&[first, second, third], &[dir.path()], &printed);
    assert!(searched > 5, "only {searched} files were searched");
}
