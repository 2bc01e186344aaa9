//! The deployment from the talk that started choochoo, end to end, with nothing outside this
//! machine: Upload App → Create DB → Download App → Link App to DB → Run App → Allocate Domain
//! → Attach Domain → Notify Completion.
//!
//! `cargo run --release --example demo -- run` (then `plan`, `status`, `clean`, `graph`, …)
//!
//! Every station does real local work: the artifact server is an HTTP server this program
//! starts on 127.0.0.1, the database is a SQLite file, the app is a child process serving
//! HTTP on another loopback port, the domain lives in a hosts-style file, and the
//! notification is a line in a log. Effectful stations have a check and a clean.
//!
//! Settings (environment): `DEMO_DIR` (default `/tmp/choochoo/demo`), `DEMO_APP_SIZE`
//! (`514KB`, the default, or `5MB`), `DEMO_FAIL_AT=<station>` (that station fails once).

use choochoo::{Checked, Ctx, File, station, workflow};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

type Error = Box<dyn std::error::Error + Send + Sync>;

// ---------------------------------------------------------------------------------------
// The stations, in the order of the talk.

/// An artifact on the artifact server.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Upload {
    name: String,
    sha: String,
    size: u64,
}

/// 📤 Upload App: puts app.zip on the artifact server, reporting bytes sent.
#[station(name = "📤 Upload App", check = uploaded, clean = delete_upload)]
fn upload_app(ctx: &Ctx, app: &File) -> Result<Upload, Error> {
    fail_once_if_asked("upload_app")?;
    let bytes = std::fs::read(app.path())?;
    let upload = Upload {
        name: "app.zip".into(),
        sha: sha(&bytes),
        size: bytes.len() as u64,
    };
    ctx.log(format!(
        "uploading {} bytes to {}",
        bytes.len(),
        server().url()
    ));
    http_put(&format!("/artifacts/{}", upload.name), &bytes, |sent| {
        ctx.progress_bytes(sent, Some(upload.size))
    })?;
    Ok(upload)
}

fn uploaded(_app: &File, upload: &Upload) -> Result<bool, Error> {
    Ok(http_get(&format!("/artifacts/{}", upload.name), |_| ())?
        .is_some_and(|bytes| sha(&bytes) == upload.sha))
}

fn delete_upload(_app: &File, upload: &Upload) -> Result<(), Error> {
    remove_if_there(&state().join("artifacts").join(&upload.name))
}

/// A database the app uses.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Database {
    path: PathBuf,
}

/// 🛢️ Create DB: a real SQLite database with the app's table.
#[station(name = "🛢️ Create DB", check = database_ready, clean = drop_database)]
fn create_db(name: &str) -> Result<Database, Error> {
    fail_once_if_asked("create_db")?;
    let path = state().join(format!("{name}.sqlite"));
    let db = rusqlite::Connection::open(&path)?;
    db.execute_batch("CREATE TABLE IF NOT EXISTS visits (at TEXT NOT NULL, path TEXT NOT NULL)")?;
    Ok(Database { path })
}

/// Only looks: a check must not change the world (`plan --check` asks it too).
fn database_ready(_name: &str, db: &Database) -> Result<Checked, Error> {
    if !db.path.exists() {
        let missing = format!("database {} is missing", db.path.display());
        return Ok(Checked::drifted(missing));
    }
    let conn = rusqlite::Connection::open_with_flags(
        &db.path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'visits'",
        [],
        |row| row.get(0),
    )?;
    Ok(match tables {
        1 => Checked::Holds,
        _ => Checked::drifted("the database has no `visits` table"),
    })
}

fn drop_database(_name: &str, db: &Database) -> Result<(), Error> {
    remove_if_there(&db.path)
}

/// 📥 Download App: fetches the uploaded artifact into this station's own directory.
#[station(name = "📥 Download App")]
fn download_app(ctx: &Ctx, upload: &Upload) -> Result<File, Error> {
    fail_once_if_asked("download_app")?;
    let bytes = http_get(&format!("/artifacts/{}", upload.name), |got| {
        ctx.progress_bytes(got, Some(upload.size))
    })?
    .ok_or("the artifact server does not have the app")?;
    if sha(&bytes) != upload.sha {
        return Err("the downloaded app does not match the upload".into());
    }
    let path = ctx.out_dir().join("app.zip");
    std::fs::write(&path, bytes)?;
    Ok(File::new(path))
}

/// 🔌 Link App to DB: the app's configuration, naming the app and its database.
#[station(name = "🔌 Link App to DB")]
fn link_app(ctx: &Ctx, app: &File, db: &Database) -> Result<File, Error> {
    fail_once_if_asked("link_app")?;
    let path = ctx.out_dir().join("app.conf");
    let app_sha = sha(&std::fs::read(app.path())?);
    std::fs::write(
        &path,
        format!(
            "app={}\napp_sha={app_sha}\ndatabase={}\n",
            app.path().display(),
            db.path.display()
        ),
    )?;
    Ok(File::new(path))
}

/// The running app.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Running {
    pid: u32,
    port: u16,
}

/// 💽 Run App: starts the app as a child process serving HTTP on a loopback port.
#[station(name = "💽 Run App", check = app_answers, clean = stop_app)]
fn run_app(ctx: &Ctx, config: &File) -> Result<Running, Error> {
    fail_once_if_asked("run_app")?;
    // One app at a time: a new configuration replaces the running app.
    stop_pid_in(&state().join("app.pid"))?;
    let port_file = ctx.out_dir().join("port");
    remove_if_there(&port_file)?;
    // The app outlives this run: a daemon, in a session of its own, its output in a file.
    let pid = ctx
        .command(std::env::current_exe()?)
        .env(APP_ENV, config.path())
        .env("DEMO_PORT_FILE", &port_file)
        .daemon(ctx.out_dir().join("app.log"))?;
    std::fs::write(state().join("app.pid"), pid.to_string())?;
    for _ in 0..500 {
        let port = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|text| text.trim().parse::<u16>().ok());
        if let Some(port) = port {
            let running = Running { pid, port };
            ctx.log(format!(
                "app started: pid {} on 127.0.0.1:{port}",
                running.pid
            ));
            return Ok(running);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err("the app did not start listening within 5 s".into())
}

/// Stops the process whose pid a file names, if it is still there, and removes the file.
fn stop_pid_in(pid_file: &Path) -> Result<(), Error> {
    if let Ok(pid) = std::fs::read_to_string(pid_file) {
        let _ = std::process::Command::new("kill")
            .arg(pid.trim())
            .stderr(std::process::Stdio::null())
            .status();
    }
    remove_if_there(pid_file)
}

fn app_answers(_config: &File, app: &Running) -> Checked {
    match get_from(app.port, "/") {
        Ok(body) if body.starts_with("app ") => Checked::Holds,
        Ok(_) => Checked::drifted(format!("another program answers on port {}", app.port)),
        Err(error) => Checked::drifted(format!(
            "the app (pid {}) does not answer: {error}",
            app.pid
        )),
    }
}

fn stop_app(_config: &File, _app: &Running) -> Result<(), Error> {
    stop_pid_in(&state().join("app.pid"))
}

/// A domain in the hosts file.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Domain {
    name: String,
}

/// 📫 Allocate Domain: a line in the demo's hosts file.
#[station(name = "📫 Allocate Domain", check = domain_allocated, clean = free_domain)]
fn allocate_domain(ctx: &Ctx, name: &str) -> Result<Domain, Error> {
    fail_once_if_asked("allocate_domain")?;
    let domain = Domain {
        name: format!("{name}.demo.local"),
    };
    append_line(
        &state().join("hosts"),
        &format!("127.0.0.1 {}", domain.name),
    )?;
    std::fs::write(ctx.out_dir().join("domain.txt"), &domain.name)?;
    Ok(domain)
}

fn domain_allocated(_name: &str, domain: &Domain) -> bool {
    has_line(
        &state().join("hosts"),
        &format!("127.0.0.1 {}", domain.name),
    )
}

fn free_domain(_name: &str, domain: &Domain) -> Result<(), Error> {
    remove_line(
        &state().join("hosts"),
        &format!("127.0.0.1 {}", domain.name),
    )
}

/// A route from a domain to the app.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Route {
    line: String,
}

/// 📪 Attach Domain: routes the domain to the running app.
#[station(name = "📪 Attach Domain", check = route_exists, clean = detach_domain)]
fn attach_domain(ctx: &Ctx, domain: &Domain, app: &Running) -> Result<Route, Error> {
    fail_once_if_asked("attach_domain")?;
    let route = Route {
        line: format!("{} -> 127.0.0.1:{}", domain.name, app.port),
    };
    // A domain routes to one place: attaching it again replaces the old route.
    let routes = state().join("routes");
    remove_lines_starting(&routes, &format!("{} -> ", domain.name))?;
    append_line(&routes, &route.line)?;
    std::fs::write(ctx.out_dir().join("route.txt"), &route.line)?;
    Ok(route)
}

fn route_exists(_domain: &Domain, _app: &Running, route: &Route) -> bool {
    has_line(&state().join("routes"), &route.line)
}

fn detach_domain(_domain: &Domain, _app: &Running, route: &Route) -> Result<(), Error> {
    remove_line(&state().join("routes"), &route.line)
}

/// 📣 Notify Completion: a line in the notifications log.
#[station(name = "📣 Notify Completion", check = notified, clean = retract_notice)]
fn notify(ctx: &Ctx, route: &Route) -> Result<String, Error> {
    fail_once_if_asked("notify")?;
    let notice = format!("deployed: {}", route.line);
    append_line(&state().join("notifications.log"), &notice)?;
    std::fs::write(ctx.out_dir().join("notice.txt"), &notice)?;
    Ok(notice)
}

fn notified(_route: &Route, notice: &str) -> bool {
    has_line(&state().join("notifications.log"), notice)
}

fn retract_notice(_route: &Route, notice: &str) -> Result<(), Error> {
    remove_line(&state().join("notifications.log"), notice)
}

workflow! {
    /// The talk's deployment: eight stations, from uploading the app to telling people.
    pub fn deploy(app: File, name: String) -> String {
        let upload = upload_app(app);
        let db = create_db(name);
        let download = download_app(upload);
        let config = link_app(download, db);
        let running = run_app(config);
        let domain = allocate_domain(name);
        let route = attach_domain(domain, running);
        let notified = notify(route);
        notified
    }
}

// ---------------------------------------------------------------------------------------
// The program: the app's own server mode, the artifact server, then the CLI.

const APP_ENV: &str = "CHOOCHOO_DEMO_APP";

fn main() -> std::process::ExitCode {
    if let Some(config) = std::env::var_os(APP_ENV) {
        return serve_app(Path::new(&config));
    }
    if let Err(error) = prepare() {
        eprintln!("demo: {error}");
        return std::process::ExitCode::from(2);
    }
    let app = File::new(state().join("app.zip"));
    // The store lives with the rest of the demo's state unless `--store` says otherwise.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if !args
        .iter()
        .any(|arg| arg.to_string_lossy().starts_with("--store"))
    {
        args.splice(
            1..1,
            ["--store".into(), state().join("store").into_os_string()],
        );
    }
    choochoo::cli::main_with_args(args, move || deploy(app.clone(), "shop".to_owned()))
}

/// The demo's state directory, the app.zip and the artifact server.
fn prepare() -> Result<(), Error> {
    std::fs::create_dir_all(state().join("artifacts"))?;
    let app = state().join("app.zip");
    if !app.exists() {
        generate_app(&app)?;
    }
    server();
    Ok(())
}

/// Where everything the demo creates lives.
fn state() -> &'static Path {
    static STATE: OnceLock<PathBuf> = OnceLock::new();
    STATE.get_or_init(|| {
        std::env::var_os("DEMO_DIR")
            .map_or_else(|| PathBuf::from("/tmp/choochoo/demo"), PathBuf::from)
    })
}

/// The talk's app.zip: `for i in {1..N}; do printf "application contents $i"; done | gzip`.
fn generate_app(path: &Path) -> Result<(), Error> {
    let count = match std::env::var("DEMO_APP_SIZE").as_deref() {
        Ok("5MB") => 2_000_000,
        Ok("514KB") | Err(_) => 200_000,
        Ok(other) => return Err(format!("DEMO_APP_SIZE is 514KB or 5MB, not {other}").into()),
    };
    let mut text = Vec::with_capacity(count * 28);
    for i in 1..=count {
        write!(text, "application contents {i}")?;
    }
    let mut gzip = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run gzip to make {}: {error}", path.display()))?;
    let mut stdin = gzip.stdin.take().ok_or("gzip has no stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(&text));
    let output = gzip.wait_with_output()?;
    writer.join().map_err(|_| "gzip writer panicked")??;
    std::fs::write(path, output.stdout)?;
    Ok(())
}

/// `DEMO_FAIL_AT=<station>` makes that station fail once (a marker file remembers it did).
fn fail_once_if_asked(station: &str) -> Result<(), Error> {
    if std::env::var("DEMO_FAIL_AT").as_deref() != Ok(station) {
        return Ok(());
    }
    let marker = state().join(format!("failed-once-{station}"));
    if marker.exists() {
        return Ok(());
    }
    std::fs::write(&marker, "")?;
    Err(format!("{station}: injected failure (DEMO_FAIL_AT); run again to resume").into())
}

// ---------------------------------------------------------------------------------------
// The artifact server: a tiny HTTP/1.0 server for PUT and GET of files, on 127.0.0.1.

struct Server {
    port: u16,
}

impl Server {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind the artifact server on 127.0.0.1");
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve_artifact(stream);
                });
            }
        });
        Server { port }
    })
}

fn serve_artifact(mut stream: TcpStream) -> std::io::Result<()> {
    let (method, path, body) = read_request(&mut stream)?;
    let name = path
        .strip_prefix("/artifacts/")
        .filter(|n| !n.contains('/') && !n.contains("..") && !n.is_empty());
    let Some(name) = name else {
        return respond(&mut stream, 404, b"");
    };
    let file = state().join("artifacts").join(name);
    match method.as_str() {
        "PUT" => {
            std::fs::write(&file, body)?;
            respond(&mut stream, 201, b"")
        }
        "GET" => match std::fs::read(&file) {
            Ok(bytes) => respond(&mut stream, 200, &bytes),
            Err(_) => respond(&mut stream, 404, b""),
        },
        _ => respond(&mut stream, 405, b""),
    }
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((key, value)) = header.split_once(':')
            && key.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((method, path, body))
}

fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.0 {status} X\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)
}

/// PUTs `bytes`, calling `sent` as chunks go out.
fn http_put(path: &str, bytes: &[u8], sent: impl Fn(u64)) -> Result<(), Error> {
    let mut stream = TcpStream::connect(("127.0.0.1", server().port))?;
    write!(
        stream,
        "PUT {path} HTTP/1.0\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    )?;
    let mut done = 0;
    for chunk in bytes.chunks(64 * 1024) {
        stream.write_all(chunk)?;
        done += chunk.len() as u64;
        sent(done);
    }
    let (status, _) = read_response(stream, |_| ())?;
    if status == 201 {
        Ok(())
    } else {
        Err(format!("the artifact server answered {status}").into())
    }
}

/// GETs a path from the artifact server; `None` for 404.
fn http_get(path: &str, got: impl Fn(u64)) -> Result<Option<Vec<u8>>, Error> {
    let mut stream = TcpStream::connect(("127.0.0.1", server().port))?;
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n")?;
    match read_response(stream, got)? {
        (200, body) => Ok(Some(body)),
        (404, _) => Ok(None),
        (status, _) => Err(format!("the artifact server answered {status}").into()),
    }
}

fn read_response(stream: TcpStream, got: impl Fn(u64)) -> Result<(u16, Vec<u8>), Error> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("a malformed HTTP response")?;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
    }
    let mut body = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        got(body.len() as u64);
    }
    Ok((status, body))
}

// ---------------------------------------------------------------------------------------
// The app: what `Run App` starts, a child process serving HTTP on a loopback port.

fn serve_app(config: &Path) -> std::process::ExitCode {
    let Ok(text) = std::fs::read_to_string(config) else {
        return std::process::ExitCode::from(2);
    };
    let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
        return std::process::ExitCode::from(2);
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    if let Some(port_file) = std::env::var_os("DEMO_PORT_FILE") {
        let _ = std::fs::write(port_file, port.to_string());
    }
    let summary = format!(
        "app {}",
        text.lines()
            .find(|l| l.starts_with("app_sha="))
            .unwrap_or("app_sha=?")
    );
    for mut stream in listener.incoming().flatten() {
        let _ =
            read_request(&mut stream).and_then(|_| respond(&mut stream, 200, summary.as_bytes()));
    }
    std::process::ExitCode::SUCCESS
}

fn get_from(port: u16, path: &str) -> Result<String, Error> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n")?;
    let (status, body) = read_response(stream, |_| ())?;
    if status == 200 {
        Ok(String::from_utf8_lossy(&body).into_owned())
    } else {
        Err(format!("status {status}").into())
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers.

fn sha(bytes: &[u8]) -> String {
    choochoo::Digest::of(bytes).to_hex()[..16].to_owned()
}

fn remove_if_there(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

fn append_line(file: &Path, line: &str) -> Result<(), Error> {
    if !has_line(file, line) {
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn has_line(file: &Path, line: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| text.lines().any(|l| l == line))
}

fn remove_lines_starting(file: &Path, prefix: &str) -> Result<(), Error> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with(prefix))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(file, kept)?;
    Ok(())
}

fn remove_line(file: &Path, line: &str) -> Result<(), Error> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| *l != line)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(file, kept)?;
    Ok(())
}
