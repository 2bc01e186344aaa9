//! A tiny WebDriver client: chromedriver started on loopback, one headless Chromium session,
//! and the few commands the browser tests use (open a page, run a script, find, click and
//! type), as JSON over plain HTTP.

use crate::http;
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A headless Chromium driven through its own chromedriver; both end when it is dropped.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

/// Whether chromedriver runs on this machine.
pub fn available() -> bool {
    Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    pub fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let ready = crate::support::wait_until(Duration::from_secs(30), || {
            std::net::TcpStream::connect(addr).is_ok()
        });
        assert!(ready, "chromedriver did not listen on {addr} within 30 s");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        browser.session = browser.new_session();
        browser
    }

    fn new_session(&self) -> String {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1280,1000".to_owned(),
            format!("--user-data-dir={}", self._profile.path().display()),
        ];
        let mut options = json!({ "args": args });
        if let Some(binary) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
        {
            options["binary"] = json!(binary);
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options } } });
        let answer = self.call("POST", "/session", Some(capabilities));
        answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session from chromedriver: {answer}"))
            .to_owned()
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let headers = [("Content-Type", "application/json")];
        let answer = http::request(self.addr, method, path, &headers, body.as_bytes());
        let value: Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|_| panic!("chromedriver answered {}: {}", answer.status, answer.body));
        assert!(
            answer.status == 200,
            "{method} {path} failed ({}): {}",
            answer.status,
            value
        );
        value["value"].clone()
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// The text of the element `css` selects, or `None` without one.
    pub fn text(&self, css: &str) -> Option<String> {
        let script = format!(
            "var e = document.querySelector({}); return e ? e.textContent : null;",
            json!(css)
        );
        self.script(&script).as_str().map(str::to_owned)
    }

    /// Waits until the text of `css` satisfies `done`; the last text, and whether it did.
    pub fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> (String, bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text(css).unwrap_or_default();
            if done(&text) {
                return (text, true);
            }
            if Instant::now() > deadline {
                return (text, false);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        found
            .as_object()
            .and_then(|element| element.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// Clicks the element `css` selects.
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Types `text` into the element `css` selects.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Reloads the page.
    pub fn reload(&self) {
        self.command("POST", "/refresh", Some(json!({})));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = http::request(self.addr, "DELETE", &path, &[], b"");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
