//! Async stations (`#[station] async fn`, the `tokio` feature): one calls an HTTP server the
//! test starts on 127.0.0.1 and is remembered like any station; a time limit drops its
//! future; it runs on the caller's multi-thread runtime, else on one the run starts.

use crate::support::temp_store;
use axum::Router;
use axum::routing::get;
use choochoo::{Ctx, Runner, Status, station, workflow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Calls of `fetch`'s body.
static FETCHES: AtomicUsize = AtomicUsize::new(0);
/// Set when `hang`'s future is dropped.
static HANG_DROPPED: AtomicBool = AtomicBool::new(false);

/// An HTTP server on 127.0.0.1, on a runtime of its own: `/greeting/{name}` answers at once,
/// `/never` never does. Each counts its requests.
struct Server {
    addr: std::net::SocketAddr,
    greetings: Arc<AtomicUsize>,
    waiting: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

fn server() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let greetings = Arc::new(AtomicUsize::new(0));
    let waiting = Arc::new(AtomicUsize::new(0));
    let (g, w) = (greetings.clone(), waiting.clone());
    let app = Router::new()
        .route(
            "/greeting/{name}",
            get(
                move |axum::extract::Path(name): axum::extract::Path<String>| async move {
                    g.fetch_add(1, Ordering::SeqCst);
                    format!("hello, {name}")
                },
            ),
        )
        .route(
            "/never",
            get(move || async move {
                w.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<String>().await
            }),
        );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    Server {
        addr,
        greetings,
        waiting,
        _runtime: runtime,
    }
}

/// GETs `url` (`http://host:port/path`) over HTTP/1.1 and returns the body of a 200.
async fn http_get(url: &str) -> std::io::Result<String> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid(format!("not an http URL: {url}")))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| invalid(format!("no end of headers in {response:?}")))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(invalid(format!("answered {head:?}")));
    }
    Ok(body.to_owned())
}

/// Fetches `url`, and keeps the body in its directory: the context is used after an await.
#[station]
async fn fetch(
    ctx: &Ctx,
    url: &String,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    FETCHES.fetch_add(1, Ordering::SeqCst);
    let body = http_get(url).await?;
    ctx.log(format!("fetched {} bytes from {url}", body.len()));
    std::fs::write(ctx.output("body.txt")?, &body)?;
    Ok(body)
}

/// Drops this to say its future was dropped.
struct DropGuard;

impl Drop for DropGuard {
    fn drop(&mut self) {
        HANG_DROPPED.store(true, Ordering::SeqCst);
    }
}

/// Waits for an answer that never comes, past its time limit.
#[station(timeout = "300ms")]
async fn hang(url: &String) -> std::io::Result<String> {
    let _guard = DropGuard;
    http_get(url).await
}

/// The name of the thread a task it spawns runs on: a worker of the runtime it is driven on.
#[station]
async fn runtime_thread(tag: &u64) -> String {
    let _ = tag;
    let name = tokio::spawn(async { std::thread::current().name().map(str::to_owned) });
    name.await.unwrap().unwrap_or_default()
}

workflow! {
    fn greeting(url: String) -> String {
        fetch(url)
    }
}

workflow! {
    fn hanging(url: String) -> String {
        hang(url)
    }
}

workflow! {
    fn thread_of(tag: u64) -> String {
        runtime_thread(tag)
    }
}

#[test]
fn an_async_station_calls_an_http_server_and_is_remembered() {
    let server = server();
    let tmp = temp_store();
    let url = format!("http://{}/greeting/choochoo", server.addr);
    let before = FETCHES.load(Ordering::SeqCst);

    let run = Runner::new(&tmp.store).run(greeting(url.clone())).unwrap();
    assert_eq!(run.output(), "hello, choochoo");
    assert_eq!(run.report().count(Status::Ran), 1);
    assert_eq!(server.greetings.load(Ordering::SeqCst), 1);
    let kept = tmp
        .store
        .dir()
        .join("work/default/greeting.output/body.txt");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "hello, choochoo");

    // The same URL again: remembered, neither the body nor the server is called.
    let again = Runner::new(&tmp.store).run(greeting(url)).unwrap();
    assert_eq!(again.output(), "hello, choochoo");
    assert_eq!(again.report().count(Status::Cached), 1);
    assert_eq!(FETCHES.load(Ordering::SeqCst) - before, 1);
    assert_eq!(server.greetings.load(Ordering::SeqCst), 1);

    // Another input: it runs again.
    let other = format!("http://{}/greeting/tokio", server.addr);
    let run = Runner::new(&tmp.store).run(greeting(other)).unwrap();
    assert_eq!(run.output(), "hello, tokio");
    assert_eq!(server.greetings.load(Ordering::SeqCst), 2);
}

#[test]
fn a_time_limit_drops_an_async_stations_future() {
    let server = server();
    let tmp = temp_store();
    let url = format!("http://{}/never", server.addr);
    let started = Instant::now();
    let error = Runner::new(&tmp.store).run(hanging(url)).unwrap_err();
    let entry = &error.report().unwrap().entries()[0];
    assert_eq!(entry.status(), Status::Failed);
    assert_eq!(entry.error(), Some("timed out after 300ms"));
    // Its request reached the server, and its future was dropped by the time the run ended:
    // cancelled, not left waiting on a thread of its own.
    assert_eq!(server.waiting.load(Ordering::SeqCst), 1);
    assert!(
        HANG_DROPPED.load(Ordering::SeqCst),
        "the future was not dropped"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_async_station_runs_on_the_callers_multi_thread_runtime_else_on_the_runs_own() {
    let tmp = temp_store();
    let runner = Runner::new(&tmp.store);
    let alone = runner.run(thread_of(1)).unwrap().into_output();
    assert_eq!(alone, "choochoo-tokio");

    let caller = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("caller-worker")
        .enable_all()
        .build()
        .unwrap();
    let inside = caller.block_on(async { runner.run(thread_of(2)) });
    assert_eq!(inside.unwrap().into_output(), "caller-worker");

    // A current-thread runtime cannot drive a station while its thread waits for the run.
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inside = current.block_on(async { runner.run(thread_of(3)) });
    assert_eq!(inside.unwrap().into_output(), "choochoo-tokio");
}
