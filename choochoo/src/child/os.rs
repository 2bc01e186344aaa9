//! What the operating system is asked for a station's child: on Unix a process group of its
//! own (so its children end with it), killed with its parent (`PR_SET_PDEATHSIG` on Linux),
//! and signals to the group. Elsewhere a child runs as `std::process::Command` runs it.

#[cfg(unix)]
#[allow(unsafe_code)]
mod unix {
    use std::os::unix::process::CommandExt;

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
}

#[cfg(not(unix))]
pub(crate) use other::*;
