//! Starting a child on Linux without copying the runner: `clone(CLONE_VM | CLONE_VFORK)`, as
//! `posix_spawn` does, so the child runs in the runner's memory (no page table copied, no
//! page copied on a later write) until its `execve`. Unlike `posix_spawn`, the child can be
//! made to die with the runner (`PR_SET_PDEATHSIG`) on the way; the standard library can only
//! do that with a `pre_exec` hook, which makes it fork.
//!
//! Everything the child needs is prepared by the parent (paths, arguments, environment,
//! descriptors); the child itself only makes system calls, and reports a failure before its
//! `execve` through a shared cell, its parent being suspended until it has exec'd or exited.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString, c_char, c_int, c_void};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicI32, Ordering};

/// The child's stack, used only between `clone` and `execve`.
const STACK: usize = 64 * 1024;

/// A child started by [`spawn`]: the leader of a group of its own, and the read ends of its
/// stdout and stderr.
pub(super) struct Spawned {
    pub(super) pid: u32,
    pub(super) stdout: File,
    pub(super) stderr: File,
}

/// Waits for the child `pid` (one of [`spawn`]'s) to end.
pub(super) fn wait(pid: u32) -> io::Result<ExitStatus> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes how our own child ended into a local.
        if unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) } != -1 {
            return Ok(ExitStatus::from_raw(status));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// How the child `pid` (one of [`spawn`]'s) ended, if it has: reaped then.
pub(super) fn try_wait(pid: u32) -> io::Result<Option<ExitStatus>> {
    let mut status = 0;
    // SAFETY: waitpid writes how our own child ended into a local, without waiting.
    match unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        _ => Ok(Some(ExitStatus::from_raw(status))),
    }
}

/// What the child does between `clone` and `execve`, all of it prepared by the parent.
struct Plan {
    program: CString,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    dir: Option<CString>,
    /// The descriptors that become the child's stdin, stdout and stderr.
    stdio: [RawFd; 3],
    parent: libc::pid_t,
    /// The `errno` of the step that failed in the child, 0 while none has.
    error: AtomicI32,
}

/// Starts `command` (program, arguments, environment — from scratch when `cleared` — and
/// directory; nothing else of it is read) with an empty stdin and its stdout and stderr piped,
/// leading a process group of its own, killed when the thread that started it ends.
pub(super) fn spawn(command: &std::process::Command, cleared: bool) -> io::Result<Spawned> {
    let env = environment(command, cleared);
    let program = resolve(command.get_program(), &env)?;
    let args: Vec<CString> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|arg| c_string(arg.as_bytes()))
        .collect::<io::Result<_>>()?;
    let vars: Vec<CString> = env
        .into_iter()
        .map(|(key, value)| c_string(&[key.as_bytes(), b"=", value.as_bytes()].concat()))
        .collect::<io::Result<_>>()?;
    let dir = command.get_current_dir();
    let dir = dir
        .map(|dir| c_string(dir.as_os_str().as_bytes()))
        .transpose()?;
    let null = File::open("/dev/null")?;
    let (stdout, stdout_end) = pipe()?;
    let (stderr, stderr_end) = pipe()?;
    let plan = Plan {
        program,
        argv: pointers(&args),
        envp: pointers(&vars),
        dir,
        stdio: [
            null.as_raw_fd(),
            stdout_end.as_raw_fd(),
            stderr_end.as_raw_fd(),
        ],
        parent: std::process::id() as libc::pid_t,
        error: AtomicI32::new(0),
    };
    let pid = clone(&plan)?;
    Ok(Spawned {
        pid,
        stdout: File::from(stdout),
        stderr: File::from(stderr),
    })
}

/// Runs the child of `plan` and returns its pid once it has exec'd, or the error of the step
/// that failed (the child then reaped).
fn clone(plan: &Plan) -> io::Result<u32> {
    let mut stack = Vec::<u8>::with_capacity(STACK);
    // SAFETY: the stack is only used by the child, while this thread is suspended
    // (CLONE_VFORK), and is freed after the child has exec'd or exited. All signals are
    // blocked around the clone so that no handler of the runner runs on the child's stack;
    // the child sets every handler back to its default before unblocking them.
    unsafe {
        let top = stack.as_mut_ptr().add(STACK);
        let top = top.sub(top as usize % 16).cast::<c_void>();
        let (mut all, mut before) = (std::mem::zeroed(), std::mem::zeroed());
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut before);
        let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
        let arg = std::ptr::from_ref(plan).cast_mut().cast::<c_void>();
        let pid = libc::clone(child, top, flags, arg);
        let cloned = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
        if pid == -1 {
            return Err(cloned);
        }
        match plan.error.load(Ordering::Acquire) {
            0 => Ok(pid as u32),
            code => {
                libc::waitpid(pid, std::ptr::null_mut(), 0);
                Err(io::Error::from_raw_os_error(code))
            }
        }
    }
}

/// The child, until its `execve`: only system calls, no allocation, no lock.
extern "C" fn child(plan: *mut c_void) -> c_int {
    // SAFETY: `plan` is the parent's `Plan`, alive while the parent is suspended.
    let plan = unsafe { &*plan.cast::<Plan>() };
    // SAFETY: see `exec`.
    let code = unsafe { exec(plan) };
    plan.error.store(code, Ordering::Release);
    // SAFETY: _exit ends the child without running anything of the runner's.
    unsafe { libc::_exit(127) }
}

/// The steps of the child; returns the `errno` of the one that failed.
///
/// # Safety
/// Called only in the child of [`clone`], with the parent suspended.
unsafe fn exec(plan: &Plan) -> c_int {
    let errno = || unsafe { *libc::__errno_location() };
    unsafe {
        default_signals();
        if libc::setpgid(0, 0) != 0 || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            return errno();
        }
        // The parent may have died before the prctl: then nobody would send the signal.
        if libc::getppid() != plan.parent {
            return libc::ESRCH;
        }
        for (target, fd) in plan.stdio.iter().enumerate() {
            // A descriptor already in place keeps its close-on-exec flag through dup2.
            let placed = match *fd == target as c_int {
                true => libc::fcntl(*fd, libc::F_SETFD, 0),
                false => libc::dup2(*fd, target as c_int),
            };
            if placed == -1 {
                return errno();
            }
        }
        if let Some(dir) = &plan.dir
            && libc::chdir(dir.as_ptr()) != 0
        {
            return errno();
        }
        let mut none = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::execve(
            plan.program.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        );
        errno()
    }
}

/// Sets every signal the runner handles back to its default in the child, and SIGPIPE too
/// (Rust programs ignore it; their children should not), as the standard library does.
unsafe fn default_signals() {
    unsafe {
        for signal in 1..=libc::SIGRTMAX() {
            let mut action: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut action) != 0 {
                continue;
            }
            let handled =
                action.sa_sigaction != libc::SIG_DFL && action.sa_sigaction != libc::SIG_IGN;
            if handled || signal == libc::SIGPIPE {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
    }
}

/// The child's environment: the runner's (unless cleared) with the command's changes.
fn environment(command: &std::process::Command, cleared: bool) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = match cleared {
        true => BTreeMap::new(),
        false => std::env::vars_os().collect(),
    };
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => env.insert(key.to_owned(), value.to_owned()),
            None => env.remove(key),
        };
    }
    env
}

/// The file `program` names: itself when it holds a `/`, else the first executable file of
/// that name in the child's `PATH` (the runner's when the child has none), as `execvp` finds
/// it.
fn resolve(program: &OsStr, env: &BTreeMap<OsString, OsString>) -> io::Result<CString> {
    if program.as_bytes().contains(&b'/') {
        return c_string(program.as_bytes());
    }
    let path = env
        .get(OsStr::new("PATH"))
        .cloned()
        .or_else(|| std::env::var_os("PATH"));
    let path = path.unwrap_or_else(|| OsString::from("/usr/local/bin:/bin:/usr/bin"));
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| executable(file))
        .map(|file| c_string(&file.into_os_string().into_vec()))
        .unwrap_or_else(|| Err(io::Error::from_raw_os_error(libc::ENOENT)))
}

fn executable(file: &Path) -> bool {
    std::fs::metadata(file)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "nul byte found in provided data",
        )
    })
}

/// The null-terminated array of pointers `execve` takes.
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    let pointers = strings.iter().map(|string| string.as_ptr());
    pointers.chain(std::iter::once(std::ptr::null())).collect()
}

/// A pipe, both ends closed on exec: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which are then owned here.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

#[cfg(test)]
mod tests {
    use super::{spawn, wait};
    use std::io::Read;
    use std::process::Command;

    /// What `command` writes to stdout, and how it ended.
    fn run(command: &Command, cleared: bool) -> (String, i32) {
        let mut spawned = spawn(command, cleared).expect("started");
        let mut out = String::new();
        spawned.stdout.read_to_string(&mut out).expect("read");
        let status = wait(spawned.pid).expect("waited");
        (out, status.code().unwrap_or(-1))
    }

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script, "zero", "one"]);
        command
    }

    #[test]
    fn a_child_has_its_arguments_directory_and_environment() {
        let dir = std::env::temp_dir().canonicalize().expect("temp dir");
        let mut command = sh(r#"echo "$0|$1|$(pwd)|$A|${HOME-unset}"; exit 3"#);
        command.current_dir(&dir).env_clear().env("A", "a");
        command.env("PATH", std::env::var_os("PATH").expect("PATH"));
        let expected = format!("zero|one|{}|a|unset\n", dir.display());
        assert_eq!(run(&command, true), (expected, 3));
        let mut command = sh(r#"echo "${HOME-unset}|${PATH:+path}""#);
        command.env_remove("HOME");
        assert_eq!(run(&command, false), ("unset|path\n".to_owned(), 0));
    }

    #[test]
    fn a_child_leads_its_group_with_no_signal_blocked_or_ignored() {
        // `exec`: the shell blocks every signal while it waits for a child of its own, so
        // the masks are read by the spawned process itself, after the shell is gone.
        let script = r#"echo $$; cut -d' ' -f5 /proc/$$/stat; exec grep -E '^Sig(Blk|Ign)' /proc/self/status"#;
        let mut spawned = spawn(&sh(script), false).expect("started");
        let mut out = String::new();
        spawned.stdout.read_to_string(&mut out).expect("read");
        wait(spawned.pid).expect("waited");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], spawned.pid.to_string(), "{out}");
        assert_eq!(lines[1], spawned.pid.to_string(), "its own group: {out}");
        assert_eq!(lines[2], "SigBlk:\t0000000000000000", "{out}");
        // The runner ignores SIGPIPE (bit 12); its children must not.
        let ignored = u64::from_str_radix(lines[3].trim_start_matches("SigIgn:\t"), 16);
        assert_eq!(ignored.expect("a mask") & 0x1000, 0, "{out}");
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error_and_leaves_no_child() {
        let missing = spawn(&Command::new("choochoo-no-such-program"), false).err();
        assert_eq!(
            missing.map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound)
        );
        let absent = spawn(&Command::new("/nonexistent/program"), false).err();
        assert_eq!(absent.map(|e| e.raw_os_error()), Some(Some(libc::ENOENT)));
        let plain = std::env::temp_dir().join(format!("choochoo-plain-{}", std::process::id()));
        std::fs::write(&plain, "not a program").expect("written");
        let refused = spawn(&Command::new(&plain), false).err();
        std::fs::remove_file(&plain).ok();
        assert_eq!(refused.map(|e| e.raw_os_error()), Some(Some(libc::EACCES)));
    }
}
