//! The two channels between selkie and the process it starts.
//!
//! `go` (parent → child, a socket pair): the child blocks reading one byte until the caller's `before_exec` callback
//! has run; end-of-file means the parent is gone and the child exits. `report` (child → parent, a pipe,
//! both ends close-on-exec): fixed-size [`Message`]s — `Ready` (namespaces exist, waiting for go), `Pid` (the
//! intermediate created the init), `Failure` (a step failed; the child then exits). A successful
//! `execve` closes the child's write end, so end-of-file after go means the workload runs.
//! Messages are smaller than `PIPE_BUF`, so writes from the intermediate and the init never interleave.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::Pid;

use crate::runtime::error::RuntimeError;
use crate::runtime::fd;
use crate::runtime::step::{Failure, Step};
use crate::runtime::syscall::SysResult;

const READY: u32 = 1;
const PID: u32 = 2;
const FAILURE: u32 = 3;

/// One report, as written on the pipe.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Message {
    kind: u32,
    step: u32,
    index: u32,
    errno: i32,
    pid: i32,
}

/// A decoded report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Report {
    Ready,
    Pid(Pid),
    Failure(Failure),
}

impl Message {
    pub(crate) fn ready() -> Self {
        Message {
            kind: READY,
            ..Default::default()
        }
    }

    pub(crate) fn pid(pid: libc::pid_t) -> Self {
        Message {
            kind: PID,
            pid,
            ..Default::default()
        }
    }

    pub(crate) fn failure(failure: &Failure) -> Self {
        Message {
            kind: FAILURE,
            step: failure.step as u32,
            index: failure.index,
            errno: failure.errno as i32,
            pid: 0,
        }
    }

    fn decode(&self) -> Option<Report> {
        match self.kind {
            READY => Some(Report::Ready),
            PID => Some(Report::Pid(Pid::from_raw(self.pid))),
            FAILURE => Some(Report::Failure(Failure {
                step: Step::from_wire(self.step)?,
                index: self.index,
                errno: Errno::from_raw(self.errno),
            })),
            _ => None,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        // SAFETY: Message is repr(C) plain integers without padding.
        unsafe {
            std::slice::from_raw_parts(
                self as *const Message as *const u8,
                std::mem::size_of::<Message>(),
            )
        }
    }
}

/// What the init needs from its parent during setup; [`ChildEnds`] is the real one.
pub(crate) trait ParentLink {
    /// Tell the parent the namespaces exist and the process waits for go.
    fn ready(&self) -> SysResult<()>;
    /// Block until the parent says go.
    fn wait_go(&self) -> SysResult<()>;
}

/// The child's ends of the pipes, as raw numbers (the child never drops anything).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChildEnds {
    pub go: RawFd,
    pub report: RawFd,
}

impl ChildEnds {
    /// Write one message (allocation-free).
    pub(crate) fn send(&self, message: &Message) -> SysResult<()> {
        let bytes = message.as_bytes();
        loop {
            // SAFETY: pointer and length of a live buffer.
            let n = unsafe { libc::write(self.report, bytes.as_ptr() as *const libc::c_void, bytes.len()) };
            if n >= 0 {
                return Ok(());
            }
            let e = Errno::last();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }
}

impl ParentLink for ChildEnds {
    fn ready(&self) -> SysResult<()> {
        self.send(&Message::ready())
    }

    fn wait_go(&self) -> SysResult<()> {
        let mut byte = 0u8;
        loop {
            // SAFETY: one-byte buffer on the stack.
            let n = unsafe { libc::read(self.go, &mut byte as *mut u8 as *mut libc::c_void, 1) };
            match n {
                1 => return Ok(()),
                0 => return Err(Errno::EPIPE),
                _ if Errno::last() == Errno::EINTR => continue,
                _ => return Err(Errno::last()),
            }
        }
    }
}

/// The go socket pair and the report pipe, held by the parent until the child exists.
pub(crate) struct Channel {
    pub go_read: OwnedFd,
    pub go_write: OwnedFd,
    pub report_read: OwnedFd,
    pub report_write: OwnedFd,
}

fn pipe(min: RawFd) -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    let (r, w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| RuntimeError::host("creating a pipe", e))?;
    Ok((fd::at_least(r, min)?, fd::at_least(w, min)?))
}

/// A connected pair of stream sockets (the go channel: `send` can suppress `SIGPIPE`, `write` cannot).
fn socket_pair(min: RawFd) -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    let mut fds = [-1; 2];
    // SAFETY: socketpair fills two descriptors we then own.
    let ret = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if ret < 0 {
        return Err(RuntimeError::host("creating a socket pair", Errno::last()));
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((fd::at_least(a, min)?, fd::at_least(b, min)?))
}

impl Channel {
    /// Both channels, close-on-exec, numbered `min` or above.
    pub(crate) fn new(min: RawFd) -> Result<Self, RuntimeError> {
        let (go_read, go_write) = socket_pair(min)?;
        let (report_read, report_write) = pipe(min)?;
        Ok(Channel {
            go_read,
            go_write,
            report_read,
            report_write,
        })
    }

    pub(crate) fn child_ends(&self) -> ChildEnds {
        ChildEnds {
            go: self.go_read.as_raw_fd(),
            report: self.report_write.as_raw_fd(),
        }
    }
}

/// Read the next report; `None` at end-of-file (every child end closed: exec'd or exited).
pub(crate) fn receive(report: &OwnedFd) -> Result<Option<Report>, RuntimeError> {
    let mut message = Message::default();
    let size = std::mem::size_of::<Message>();
    let mut filled = 0;
    while filled < size {
        // SAFETY: writes stay within `message`, a repr(C) struct of integers.
        let n = unsafe {
            libc::read(
                report.as_raw_fd(),
                (&mut message as *mut Message as *mut u8).add(filled) as *mut libc::c_void,
                size - filled,
            )
        };
        match n {
            0 if filled == 0 => return Ok(None),
            0 => return Err(RuntimeError::host("reading the container's report", Errno::EPIPE)),
            n if n > 0 => filled += n as usize,
            _ if Errno::last() == Errno::EINTR => continue,
            _ => {
                return Err(RuntimeError::host(
                    "reading the container's report",
                    Errno::last(),
                ))
            }
        }
    }
    message
        .decode()
        .map(Some)
        .ok_or_else(|| RuntimeError::host("reading the container's report", Errno::EBADMSG))
}

/// Let the child go. A child that already exited is noticed on the report pipe, so the result is
/// ignored; `MSG_NOSIGNAL` keeps a vanished child from raising `SIGPIPE` in the caller.
pub(crate) fn send_go(go: OwnedFd) {
    // SAFETY: one byte from a static buffer on a socket we own.
    unsafe {
        libc::send(
            go.as_raw_fd(),
            b"g".as_ptr() as *const libc::c_void,
            1,
            libc::MSG_NOSIGNAL,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_a_pipe() {
        let channel = Channel::new(10).unwrap();
        assert!(channel.go_read.as_raw_fd() >= 10 && channel.report_write.as_raw_fd() >= 10);
        let ends = channel.child_ends();
        ends.ready().unwrap();
        ends.send(&Message::pid(42)).unwrap();
        ends.send(&Message::failure(&Failure::new(Step::Mount, 3, Errno::EPERM)))
            .unwrap();
        drop(channel.report_write);
        assert_eq!(receive(&channel.report_read).unwrap(), Some(Report::Ready));
        assert_eq!(
            receive(&channel.report_read).unwrap(),
            Some(Report::Pid(Pid::from_raw(42)))
        );
        assert_eq!(
            receive(&channel.report_read).unwrap(),
            Some(Report::Failure(Failure::new(Step::Mount, 3, Errno::EPERM)))
        );
        assert_eq!(receive(&channel.report_read).unwrap(), None);
    }

    #[test]
    fn go_is_one_byte_and_a_vanished_parent_is_end_of_file() {
        let channel = Channel::new(3).unwrap();
        let ends = channel.child_ends();
        send_go(channel.go_write);
        assert_eq!(ends.wait_go(), Ok(()));
        assert_eq!(ends.wait_go(), Err(Errno::EPIPE));
    }
}
