//! The live pages' event streams, one per page: the server looks at the store every
//! [`watch_every`](super::Options::watch_every) (a run in flight writes its journal and
//! records as it goes, from whichever process runs it) and sends the page's changed part as
//! an `update` event; the page puts it in place. A run's stream ends with a `finished`
//! event when the run does, and the page reloads as the run's static report.

use super::routes::{App, Shared};
use crate::error::Error;
use crate::store::run_list::RunState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;

/// What a stream sends next: the part of the page, or that the run ended.
enum Next {
    Update(String),
    Finished,
}

/// The stream of the runs page: its rows whenever they change.
pub(super) async fn runs(
    State(app): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    stream_of(app, |app| super::runs::rows(app).map(Next::Update))
}

/// The stream of a run's page: its progress whenever it changes, then `finished`.
pub(super) async fn run(
    State(app): State<Shared>,
    Path(id): Path<String>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // An address that is not a run is a stream that ends at once: the page shows why.
    let id = super::routes::number(&id, "run").unwrap_or(0);
    stream_of(app, move |app| {
        let running = app
            .store
            .run_line(id)?
            .is_some_and(|line| line.state == RunState::Running);
        if running {
            super::run::progress(app, id).map(Next::Update)
        } else {
            Ok(Next::Finished)
        }
    })
}

/// Where a stream is: what it sent last, and whether it has ended.
struct Watch<F> {
    app: Shared,
    look: F,
    last: Option<String>,
    first: bool,
    ended: bool,
}

/// The events of `look`, asked at once and then every `watch_every`: each change, and a
/// last `finished` when it says so. A store error is sent as an `error` event, and looked
/// at again next time.
fn stream_of<F>(app: Shared, look: F) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn(&App) -> Result<Next, Error> + Clone + Send + Sync + 'static,
{
    let watch = Watch {
        app,
        look,
        last: None,
        first: true,
        ended: false,
    };
    let events = stream::unfold(watch, |mut watch| async move {
        if watch.ended {
            return None;
        }
        loop {
            if !std::mem::take(&mut watch.first) {
                tokio::time::sleep(watch.app.options.watch_every).await;
            }
            if let Some(event) = next_event(&mut watch).await {
                return Some((Ok(event), watch));
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// The event to send after one look, if anything changed.
async fn next_event<F>(watch: &mut Watch<F>) -> Option<Event>
where
    F: Fn(&App) -> Result<Next, Error> + Clone + Send + Sync + 'static,
{
    let (app, look) = (watch.app.clone(), watch.look.clone());
    let looked = tokio::task::spawn_blocking(move || look(&app))
        .await
        .unwrap_or_else(|error| Err(Error::internal(format!("the stream failed: {error}"))));
    match looked {
        Ok(Next::Update(html)) if watch.last.as_ref() != Some(&html) => {
            // An event's data may hold new lines, never a carriage return.
            let event = Event::default()
                .event("update")
                .data(html.replace('\r', ""));
            watch.last = Some(html);
            Some(event)
        }
        Ok(Next::Update(_)) => None,
        Ok(Next::Finished) => {
            watch.ended = true;
            Some(Event::default().event("finished").data("finished"))
        }
        Err(error) => Some(
            Event::default()
                .event("error")
                .data(crate::error::chain(&error).replace(['\r', '\n'], " ")),
        ),
    }
}
