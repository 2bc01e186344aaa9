//! The dashboard in a real browser: headless Chromium through chromedriver. The runs page
//! follows a run of another process as it goes, to its final status; on the defect page a
//! note is added through the form and kept by the store, and the defect is marked fixed;
//! the hostile error shows as text, and no script of it runs.

use crate::serve::HOSTILE;
use crate::serve_cli::{finish, spawn};
use crate::webdriver::{self, Browser};
use choochoo::serve::Options;
use choochoo::{DefectStatus, NoteKind, Store};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn the_dashboard_follows_a_run_and_takes_notes_in_a_browser() {
    if !webdriver::available() {
        return crate::support::skip(
            "chromedriver",
            "`chromedriver --version` does not run",
            "install it (`apt-get install chromium-driver` on Debian, as .ci/run does)",
        );
    }
    let site = tempfile::tempdir().unwrap();
    let (store_dir, gates) = (site.path().join(".choochoo"), site.path().join("gates"));
    std::fs::create_dir(&gates).unwrap();
    Store::open(&store_dir).unwrap();
    let options = Options::new()
        .addr("127.0.0.1:0".parse().unwrap())
        .allow_writes(true)
        .watch_every(Duration::from_millis(100));
    let server = choochoo::serve::start(&store_dir, options).unwrap();
    let browser = Browser::start();

    follow_a_run(&browser, &server.url(), site.path(), &gates);
    hostile_text_is_text(
        &browser,
        &format!("{}/runs/1", server.url()),
        "#failures ol.chain li",
    );
    let defect = format!("{}/defects/1", server.url());
    hostile_text_is_text(&browser, &defect, "#defect-title");
    take_a_note_and_fix(&browser, &defect, &store_dir);
}

/// The runs page, open while another process runs the workflow: the run appears, its count
/// of stations done goes up as the gates open, and it ends failed, all without a reload.
fn follow_a_run(browser: &Browser, url: &str, site: &std::path::Path, gates: &std::path::Path) {
    browser.goto(&format!("{url}/runs"));
    browser.script("window.__same_page = true;");
    let child = spawn(site, &["run"], &gates.display().to_string());
    let row = "#run-1 td.counts";
    let (text, seen) = browser.wait_for_text(row, WAIT, |t| t.contains("0 done, running first"));
    assert!(seen, "the run in flight: {text:?}");
    for n in 1..=2 {
        std::fs::write(gates.join(format!("gate-{n}")), "").unwrap();
        let done = format!("{n} done");
        let (text, seen) = browser.wait_for_text(row, WAIT, |t| t.starts_with(&done));
        assert!(seen, "after gate {n}: {text:?}");
    }
    std::fs::write(gates.join("gate-3"), "").unwrap();
    let (status, ended) = browser.wait_for_text("#run-1 td.status", WAIT, |t| t == "failed");
    assert!(ended, "the final status: {status:?}");
    let (text, _) = browser.wait_for_text(row, WAIT, |t| t.contains("failed"));
    assert_eq!(text, "3 ran, 1 failed");
    assert_eq!(
        browser.script("return window.__same_page === true;"),
        true,
        "no reload"
    );
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
}

/// The hostile message is the text of `css` on the page at `url`, and none of its markup
/// became an element or ran.
fn hostile_text_is_text(browser: &Browser, url: &str, css: &str) {
    browser.goto(url);
    let text = browser
        .text(css)
        .unwrap_or_else(|| panic!("{css} on {url}"));
    // Every character as written, the terminal escape shown as `\u{1b}`.
    let shown = HOSTILE.replace('\u{1b}', "\\u{1b}");
    assert!(text.contains(&shown), "{url}: {text:?}");
    assert_eq!(
        browser.script("return typeof window.__pwned;"),
        "undefined",
        "{url}"
    );
    let injected = "return document.querySelectorAll('main script, main img').length;";
    assert_eq!(browser.script(injected), 0, "{url}");
}

/// Adds a note through the form (in the store, and on the page after a reload), then marks
/// the defect fixed.
fn take_a_note_and_fix(browser: &Browser, url: &str, store_dir: &std::path::Path) {
    browser.goto(url);
    let note = "Restart the <upload> proxy; \"ask ops\" first";
    browser.type_into("#note-form textarea", note);
    browser.click("#note-form button");
    let (text, shown) = browser.wait_for_text("#notes .note .text", WAIT, |t| t == note);
    assert!(
        shown,
        "the note after the form: {text:?} on {:?}",
        browser.text("main")
    );
    let store = Store::open(store_dir).unwrap();
    let defect = store.defect("1".parse().unwrap()).unwrap().unwrap();
    let kept: Vec<(NoteKind, &str)> = defect
        .notes()
        .iter()
        .map(|n| (n.kind(), n.text()))
        .collect();
    assert_eq!(kept, [(NoteKind::Remedy, note)]);
    browser.reload();
    assert_eq!(browser.text("#notes .note .text").as_deref(), Some(note));

    browser.click("#mark-fixed");
    let (badge, fixed) = browser.wait_for_text("h1 .state", WAIT, |t| t == "fixed");
    assert!(fixed, "the badge after marking: {badge:?}");
    let defect = store.defect("1".parse().unwrap()).unwrap().unwrap();
    assert_eq!(defect.status(), DefectStatus::Fixed);
    assert_eq!(
        defect.decisions().last().map(|d| d.what()),
        Some("marked fixed")
    );
}
