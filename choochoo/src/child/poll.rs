//! A child's stdout and stderr read on the thread that waits for it, with `poll`: no reader
//! thread per pipe. Each line goes to the station's log as it comes (stdout's only when it is
//! not kept for the caller), and the child is reaped when both pipes are closed — or, when
//! processes of its group still hold them after it exited, as soon as it has exited, its
//! group then being ended so that the pipes close.

use super::group::Membership;
use crate::station::Ctx;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::process::{ExitStatus, Output};

/// How long a wait for output lasts before asking whether the child has exited.
const EXITED_EVERY_MS: libc::c_int = 50;

/// One of the child's pipes: its partial last line, and its bytes when kept.
struct Stream {
    file: File,
    open: bool,
    log: bool,
    keep: bool,
    line: Vec<u8>,
    kept: Vec<u8>,
}

/// Reads the child `pid`'s pipes to their ends and waits for it; `membership` (its group)
/// ends with it. `keep` keeps stdout for the caller instead of logging it; stderr is logged,
/// and kept too when `keep` is set.
pub(super) fn collect(
    ctx: &Ctx,
    pid: u32,
    (stdout, stderr): (File, File),
    membership: Membership<'_>,
    keep: bool,
) -> io::Result<Output> {
    let mut streams = [
        Stream::new(stdout, !keep, keep),
        Stream::new(stderr, true, keep),
    ];
    let mut membership = Some(membership);
    let mut status = None;
    while streams.iter().any(|stream| stream.open) {
        let waited = match status {
            None => EXITED_EVERY_MS,
            Some(_) => -1,
        };
        if !poll(ctx, &mut streams, waited)? && status.is_none() {
            status = super::clone::try_wait(pid)?;
            // Exited, its group holding the pipes: the group ends, and the pipes with it.
            if status.is_some() {
                drop(membership.take());
            }
        }
    }
    let status: ExitStatus = match status {
        Some(status) => status,
        None => super::clone::wait(pid)?,
    };
    drop(membership);
    let [stdout, stderr] = streams.map(|stream| stream.kept);
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Waits up to `timeout_ms` (-1: until one is ready) for output on the open streams and reads
/// what came; false when nothing came in that time.
#[allow(unsafe_code)]
fn poll(ctx: &Ctx, streams: &mut [Stream; 2], timeout_ms: libc::c_int) -> io::Result<bool> {
    let mut fds = streams.each_ref().map(|stream| libc::pollfd {
        fd: if stream.open {
            stream.file.as_raw_fd()
        } else {
            -1
        },
        events: libc::POLLIN,
        revents: 0,
    });
    // SAFETY: poll fills in the `revents` of the two entries of a local array.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) };
    if ready == -1 {
        let error = io::Error::last_os_error();
        return match error.kind() {
            io::ErrorKind::Interrupted => Ok(true),
            _ => Err(error),
        };
    }
    for (stream, fd) in streams.iter_mut().zip(fds) {
        if fd.revents != 0 {
            stream.read(ctx);
        }
    }
    Ok(ready > 0)
}

impl Stream {
    fn new(file: File, log: bool, keep: bool) -> Stream {
        Stream {
            file,
            open: true,
            log,
            keep,
            line: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Reads what is there: each whole line is logged; the end of the pipe logs the last,
    /// unfinished one.
    fn read(&mut self, ctx: &Ctx) {
        let mut buffer = [0u8; 16 * 1024];
        let read = match self.file.read(&mut buffer) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return,
            Ok(0) | Err(_) => None,
            Ok(read) => Some(&buffer[..read]),
        };
        let Some(bytes) = read else {
            self.open = false;
            if !self.line.is_empty() {
                self.log_line(ctx);
            }
            return;
        };
        if self.keep {
            self.kept.extend_from_slice(bytes);
        }
        if !self.log {
            return;
        }
        for piece in bytes.split_inclusive(|byte| *byte == b'\n') {
            self.line.extend_from_slice(piece);
            if piece.ends_with(b"\n") {
                self.log_line(ctx);
            }
        }
    }

    fn log_line(&mut self, ctx: &Ctx) {
        if self.log {
            let text = String::from_utf8_lossy(&self.line);
            ctx.log(text.trim_end_matches(['\n', '\r']));
        }
        self.line.clear();
    }
}
