//! The dashboard over HTTP, as a plain client sees it: every page, hostile text escaped,
//! nothing but the store's data served, and a run in flight streamed; its writes are
//! `serve_writes.rs`.

use crate::http::{self, Events, Response};
use choochoo::serve::{Options, Server};
use choochoo::{Ctx, DefectId, Graph, Node, Runner, Store, station};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The error of the `hostile` station: markup, an event handler, quotes and a terminal
/// escape, which every page must show as text.
pub(crate) const HOSTILE: &str = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> 'quoted' \u{1b}[31mred";

/// Waits for its gate file, when `gates` names a directory, then passes `n` on.
#[station]
fn step(gates: &String, n: &u64) -> u64 {
    if !gates.is_empty() {
        let gate = Path::new(gates).join(format!("gate-{}", n + 1));
        let opened = crate::support::wait_until(Duration::from_secs(120), || gate.exists());
        assert!(
            opened,
            "{} was not opened within two minutes",
            gate.display()
        );
    }
    n + 1
}

/// Logs a hostile line and fails with a hostile error.
#[station]
fn hostile(ctx: &Ctx, n: &u64) -> Result<u64, std::io::Error> {
    ctx.log(format!("about to fail after {n} steps: <b>{HOSTILE}</b>"));
    Err(std::io::Error::other(HOSTILE))
}

/// Fails with a plain error, a defect of its own.
#[station]
fn disk(n: &u64) -> Result<u64, std::io::Error> {
    Err(std::io::Error::other(format!("disk full after {n} steps")))
}

/// Three steps, each waiting for its gate in `gates` (none when empty), then `hostile`.
pub(crate) fn gated(gates: &str) -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let gates = g.input(gates.to_owned());
    let mut n = g.input(0u64);
    for name in ["first", "second", "third"] {
        n = g.add_named(name, Step, (&gates, &n));
    }
    let out = g.add_named("hostile", Hostile, (&n,));
    (g, out)
}

/// A store whose run 1 failed with the hostile error (defect #1), and run 2 with a full
/// disk (defect #2).
pub(crate) fn failed_store(dir: &Path) -> Store {
    let store = Store::open(dir).unwrap();
    let (g, out) = gated("");
    assert!(Runner::new(&store).run_graph(&g, out).is_err());
    let mut g = Graph::new();
    let n = g.input(3u64);
    let out = g.add_named("disk", Disk, (&n,));
    assert!(Runner::new(&store).run_graph(&g, out).is_err());
    store
}

/// A dashboard on a free loopback port over a store made by `failed_store`.
pub(crate) struct Dashboard {
    _dir: tempfile::TempDir,
    pub(crate) store_dir: PathBuf,
    pub(crate) store: Store,
    server: Server,
}

impl Dashboard {
    pub(crate) fn new(writes: bool) -> Dashboard {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join(".choochoo");
        let store = failed_store(&store_dir);
        let server = start(&store_dir, writes);
        Dashboard {
            _dir: dir,
            store_dir,
            store,
            server,
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub(crate) fn get(&self, path: &str) -> Response {
        http::get(self.addr(), path)
    }
}

fn start(store_dir: &Path, writes: bool) -> Server {
    let options = Options::new()
        .addr("127.0.0.1:0".parse().unwrap())
        .allow_writes(writes)
        .watch_every(Duration::from_millis(50));
    choochoo::serve::start(store_dir, options).expect("start the dashboard")
}

/// The forms' token in a page.
pub(crate) fn token(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

pub(crate) fn ok(response: &Response) -> &str {
    assert_eq!(response.status, 200, "{}", response.body);
    &response.body
}

#[test]
fn every_page_answers_with_the_store_s_runs_and_defects() {
    let d = Dashboard::new(false);
    let runs = d.get("/runs");
    assert!(
        ok(&runs).contains("<a href=\"/runs/1\">run 1</a>"),
        "{}",
        runs.body
    );
    assert!(
        runs.body
            .contains("<span class=\"state failed\">failed</span>")
    );
    assert!(runs.body.contains("data-stream=\"/runs/live\""));
    assert!(
        runs.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(d.get("/").status, 303);

    let run = d.get("/runs/1");
    for part in [
        "id=\"timeline\"",
        "id=\"failures\"",
        "data-node=\"hostile\"",
        "id=\"warnings\"",
    ] {
        assert!(ok(&run).contains(part), "{part} in {}", run.body);
    }
    assert!(
        run.body.contains("<a href=\"/defects/1\">#1</a>"),
        "{}",
        run.body
    );
    assert!(
        !run.body.contains("data-stream"),
        "a finished run's page is static"
    );

    let board = d.get("/defects");
    assert!(
        ok(&board).contains("<a href=\"/defects/1\">#1</a>"),
        "{}",
        board.body
    );
    assert!(board.body.contains("<a href=\"/defects/2\">#2</a>"));
    assert!(board.body.contains("<svg class=\"spark\""));
    assert!(
        board.body.contains("data-total=\"1\""),
        "each seen in one run today"
    );
    // Sorted by impact, the hostile one (it blocked nothing) and the disk one alike: both
    // listed, under the header that says how they are sorted.
    let by_impact = d.get("/defects?sort=impact");
    assert!(ok(&by_impact).contains("<th class=\"sorted\">Impact ▾</th>"));

    let defect = d.get("/defects/2");
    assert!(
        ok(&defect).contains("disk full after 3 steps"),
        "{}",
        defect.body
    );
    assert!(defect.body.contains("id=\"observations\""));
    assert!(
        defect.body.contains("id=\"read-only\""),
        "no forms when read-only"
    );
    let ticket = d.get("/defects/2/ticket.md");
    let export = d
        .store
        .export(
            "2".parse::<DefectId>().unwrap(),
            choochoo::ExportFormat::Markdown,
        )
        .unwrap();
    assert_eq!(ok(&ticket), export);
    assert!(
        ticket
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(d.get("/assets/style.css").body.contains("nav.site"));
    assert!(d.get("/assets/app.js").body.contains("EventSource"));

    for missing in ["/runs/9", "/defects/9", "/defects/x", "/nothing"] {
        let page = d.get(missing);
        assert_eq!(page.status, 404, "{missing}: {}", page.body);
    }
}

#[test]
fn hostile_text_is_escaped_on_every_page() {
    let d = Dashboard::new(false);
    let escaped = "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=&quot;\
                   window.__pwned = 2&quot;&gt; &#39;quoted&#39; \\u{1b}[31mred";
    for path in ["/runs/1", "/defects", "/defects/1"] {
        let page = d.get(path);
        assert!(ok(&page).contains(escaped), "{path}: {}", page.body);
        assert!(!page.body.contains("<script>window"), "{path}");
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(
            !page.body.contains('\u{1b}'),
            "{path}: a control character as itself"
        );
    }
    let defect = d.get("/defects/1");
    assert!(
        defect
            .body
            .contains("about to fail after 3 steps: &lt;b&gt;"),
        "the log line"
    );
}

#[test]
fn nothing_but_the_store_s_data_is_served() {
    let d = Dashboard::new(false);
    for path in [
        "/../store.db",
        "/assets/../store.db",
        "/runs/1/../../store.db",
        "/store.db",
        "/blobs",
    ] {
        let page = d.get(path);
        assert_ne!(page.status, 200, "{path}");
        assert!(!page.body.contains("SQLite format"), "{path}");
    }
    let other_host = http::request(d.addr(), "GET", "/runs", &[("Host", "evil.example")], b"");
    assert_eq!(other_host.status, 421, "{}", other_host.body);
    assert!(!other_host.body.contains("run 1"));
}

#[test]
fn a_run_in_flight_streams_its_progress_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (store_dir, gates) = (dir.path().join(".choochoo"), dir.path().join("gates"));
    std::fs::create_dir(&gates).unwrap();
    Store::open(&store_dir).unwrap();
    let server = start(&store_dir, false);
    let mut board = Events::open(server.addr(), "/runs/live");
    assert_eq!(board.status, 200);
    assert!(board.until(Duration::from_secs(10), |text| text.contains("No run yet")));

    let running = {
        let (store_dir, gates) = (store_dir.clone(), gates.display().to_string());
        std::thread::spawn(move || {
            let store = Store::open(&store_dir).unwrap();
            let (g, out) = gated(&gates);
            Runner::new(&store).run_graph(&g, out).is_err()
        })
    };
    let seen = board.until(Duration::from_secs(30), |text| {
        text.contains("state running") && text.contains("0 done, running <code>first</code>")
    });
    assert!(seen, "{}", board.text);
    let page = http::get(server.addr(), "/runs/1");
    assert!(
        page.body
            .contains("<section id=\"live\" data-stream=\"/runs/1/live\">"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<span id=\"run-status\" class=\"state running\">running</span>")
    );
    let mut run = Events::open(server.addr(), "/runs/1/live");
    assert!(
        run.until(Duration::from_secs(30), |text| text
            .contains("0 done</span>")),
        "{}",
        run.text
    );
    for n in 1..=2 {
        std::fs::write(gates.join(format!("gate-{n}")), "").unwrap();
        let done = format!("{n} done</span>");
        assert!(
            run.until(Duration::from_secs(30), |text| text.contains(&done)),
            "{}",
            run.text
        );
    }
    std::fs::write(gates.join("gate-3"), "").unwrap();
    assert!(
        running.join().unwrap(),
        "the run fails at its hostile station"
    );
    assert!(
        run.until(Duration::from_secs(30), |text| text
            .contains("event: finished")),
        "{}",
        run.text
    );
    assert!(
        board.until(Duration::from_secs(30), |text| text
            .contains("state failed")),
        "{}",
        board.text
    );
    // The finished run's stream says so at once, and its page is its report.
    let mut after = Events::open(server.addr(), "/runs/1/live");
    assert!(after.until(Duration::from_secs(10), |text| {
        text.contains("event: finished")
    }));
    assert!(
        !http::get(server.addr(), "/runs/1")
            .body
            .contains("data-stream")
    );
}
