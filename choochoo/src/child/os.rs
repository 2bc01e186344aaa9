//! What the operating system is asked for a station's child: on Unix a process group of its
//! own (so its children end with it), killed with its parent (`PR_SET_PDEATHSIG` on Linux),
//! and signals to the group. Elsewhere a child runs as `std::process::Command` runs it.
//!
//! And the one signal a run itself catches: while a watch goes on, Ctrl-C (`SIGINT`) is
//! counted instead of ending the process, so the run in flight can stop cleanly; a second
//! Ctrl-C ends the process at once.

#[cfg(unix)]
#[allow(unsafe_code)]
mod unix {
    use std::os::unix::process::CommandExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Makes the child lead a group of its own, which dies with this process.
    pub(crate) fn own_group(command: &mut std::process::Command) {
        command.process_group(0);
        die_with_parent(command);
    }

    #[cfg(target_os = "linux")]
    fn die_with_parent(command: &mut std::process::Command) {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec only async-signal-safe calls are made: prctl and
        // getppid, and an error built from a raw code (no allocation).
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the call: then nobody would send it.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn die_with_parent(_command: &mut std::process::Command) {}

    /// Makes the child lead a session of its own, detached from this process and its terminal.
    pub(crate) fn detach(command: &mut std::process::Command) {
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            command.pre_exec(|| match libc::setsid() {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            });
        }
    }

    /// Whether any process of `group` is still there.
    pub(crate) fn alive(group: u32) -> bool {
        signal(group, 0)
    }

    pub(crate) fn terminate(group: u32) {
        signal(group, libc::SIGTERM);
    }

    pub(crate) fn kill(group: u32) {
        signal(group, libc::SIGKILL);
    }

    /// Ctrl-Cs counted since the handler was installed.
    static INTERRUPTS: AtomicU32 = AtomicU32::new(0);

    #[cfg(feature = "watch")]
    extern "C" fn on_interrupt(_signal: libc::c_int) {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) > 0 {
            // SAFETY: `_exit` is async-signal-safe; the second Ctrl-C means now.
            unsafe { libc::_exit(130) }
        }
    }

    /// Ctrl-C caught while this lives; the disposition before it comes back when dropped.
    #[cfg(feature = "watch")]
    pub(crate) struct Interrupts(libc::sigaction);

    /// Catches Ctrl-C until the value returned is dropped; `None` if the system refused.
    #[cfg(feature = "watch")]
    pub(crate) fn catch_interrupts() -> Option<Interrupts> {
        INTERRUPTS.store(0, Ordering::SeqCst);
        // SAFETY: both structs are plain data, zeroed then filled; the handler only touches
        // an atomic and calls `_exit`, which are async-signal-safe.
        unsafe {
            let mut caught: libc::sigaction = std::mem::zeroed();
            caught.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
            caught.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut caught.sa_mask);
            let mut before: libc::sigaction = std::mem::zeroed();
            match libc::sigaction(libc::SIGINT, &caught, &mut before) {
                0 => Some(Interrupts(before)),
                _ => None,
            }
        }
    }

    #[cfg(feature = "watch")]
    impl Drop for Interrupts {
        fn drop(&mut self) {
            // SAFETY: puts back the disposition `sigaction` gave, unchanged.
            unsafe { libc::sigaction(libc::SIGINT, &self.0, std::ptr::null_mut()) };
            INTERRUPTS.store(0, Ordering::SeqCst);
        }
    }

    /// Whether Ctrl-C was pressed while it is caught.
    pub(crate) fn interrupted() -> bool {
        INTERRUPTS.load(Ordering::SeqCst) > 0
    }

    fn signal(group: u32, signal: libc::c_int) -> bool {
        let Ok(group) = libc::pid_t::try_from(group) else {
            return false;
        };
        // SAFETY: kill has no memory effects; a negative pid names a process group.
        group > 0 && unsafe { libc::kill(-group, signal) } == 0
    }
}

#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
mod other {
    pub(crate) fn own_group(_command: &mut std::process::Command) {}
    pub(crate) fn detach(_command: &mut std::process::Command) {}
    pub(crate) fn alive(_group: u32) -> bool {
        false
    }
    pub(crate) fn terminate(_group: u32) {}
    pub(crate) fn kill(_group: u32) {}
    /// Ctrl-C is not caught here: it ends the process as it always does.
    #[cfg(feature = "watch")]
    pub(crate) struct Interrupts;
    #[cfg(feature = "watch")]
    pub(crate) fn catch_interrupts() -> Option<Interrupts> {
        None
    }
    pub(crate) fn interrupted() -> bool {
        false
    }
}

#[cfg(not(unix))]
pub(crate) use other::*;
