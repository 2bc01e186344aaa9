//! The process groups of one station's children: each child a station starts through
//! [`Ctx::command`](crate::Ctx::command) leads a group of its own, which holds its own children
//! too. A group ends with its station's call: what is left of it when its first process
//! exits, or when the call times out, is asked to stop (SIGTERM), then killed (SIGKILL) after
//! a grace period.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a child asked to stop has before it is killed.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The groups of one call's children still running, shared with whoever may time it out.
#[derive(Clone, Debug, Default)]
pub(crate) struct Children(Arc<Mutex<Vec<u32>>>);

/// A group while its leader runs; dropping it ends what is left of the group.
pub(super) struct Membership<'a> {
    children: &'a Children,
    group: u32,
}

impl Children {
    /// Counts `group` among the running ones until the membership is dropped.
    pub(super) fn enter(&self, group: u32) -> Membership<'_> {
        self.groups().push(group);
        Membership {
            children: self,
            group,
        }
    }

    /// Ends every running group, without waiting: the call they belong to is given up.
    pub(crate) fn terminate(&self) {
        let groups = self.groups().clone();
        if groups.is_empty() {
            return;
        }
        let ended = groups.clone();
        let ending = std::thread::Builder::new()
            .name("choochoo-children".into())
            .spawn(move || ended.into_iter().for_each(end));
        if ending.is_err() {
            // No thread to wait the grace period on: kill at once.
            groups.into_iter().for_each(super::os::kill);
        }
    }

    fn groups(&self) -> std::sync::MutexGuard<'_, Vec<u32>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Membership<'_> {
    fn drop(&mut self) {
        end(self.group);
        self.children.groups().retain(|group| *group != self.group);
    }
}

/// Asks what is left of `group` to stop, and kills it if it is still there after [`GRACE`].
pub(super) fn end(group: u32) {
    if !super::os::alive(group) {
        return;
    }
    super::os::terminate(group);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if !super::os::alive(group) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    super::os::kill(group);
}
