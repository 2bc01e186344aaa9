//! Starting a station's child and collecting what it wrote: on Linux through
//! [`clone`](super::clone) when its stdin is the default (empty), its pipes read with
//! [`poll`](super::poll) on the waiting thread; otherwise through `std::process::Command` with
//! the hooks of [`os`](super::os) and a reader thread per pipe. Either way the child leads a
//! process group of its own, dies with the runner on Linux, and has its stdout and stderr
//! piped.

use super::group::Membership;
use crate::station::Ctx;
use std::io;
use std::process::{Output, Stdio};

/// A child that was started: its pid (which is also its group's id) and its pipes.
pub(super) struct Started {
    pid: u32,
    how: How,
}

enum How {
    Std(std::process::Child),
    #[cfg(target_os = "linux")]
    Cloned(std::fs::File, std::fs::File),
}

/// Starts `command` with its stdout and stderr piped; its stdin is empty unless `stdin` says
/// one was given; `cleared` says its environment was cleared.
pub(super) fn start(
    command: &mut std::process::Command,
    stdin: bool,
    cleared: bool,
) -> io::Result<Started> {
    #[cfg(target_os = "linux")]
    if !stdin {
        let spawned = super::clone::spawn(command, cleared)?;
        let how = How::Cloned(spawned.stdout, spawned.stderr);
        return Ok(Started {
            pid: spawned.pid,
            how,
        });
    }
    let _ = cleared;
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if !stdin {
        command.stdin(Stdio::null());
    }
    super::os::own_group(command);
    let child = command.spawn()?;
    Ok(Started {
        pid: child.id(),
        how: How::Std(child),
    })
}

impl Started {
    /// The child's pid, which is also its group's id.
    pub(super) fn id(&self) -> u32 {
        self.pid
    }

    /// Reads its output to the end into the station's log (stdout kept for the caller
    /// instead when `keep` is set, stderr logged and kept) and waits for it; its group
    /// (`membership`) is ended once it has exited.
    pub(super) fn collect(
        self,
        ctx: &Ctx,
        membership: Membership<'_>,
        keep: bool,
    ) -> io::Result<Output> {
        match self.how {
            How::Std(child) => threaded(ctx, child, membership, keep),
            #[cfg(target_os = "linux")]
            How::Cloned(stdout, stderr) => {
                super::poll::collect(ctx, self.pid, (stdout, stderr), membership, keep)
            }
        }
    }
}

/// [`Started::collect`] with a reader thread per pipe.
fn threaded(
    ctx: &Ctx,
    mut child: std::process::Child,
    membership: Membership<'_>,
    keep: bool,
) -> io::Result<Output> {
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    std::thread::scope(|scope| {
        let out = scope.spawn(|| super::pipe::pump(ctx, stdout, !keep, keep));
        let err = scope.spawn(|| super::pipe::pump(ctx, stderr, true, keep));
        let status = child.wait();
        // The rest of its group ends with it, which closes the pipes it may hold.
        drop(membership);
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        Ok(Output {
            status: status?,
            stdout,
            stderr,
        })
    })
}
