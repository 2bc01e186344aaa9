//! A station's log: the lines it logs through [`Ctx::log`], and what it logs through
//! `tracing`, captured: while a station runs, its thread's default subscriber is one that
//! forwards everything to the subscriber that was in place (so the program's own logging is
//! unchanged) and also keeps each event as a line of the station's log, which a failure's
//! observation carries.

use crate::station::Ctx;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

/// A station's log, shared by its [`Ctx`](crate::Ctx) and the capture.
pub(crate) type Log = Arc<Mutex<VecDeque<String>>>;

/// How many of a station's last log lines are kept for its failure record.
pub(crate) const LOG_TAIL: usize = 50;

impl Ctx {
    /// Logs a line. The last lines a station logged are kept with its failure, so the
    /// defect ledger shows what it was doing; the command line shows each line as it is
    /// logged with `--verbose` ([`Event::Log`](crate::Event::Log)). To say something the
    /// person running the workflow should see even when all goes well, [`warn`](Ctx::warn).
    pub fn log(&self, line: impl std::fmt::Display) {
        let line = line.to_string();
        if let Some(listener) = &self.listener {
            listener(&crate::progress::Event::Log {
                node: &self.node,
                line: &line,
            });
        }
        self.keep_in_log(line);
    }

    /// Keeps `line` in the log tail, the last [`LOG_TAIL`] lines.
    pub(crate) fn keep_in_log(&self, line: String) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == LOG_TAIL {
            log.pop_front();
        }
        log.push_back(line);
    }

    pub(crate) fn log_tail(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

thread_local! {
    /// The log of the station running on this thread, if any.
    static CURRENT: RefCell<Option<(Log, usize)>> = const { RefCell::new(None) };
}

/// The capturing subscriber of one run: made once (registering a subscriber with `tracing`
/// rebuilds its callsite cache, too costly to do per station).
pub(crate) fn capture() -> Dispatch {
    let inner = tracing::dispatcher::get_default(Dispatch::clone);
    Dispatch::new(Capture { inner })
}

/// Runs `f` with `tracing` events also written to `log` (the last `keep` lines are kept).
pub(crate) fn with_capture<R>(
    capture: &Dispatch,
    log: &Log,
    keep: usize,
    f: impl FnOnce() -> R,
) -> R {
    let outer = CURRENT.with(|current| current.replace(Some((log.clone(), keep))));
    let result = tracing::dispatcher::with_default(capture, f);
    CURRENT.with(|current| current.replace(outer));
    result
}

struct Capture {
    inner: Dispatch,
}

impl Subscriber for Capture {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Every event must reach `event`, whatever the program's subscriber wants.
        let _ = self.inner.register_callsite(metadata);
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() || self.inner.enabled(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        CURRENT.with(|current| {
            if let Some((log, keep)) = &*current.borrow() {
                let mut line = format!("{} ", event.metadata().level());
                event.record(&mut Line(&mut line));
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                if log.len() == *keep {
                    log.pop_front();
                }
                log.push_back(line);
            }
        });
        if self.inner.enabled(event.metadata()) {
            self.inner.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }
}

/// Writes an event's fields as `message key=value …`.
struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
