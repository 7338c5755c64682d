//! The processes that start a container, one file per role:
//!
//! - `parent.rs` — selkie's side: prepares the plan, clones, runs the caller's `before_exec`
//!   callback with the init's PID, says go, and waits for exec or a failure report.
//! - `intermediate.rs` — only when a PID namespace must be joined: joins the namespaces and clones the
//!   init with `CLONE_PARENT`, reports its PID, exits.
//! - `init.rs` — the container's first process: namespaces, filesystem, limits, identity, `execve`.
//!
//! The child side runs in a raw `clone` of a possibly multi-threaded process: it must not allocate,
//! lock, format or panic. Everything it needs is in the [`plan::InitPlan`] built before the clone.

pub(crate) mod channel;
pub(crate) mod init;
pub(crate) mod intermediate;
pub(crate) mod parent;
pub(crate) mod plan;

use nix::errno::Errno;
use nix::sched::CloneFlags;

/// `fork(2)` with namespace flags: the raw `clone` system call with no new stack, so the child
/// continues from here on a copy of the caller's stack. With `parent`, the new process becomes a child
/// of the caller's parent (`CLONE_PARENT`). Returns 0 in the child.
///
/// # Safety
/// The child must only make allocation-free, lock-free system calls and must end in `execve` or
/// `_exit`, never returning into code that assumes the caller's other threads exist. Unlike libc's
/// `fork`, no `atfork` handlers run.
pub(crate) unsafe fn clone_process(flags: CloneFlags, parent: bool) -> Result<libc::pid_t, Errno> {
    let mut bits = flags.bits() as libc::c_ulong | libc::SIGCHLD as libc::c_ulong;
    if parent {
        bits |= libc::CLONE_PARENT as libc::c_ulong;
    }
    // With a NULL stack and no TID/TLS pointers, the argument order (which differs between
    // architectures after `flags`) does not matter.
    let ret = libc::syscall(libc::SYS_clone, bits, 0usize, 0usize, 0usize, 0usize);
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret as libc::pid_t)
    }
}

/// Ends the child if anything on its side ever unwinds, so it can never run the caller's code.
pub(crate) struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        // SAFETY: _exit ends the process without running anything else.
        unsafe { libc::_exit(125) }
    }
}
