//! The fault injector of the reliability tests: a file system whose publish steps fail where
//! a test says (feature `test-util`, not public API).

use crate::fs::{Fs, Op};
use std::io;
use std::path::Path;
use std::sync::Mutex;

/// A file system that fails the `at`-th publish step (counting from 1) with an
/// operating-system error, and with `forever` every step after it too. For tests; open a
/// store on it with `choochoo::test_util::open_with_faults`.
#[derive(Debug)]
pub struct Faults {
    at: u64,
    errno: i32,
    forever: bool,
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    steps: u64,
    failed: Vec<String>,
}

impl Faults {
    /// Fails step `at` (from 1; 0 fails nothing) with `errno` (e.g. 28, ENOSPC).
    pub fn new(at: u64, errno: i32, forever: bool) -> Faults {
        Faults {
            at,
            errno,
            forever,
            state: Mutex::new(FaultState::default()),
        }
    }

    /// How many steps were asked for so far.
    pub fn steps(&self) -> u64 {
        self.lock().steps
    }

    /// The steps that were failed, as `operation path`.
    pub fn failed(&self) -> Vec<String> {
        self.lock().failed.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Fs for Faults {
    fn run(&self, op: Op, path: &Path, step: &mut dyn FnMut() -> io::Result<()>) -> io::Result<()> {
        let fail = {
            let mut state = self.lock();
            state.steps += 1;
            let n = state.steps;
            let fail = self.at != 0 && (n == self.at || (self.forever && n > self.at));
            if fail {
                state.failed.push(format!("{op:?} {}", path.display()));
            }
            fail
        };
        if fail {
            return Err(io::Error::from_raw_os_error(self.errno));
        }
        step()
    }
}
