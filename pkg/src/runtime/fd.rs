//! The container's file descriptor table: stdio at 0–2, preserved descriptors at 3, 4, ... in order,
//! nothing else.
//!
//! The parent prepares an [`FdPlan`] (the source of every target number, and the sorted set of
//! descriptors the child needs during setup); the child first closes everything it inherited that is
//! not in that set (descriptors other threads of the caller opened, pipes of other containers being
//! started at the same moment), then moves the sources into place through copies above the target
//! range, so a source that already sits on another source's target is never clobbered. Just before
//! `execve`, everything from the first free number on is marked close-on-exec.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::error::RuntimeError;
use super::syscall::{SysResult, Syscall};

/// Where each container descriptor comes from.
#[derive(Clone, Debug)]
pub(crate) struct FdPlan {
    /// `sources[i]` becomes descriptor `i` in the container.
    sources: Vec<RawFd>,
    /// Descriptors the child keeps open during setup, sorted and unique.
    keep: Vec<RawFd>,
    /// Child-side scratch space (one slot per source), allocated here so the child never allocates.
    scratch: Vec<RawFd>,
}

impl FdPlan {
    /// Stdio and preserved descriptors of the caller; fails when one of them is not open.
    pub(crate) fn new(stdio: [RawFd; 3], preserve: &[RawFd]) -> Result<Self, RuntimeError> {
        let sources: Vec<RawFd> = stdio.iter().chain(preserve).copied().collect();
        for fd in &sources {
            // SAFETY: F_GETFD only queries the descriptor table.
            if *fd < 0 || unsafe { libc::fcntl(*fd, libc::F_GETFD) } < 0 {
                return Err(RuntimeError::invalid(format!(
                    "file descriptor {fd} given to the container is not open"
                )));
            }
        }
        let mut plan = FdPlan {
            scratch: vec![-1; sources.len()],
            keep: vec![0, 1, 2],
            sources,
        };
        plan.keep_also(&[]);
        Ok(plan)
    }

    /// How many descriptors the container gets (3 + preserved).
    pub(crate) fn count(&self) -> usize {
        self.sources.len()
    }

    /// Also keep `fds` (the runtime's own pipes and namespace descriptors) open in the child.
    pub(crate) fn keep_also(&mut self, fds: &[RawFd]) {
        self.keep.extend(self.sources.iter().copied());
        self.keep.extend_from_slice(fds);
        self.keep.sort_unstable();
        self.keep.dedup();
    }

    /// Close every inherited descriptor that is not in the keep set.
    pub(crate) fn close_others(&self, sys: &dyn Syscall) -> SysResult<()> {
        let mut next: u32 = 0;
        for fd in &self.keep {
            let fd = *fd as u32;
            if fd > next {
                sys.close_range(next, fd - 1)?;
            }
            next = fd + 1;
        }
        sys.close_range(next, u32::MAX)
    }

    /// Put every source at its target number (not close-on-exec). The copies made on the way are
    /// close-on-exec and closed here.
    pub(crate) fn install(&mut self, sys: &dyn Syscall) -> SysResult<()> {
        let first_free = self.sources.len() as RawFd;
        for i in 0..self.sources.len() {
            self.scratch[i] = sys.dup_at_least(self.sources[i], first_free)?;
        }
        for i in 0..self.sources.len() {
            sys.dup2(self.scratch[i], i as RawFd)?;
        }
        for i in 0..self.sources.len() {
            sys.close(self.scratch[i]);
        }
        Ok(())
    }

    /// Mark everything above the container's descriptors close-on-exec.
    pub(crate) fn seal(&self, sys: &dyn Syscall) -> SysResult<()> {
        sys.cloexec_from(self.sources.len() as u32)
    }
}

/// A copy of `fd` numbered `min` or above (close-on-exec), replacing `fd`. The runtime's own
/// descriptors must not sit where the container's will be put.
pub(crate) fn at_least(fd: OwnedFd, min: RawFd) -> Result<OwnedFd, RuntimeError> {
    if fd.as_raw_fd() >= min {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor we then own.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    if new < 0 {
        return Err(RuntimeError::host("duplicating a file descriptor", Errno::last()));
    }
    // SAFETY: `new` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;

    #[test]
    fn everything_outside_the_keep_set_is_closed() {
        let mut plan = FdPlan {
            sources: vec![5, 1, 2, 9],
            keep: vec![0, 1, 2],
            scratch: vec![-1; 4],
        };
        plan.keep_also(&[20, 21]);
        let sys = RecordingSyscall::new();
        plan.close_others(&sys).unwrap();
        assert_eq!(
            sys.calls(),
            vec![
                "close_range 3 4",
                "close_range 6 8",
                "close_range 10 19",
                "close_range 22 4294967295"
            ]
        );
    }

    #[test]
    fn sources_go_through_copies_above_the_targets() {
        // stdin from 5, stdout and stderr swapped, one preserved descriptor that sits on target 0.
        let mut plan = FdPlan {
            sources: vec![5, 2, 1, 0],
            keep: vec![],
            scratch: vec![-1; 4],
        };
        let sys = RecordingSyscall::new();
        plan.install(&sys).unwrap();
        let calls = sys.calls();
        assert_eq!(
            &calls[..4],
            &["dup 5 >= 4", "dup 2 >= 4", "dup 1 >= 4", "dup 0 >= 4"]
        );
        assert_eq!(
            &calls[4..],
            &["dup2 100 0", "dup2 101 1", "dup2 102 2", "dup2 103 3"]
        );
        plan.seal(&sys).unwrap();
        assert_eq!(sys.calls().last().unwrap(), "cloexec_from 4");
    }

    #[test]
    fn closed_descriptors_are_refused() {
        assert!(FdPlan::new([0, 1, 2], &[987_654]).is_err());
    }
}
