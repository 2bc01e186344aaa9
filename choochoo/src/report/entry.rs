//! One station's line in a report. Most stations of a large run end with a status and
//! nothing more (a no-op of 100,000 stations is 100,000 of them): such an entry is its
//! node's name, its station's names (shared by every entry of that station), its label and
//! its status, and what only some entries have is kept apart, boxed, when there is any.

use super::{Status, split_item};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A station's id and human name, shared by the entries of its nodes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) id: Cow<'static, str>,
    pub(crate) name: Cow<'static, str>,
}

/// What an entry says beyond its status, when it says more: the entry of a station that
/// ran, failed, or was found in the store for a reason. What only a failure, a warning or a
/// Temporal worker adds is boxed again: most stations that run have none of it. Times are
/// kept in nanoseconds, so that a run of a million stations keeps 56 bytes for each.
#[derive(Clone, Debug, Default)]
pub(crate) struct Details {
    /// How long the station's function ran, in nanoseconds (up to 584 years).
    duration: u64,
    pub(crate) reason: Option<crate::memo::Reason>,
    /// When its function was first called, in nanoseconds since the Unix epoch, if `worker`.
    started_at: u64,
    /// The worker it was first called on; `None`: it was not called.
    worker: Option<u32>,
    more: Option<Box<More>>,
}

/// What some entries say: a failure, what a station warned of, where it ran.
#[derive(Clone, Debug, Default)]
pub(crate) struct More {
    pub(crate) error: Option<String>,
    pub(crate) kept_dir: Option<PathBuf>,
    /// The Temporal worker that ran it, when it was sent to one.
    pub(crate) ran_on: Option<String>,
    pub(crate) defect: Option<Box<crate::defect::model::Defect>>,
    pub(crate) warnings: Vec<String>,
}

impl More {
    fn is_empty(&self) -> bool {
        self.error.is_none()
            && self.kept_dir.is_none()
            && self.ran_on.is_none()
            && self.defect.is_none()
            && self.warnings.is_empty()
    }
}

impl Details {
    /// The details of `duration`, `reason`, `started` and `more`.
    pub(crate) fn new(
        duration: Duration,
        reason: Option<crate::memo::Reason>,
        started: Option<(SystemTime, usize)>,
        more: More,
    ) -> Details {
        let more = (!more.is_empty()).then(|| Box::new(more));
        let nanos = |elapsed: Duration| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let since_epoch = |at: SystemTime| at.duration_since(UNIX_EPOCH).unwrap_or_default();
        Details {
            duration: nanos(duration),
            reason,
            started_at: started.map_or(0, |(at, _)| nanos(since_epoch(at))),
            worker: started.map(|(_, worker)| u32::try_from(worker).unwrap_or(u32::MAX)),
            more,
        }
    }

    /// How long the station's function ran.
    fn duration(&self) -> Duration {
        Duration::from_nanos(self.duration)
    }

    /// When its function was first called, and on which worker, if it was.
    fn started(&self) -> Option<(SystemTime, usize)> {
        let at = UNIX_EPOCH + Duration::from_nanos(self.started_at);
        self.worker.map(|worker| (at, worker as usize))
    }

    /// What the entry says beyond its duration, reason and start, to change it.
    pub(crate) fn more_mut(&mut self) -> &mut More {
        self.more.get_or_insert_default()
    }

    /// These details in a box of their own, or `None` when they say nothing.
    pub(crate) fn boxed(self) -> Option<Box<Details>> {
        (!self.is_empty()).then(|| Box::new(self))
    }

    fn more(&self) -> Option<&More> {
        self.more.as_deref()
    }

    /// Whether these details say nothing: the entry needs none.
    fn is_empty(&self) -> bool {
        self.duration == 0 && self.reason.is_none() && self.worker.is_none() && self.more.is_none()
    }
}

/// One station's line in a [`Report`](super::Report): what happened to it and why.
///
/// [`Report`](super::Report) has an example.
#[derive(Clone, Debug)]
pub struct Entry {
    pub(crate) node: Box<str>,
    pub(crate) names: Arc<Names>,
    /// The label, unless it is the node's name (a named builder node's): `label_is_node`.
    label: Option<Box<str>>,
    label_is_node: bool,
    pub(crate) status: Status,
    details: Option<Box<Details>>,
}

impl Entry {
    pub(crate) fn new(
        node: Box<str>,
        names: Arc<Names>,
        label: Option<Box<str>>,
        status: Status,
        details: Details,
    ) -> Entry {
        Entry::with(node, names, label, status, details.boxed())
    }

    /// An entry with its details already boxed (`None`: it has none).
    fn with(
        node: Box<str>,
        names: Arc<Names>,
        label: Option<Box<str>>,
        status: Status,
        details: Option<Box<Details>>,
    ) -> Entry {
        // A label that is the node's name is not kept twice: a graph of named nodes has
        // one name per entry, not two.
        let label_is_node = label.as_deref() == Some(&*node);
        Entry {
            node,
            names,
            label: label.filter(|_| !label_is_node),
            label_is_node,
            status,
            details,
        }
    }

    /// An entry labeled `label`, which is not copied when it is the node's name (a named
    /// builder node's label is).
    pub(crate) fn labeled(
        node: Box<str>,
        names: Arc<Names>,
        label: Option<&str>,
        status: Status,
        details: Option<Box<Details>>,
    ) -> Entry {
        let label_is_node = label == Some(&*node);
        let own = label.filter(|_| !label_is_node).map(Box::from);
        Entry {
            label_is_node,
            ..Entry::with(node, names, own, status, details)
        }
    }

    /// What the entry says beyond its status, duration, reason and start, to change it.
    pub(crate) fn more_mut(&mut self) -> &mut More {
        self.details.get_or_insert_default().more_mut()
    }

    fn details(&self) -> Option<&Details> {
        self.details.as_deref()
    }

    fn more(&self) -> Option<&More> {
        self.details()?.more()
    }

    /// The name of the Temporal worker that ran the station (its `worker --name`), when
    /// the run sent it to one (feature `temporal`); `None` when it ran in the run's process.
    pub fn ran_on(&self) -> Option<&str> {
        self.more()?.ran_on.as_deref()
    }

    /// The station's id, such as `app::word_count`.
    pub fn id(&self) -> &str {
        &self.names.id
    }

    /// The node's name in the store, stable from run to run: `workflow.binding` for a
    /// `workflow!` binding, the name given to a builder node
    /// ([`Graph::add_named`](crate::Graph::add_named)), and `<map node>[<item>]` for an
    /// item of a map. Its directory is `work/<profile>/<node>/` in the store, and an item's
    /// `work/<profile>/<map node>/<item>/`.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// For an item of a map, the item's name: the path of the first file in it as given
    /// (`src/main.c`), a short hash of its content, or the name the program gave it
    /// ([`Graph::map_named_by`](crate::Graph::map_named_by)). The map's entry comes
    /// before its items' in the report.
    pub fn item(&self) -> Option<&str> {
        split_item(&self.node).map(|(_, item)| item)
    }

    /// The station's human name.
    pub fn name(&self) -> &str {
        &self.names.name
    }

    /// The node's label: the binding name in `workflow!` or the name given to a builder
    /// node, if any; for an item of a map, its map's label (or node name) and the item's
    /// name, `objects[src/main.c]`.
    pub fn label(&self) -> Option<&str> {
        match self.label_is_node {
            true => Some(&self.node),
            false => self.label.as_deref(),
        }
    }

    /// What happened.
    pub fn status(&self) -> Status {
        self.status
    }

    /// How long the station's function ran (zero unless it ran or failed).
    pub fn duration(&self) -> Duration {
        self.details().map_or(Duration::ZERO, Details::duration)
    }

    /// Why the station ran, or why it did not.
    pub fn reason(&self) -> Option<&str> {
        self.details()?.reason.as_deref()
    }

    /// When the station's function was first called, if it was.
    pub fn started(&self) -> Option<SystemTime> {
        self.details()?.started().map(|(at, _)| at)
    }

    /// The index of the worker thread it ran on, if it ran.
    pub fn worker(&self) -> Option<usize> {
        self.details()?.started().map(|(_, worker)| worker)
    }

    /// For a failed station, the defect its failure was filed under: whether it is known,
    /// how often it was seen, and what the team noted about it.
    pub fn defect(&self) -> Option<&crate::defect::model::Defect> {
        self.more()?.defect.as_deref()
    }

    /// Where the directory of a failed attempt was kept, as it was at the failure.
    pub fn kept_dir(&self) -> Option<&std::path::Path> {
        self.more()?.kept_dir.as_deref()
    }

    /// The error and its chain of causes, for a failed station. An error of several lines
    /// (a compiler's) keeps them.
    pub fn error(&self) -> Option<&str> {
        self.more()?.error.as_deref()
    }

    /// What the station warned of while it ran ([`Ctx::warn`](crate::Ctx::warn)), line by
    /// line, in order; none when it did not run in this run (a station found in the store
    /// warns of nothing). At most 100 lines are kept, and then one saying how many more
    /// came.
    pub fn warnings(&self) -> &[String] {
        self.more().map_or(&[], |more| &more.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_with_nothing_but_a_status_is_small() {
        assert!(size_of::<Entry>() <= 64, "{}", size_of::<Entry>());
        assert!(size_of::<Details>() <= 56, "{}", size_of::<Details>());
        let names = Arc::new(Names {
            id: "app::mix".into(),
            name: "Mix".into(),
        });
        let entry = Entry::new(
            "mix-1".into(),
            names,
            None,
            Status::Cached,
            Details::default(),
        );
        assert!(entry.details.is_none());
        assert_eq!((entry.duration(), entry.reason()), (Duration::ZERO, None));
    }

    #[test]
    fn a_label_that_is_the_node_is_kept_once_and_read_back() {
        let names = Arc::new(Names {
            id: "app::mix".into(),
            name: "Mix".into(),
        });
        let named = Entry::labeled("mix".into(), names.clone(), Some("mix"), Status::Ran, None);
        assert!(named.label.is_none());
        assert_eq!(named.label(), Some("mix"));
        let bound = Entry::labeled(
            "wf.mix".into(),
            names.clone(),
            Some("mix"),
            Status::Ran,
            None,
        );
        assert_eq!(bound.label(), Some("mix"));
        let unnamed = Entry::labeled("mix-1".into(), names, None, Status::Ran, None);
        assert_eq!(unnamed.label(), None);
    }
}
