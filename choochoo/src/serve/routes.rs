//! The dashboard's addresses and what every answer shares: the host check that keeps other
//! sites out, the headers that keep the pages to their own script, and the one way a page
//! is written (off the async threads, since the store's reads block).

use super::Options;
use super::csrf::Token;
use super::page::{self, Answer};
use crate::error::Error;
use crate::store::Store;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

/// What every request reaches: the store, the options, the forms' token.
pub(super) struct App {
    pub(super) store: Store,
    pub(super) options: Options,
    pub(super) token: Token,
    /// The `Host` headers it answers; `None` answers any (it listens beyond loopback).
    hosts: Option<Vec<String>>,
}

impl App {
    pub(super) fn new(store: Store, options: Options, addr: SocketAddr) -> Result<App, Error> {
        Ok(App {
            store,
            token: Token::new()?,
            hosts: loopback_hosts(addr),
            options,
        })
    }

    pub(super) fn writes_allowed(&self) -> bool {
        self.options.allow_writes
    }
}

pub(super) type Shared = Arc<App>;

/// The names a page served on a loopback address is reached by: a request naming another
/// host came through a name that leads here from elsewhere (DNS rebinding), and is refused.
fn loopback_hosts(addr: SocketAddr) -> Option<Vec<String>> {
    if !addr.ip().is_loopback() {
        return None;
    }
    let port = addr.port();
    let names = ["127.0.0.1", "localhost", "[::1]"];
    let mut hosts: Vec<String> = names.iter().map(|name| format!("{name}:{port}")).collect();
    if port == 80 {
        hosts.extend(names.iter().map(|name| (*name).to_owned()));
    }
    Some(hosts)
}

pub(super) fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(|| async { Answer::SeeOther("/runs".to_owned()) }))
        .route("/runs", get(runs))
        .route("/runs/live", get(super::live::runs))
        .route("/runs/{id}", get(run))
        .route("/runs/{id}/live", get(super::live::run))
        .route("/defects", get(defects))
        .route("/defects/{id}", get(defect))
        .route("/defects/{id}/ticket.md", get(ticket))
        .route("/defects/{id}/notes", post(super::writes::note))
        .route("/defects/{id}/status", post(super::writes::status))
        .route("/defects/{id}/merge", post(super::writes::merge))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
        .fallback(|| async { page::not_found("There is no such page on this dashboard.") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Refuses a request for another host, and adds the headers every answer carries.
async fn guard(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("");
    if let Some(hosts) = &app.hosts
        && !hosts.iter().any(|known| known.eq_ignore_ascii_case(host))
    {
        return page::refused(
            StatusCode::MISDIRECTED_REQUEST,
            "Not this host",
            "This dashboard listens on a loopback address and answers only requests for it; \
             open it as http://127.0.0.1:PORT or http://localhost:PORT.",
        )
        .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not `no-referrer`: a browser then sends a form with `Origin: null`, which is refused.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Writes a page off the async threads; a store error is a page that says what failed.
pub(super) async fn answer(
    app: Shared,
    write: impl FnOnce(&App) -> Result<Answer, Error> + Send + 'static,
) -> Answer {
    match tokio::task::spawn_blocking(move || write(&app)).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => page::failed(&error),
        Err(error) => page::failed(&Error::internal(format!("the page failed: {error}"))),
    }
}

/// A run's or a defect's number in an address, or the page saying it is not one.
pub(super) fn number(text: &str, what: &str) -> Result<i64, Answer> {
    text.trim_start_matches('#').parse().map_err(|_| {
        page::not_found(&format!(
            "`{text}` is not a {what} number; the {what}s are listed at /{what}s."
        ))
    })
}

async fn runs(State(app): State<Shared>) -> Answer {
    answer(app, super::runs::page).await
}

async fn run(State(app): State<Shared>, Path(id): Path<String>) -> Answer {
    match number(&id, "run") {
        Ok(id) => answer(app, move |app| super::run::page(app, id)).await,
        Err(answer) => answer,
    }
}

async fn defects(State(app): State<Shared>, uri: axum::http::Uri) -> Answer {
    let sort = super::defects::Sort::from_query(uri.query());
    answer(app, move |app| super::defects::page(app, sort)).await
}

async fn defect(State(app): State<Shared>, Path(id): Path<String>) -> Answer {
    match number(&id, "defect") {
        Ok(id) => answer(app, move |app| super::defect::page(app, id)).await,
        Err(answer) => answer,
    }
}

async fn ticket(State(app): State<Shared>, Path(id): Path<String>) -> Answer {
    match number(&id, "defect") {
        Ok(id) => answer(app, move |app| super::defect::ticket(app, id)).await,
        Err(answer) => answer,
    }
}

async fn style() -> impl IntoResponse {
    let sheet = [crate::html::STYLE, include_str!("style.css")].concat();
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], sheet)
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("app.js"),
    )
}
