//! Leases: how two processes running on one store avoid computing the same node at once.
//! A node being computed is held under an exclusive `flock` on one of a fixed set of stripe
//! files (`locks/00` … `locks/63`, chosen by the node's name); the other process waits,
//! then finds the record. The kernel drops a lock when its process dies, so a killed holder
//! never leaves a lease behind.
//!
//! Within one process the scheduler never runs a node twice, so threads share a stripe: the
//! first takes the file lock, the last to finish releases it.

use crate::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const STRIPES: usize = 64;

/// The stripe locks of one store, shared by its runners.
#[derive(Debug)]
pub(crate) struct Leases {
    dir: PathBuf,
    stripes: Vec<Mutex<Stripe>>,
}

#[derive(Debug, Default)]
struct Stripe {
    holders: usize,
    file: Option<File>,
}

/// A held lease; released when dropped.
#[derive(Debug)]
pub(crate) struct Lease<'a> {
    leases: &'a Leases,
    stripe: usize,
}

impl Leases {
    pub(crate) fn new(dir: &Path) -> Leases {
        Leases {
            dir: dir.to_path_buf(),
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
        }
    }

    /// Waits until no other process holds the lease of `node`'s stripe, then holds it.
    /// While it waits it calls `before_blocking` now and then (without any lock held): the
    /// caller uses it to release what it holds itself, so two processes never wait on each
    /// other. Waiting polls instead of blocking in the kernel, so a thread never sleeps on a
    /// lock while leases its own process parked since then stay held.
    pub(crate) fn acquire(
        &self,
        node: &str,
        before_blocking: &dyn Fn(),
    ) -> Result<Lease<'_>, Error> {
        let digest = crate::hash::Digest::of(node.as_bytes());
        let stripe =
            u16::from_le_bytes([digest.as_bytes()[0], digest.as_bytes()[1]]) as usize % STRIPES;
        let mut pause = std::time::Duration::from_millis(1);
        while !self.take(stripe)? {
            before_blocking();
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(20));
        }
        Ok(Lease {
            leases: self,
            stripe,
        })
    }

    /// Holds `stripe` if this process holds it already or can lock it now; never waits.
    fn take(&self, stripe: usize) -> Result<bool, Error> {
        let mut state = self.stripes[stripe]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if state.holders == 0 {
            let path = self.dir.join(format!("{stripe:02}"));
            if state.file.is_none() {
                let file = crate::privacy::open_options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|error| Error::io("open the lock file", &path, error))?;
                state.file = Some(file);
            }
            let Some(file) = &state.file else {
                return Ok(false);
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(Error::io("lock", &path, error));
                }
            }
        }
        state.holders += 1;
        Ok(true)
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut state = self.leases.stripes[self.stripe]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        state.holders -= 1;
        if state.holders == 0
            && let Some(file) = &state.file
        {
            let _ = file.unlock();
        }
    }
}
