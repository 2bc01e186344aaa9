//! The dashboard's writes over HTTP: refused when it is read-only or without its pages'
//! token, with the store left as it was; done through the store, with who and when, when
//! allowed.

use crate::http;
use crate::serve::{Dashboard, ok, token};
use choochoo::{DefectStatus, NoteKind, Store};

/// A defect's notes, status and decisions, to compare before and after.
fn ledger_of(store: &Store, id: &str) -> (Vec<String>, DefectStatus, usize, usize) {
    let d = store.defect(id.parse().unwrap()).unwrap().unwrap();
    let notes = d.notes().iter().map(|n| n.text().to_owned()).collect();
    (
        notes,
        d.status(),
        d.decisions().len(),
        store.defects().unwrap().len(),
    )
}

#[test]
fn a_read_only_dashboard_refuses_writes_and_changes_nothing() {
    let d = Dashboard::new(false);
    let before = ledger_of(&d.store, "1");
    let writes = [
        ("/defects/1/notes", "csrf=x&kind=remedy&text=restart+it"),
        ("/defects/1/status", "csrf=x&status=fixed"),
        ("/defects/1/merge", "csrf=x&from=2"),
    ];
    for (path, form) in writes {
        let answer = http::post_form(d.addr(), path, form, &[]);
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
        assert!(
            answer.body.contains("This dashboard is read-only"),
            "{}",
            answer.body
        );
        assert!(answer.body.contains("--allow-writes"), "{}", answer.body);
    }
    let reopened = Store::open(&d.store_dir).unwrap();
    assert_eq!(ledger_of(&reopened, "1"), before);
}

#[test]
fn a_write_without_the_pages_token_is_refused() {
    let d = Dashboard::new(true);
    let real = token(&d.get("/defects/1").body);
    let before = ledger_of(&d.store, "1");
    let forged = [
        ("kind=remedy&text=restart+it".to_owned(), vec![]),
        ("csrf=0123&kind=remedy&text=restart+it".to_owned(), vec![]),
        (
            format!("csrf={real}&kind=remedy&text=restart+it"),
            vec![("Origin", "http://evil.example")],
        ),
    ];
    for (form, headers) in forged {
        let answer = http::post_form(d.addr(), "/defects/1/notes", &form, &headers);
        assert_eq!(answer.status, 403, "{form}: {}", answer.body);
        assert!(
            answer.body.contains("Refused: not this dashboard"),
            "{}",
            answer.body
        );
    }
    assert_eq!(ledger_of(&d.store, "1"), before);
}

#[test]
fn writes_with_the_token_go_through_the_store_with_who_and_when() {
    let d = Dashboard::new(true);
    let page = d.get("/defects/1");
    assert!(ok(&page).contains("id=\"note-form\""), "{}", page.body);
    let token = token(&page.body);
    let origin = format!("http://{}", d.addr());
    let same_origin = [("Origin", origin.as_str())];
    let post = |path: &str, form: String| http::post_form(d.addr(), path, &form, &same_origin);

    let added = post(
        "/defects/1/notes",
        format!("csrf={token}&kind=next_steps&text=%3Cb%3Elook%3C%2Fb%3E+at+the+logs"),
    );
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(added.header("location"), Some("/defects/1"));
    let defect = d.store.defect("1".parse().unwrap()).unwrap().unwrap();
    let note = &defect.notes()[0];
    assert_eq!(
        (note.kind(), note.text()),
        (NoteKind::NextSteps, "<b>look</b> at the logs")
    );
    assert!(note.added_by().is_some_and(|by| !by.is_empty()));
    assert!(
        d.get("/defects/1")
            .body
            .contains("&lt;b&gt;look&lt;/b&gt; at the logs")
    );

    let empty = post(
        "/defects/1/notes",
        format!("csrf={token}&kind=remedy&text=+"),
    );
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert_eq!(
        post(
            "/defects/1/status",
            format!("csrf={token}&status=mitigated")
        )
        .status,
        303
    );
    assert_eq!(ledger_of(&d.store, "1").1, DefectStatus::Mitigated);
    assert_eq!(
        post("/defects/1/status", format!("csrf={token}&status=fixed")).status,
        303
    );
    assert_eq!(ledger_of(&d.store, "1").1, DefectStatus::Fixed);
    assert_eq!(
        post("/defects/1/status", format!("csrf={token}&status=gone")).status,
        400
    );

    assert_eq!(
        post("/defects/1/merge", format!("csrf={token}&from=1")).status,
        400
    );
    assert_eq!(
        post("/defects/1/merge", format!("csrf={token}&from=9")).status,
        404
    );
    let merged = post("/defects/1/merge", format!("csrf={token}&from=%232"));
    assert_eq!(merged.status, 303, "{}", merged.body);
    assert_eq!(d.store.defects().unwrap().len(), 1, "#2 is part of #1");
    let decisions: Vec<String> = d
        .store
        .defect("1".parse().unwrap())
        .unwrap()
        .unwrap()
        .decisions()
        .iter()
        .map(|decision| decision.what().to_owned())
        .collect();
    assert_eq!(
        decisions,
        ["marked mitigated", "marked fixed", "merged #2 into it"]
    );
    let led = d.get("/defects/2");
    assert_eq!(
        led.status, 303,
        "a merged defect's page leads to the one it joined"
    );
    assert_eq!(led.header("location"), Some("/defects/1"));
}
