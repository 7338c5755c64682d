//! selkie's side of starting a container process.
//!
//! With the plan prepared: create the go socket and report pipe above the container's descriptor
//! range, block every signal (so nothing of the caller's runs in the child), clone — the init directly
//! with its new namespaces, or the intermediate when a PID namespace is joined — and restore the mask.
//! Then collect the init's PID and readiness, run the caller's `before_exec` callback with the PID
//! (killing the process if it fails), send go, and read the report pipe until end-of-file (the
//! workload was exec'd) or a failure (the child exits; it is reaped and the failure explained).

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::channel::{self, Channel, Report};
use super::plan::InitPlan;
use crate::runtime::error::RuntimeError;
use crate::runtime::syscall::linux::LinuxSyscall;
use crate::runtime::BeforeExec;

/// Every signal blocked on the calling thread until dropped.
struct BlockedSignals(libc::sigset_t);

impl BlockedSignals {
    fn all() -> Self {
        // SAFETY: sigset_t values initialised by sigfillset/pthread_sigmask.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            BlockedSignals(old)
        }
    }
}

impl Drop for BlockedSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `all`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
    }
}

/// Wait for `pid` to end, retrying on `EINTR`.
pub(crate) fn reap(pid: Pid) -> Result<WaitStatus, Errno> {
    loop {
        match waitpid(pid, None) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

fn describe_status(status: Result<WaitStatus, Errno>) -> String {
    match status {
        Ok(WaitStatus::Exited(_, code)) => format!("exited with code {code}"),
        Ok(WaitStatus::Signaled(_, signal, _)) => format!("killed by {signal}"),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("could not be waited for: {e}"),
    }
}

/// Kill and reap what was started and not reaped yet; used on every error path after the clone.
/// (Only unreaped children are signalled: a reaped PID may already belong to someone else.)
fn abandon(unreaped: &[Option<Pid>]) {
    for pid in unreaped.iter().flatten() {
        let _ = kill(*pid, Signal::SIGKILL);
        let _ = reap(*pid);
    }
}

/// Start the process described by `plan`; returns the init's PID once it has exec'd.
pub(crate) fn start(plan: &mut InitPlan, before_exec: Option<&BeforeExec<'_>>) -> Result<Pid, RuntimeError> {
    let container_fds = plan.fds.count() as i32;
    plan.namespaces.relocate_fds(container_fds)?;
    let channel = Channel::new(container_fds)?;
    plan.channel = channel.child_ends();
    let mut internal = plan.namespaces.raw_fds();
    internal.extend([plan.channel.go, plan.channel.report]);
    plan.fds.keep_also(&internal);

    let intermediate = plan.namespaces.intermediate;
    let flags = if intermediate {
        nix::sched::CloneFlags::empty()
    } else {
        plan.namespaces.clone_flags
    };
    let first = {
        let _blocked = BlockedSignals::all();
        // SAFETY: the child runs only `intermediate::main` / `init::main`, which are allocation-free and
        // end in execve or _exit.
        match unsafe { super::clone_process(flags, false) } {
            Ok(0) => {
                let sys = LinuxSyscall;
                if intermediate {
                    super::intermediate::main(&sys, plan)
                } else {
                    super::init::main(&sys, plan, false)
                }
            }
            Ok(pid) => Pid::from_raw(pid),
            Err(errno) => return Err(RuntimeError::host("creating the container process", errno)),
        }
    };
    let Channel {
        go_read,
        go_write,
        report_read,
        report_write,
    } = channel;
    drop((go_read, report_write));
    finish(plan, first, before_exec, go_write, report_read)
}

fn finish(
    plan: &InitPlan,
    first: Pid,
    before_exec: Option<&BeforeExec<'_>>,
    go_write: OwnedFd,
    report: OwnedFd,
) -> Result<Pid, RuntimeError> {
    // The process cloned first: the init itself, or the intermediate until it has been reaped.
    let mut intermediate = plan.namespaces.intermediate.then_some(first);
    let mut init = if plan.namespaces.intermediate {
        None
    } else {
        Some(first)
    };
    let mut go = Some(go_write);
    // A user namespace the init unshares late needs a second go, once its maps are written.
    let mut late_go = plan
        .namespaces
        .user_maps
        .as_ref()
        .and_then(|_| go.as_ref()?.try_clone().ok());
    if before_exec.is_none() {
        // Nothing to do between creation and setup: let the child run without a round trip.
        channel::send_go(go.take().expect("go is set"));
    }
    let mut ready = false;
    let mut failure = None;
    let mut ended = false;
    // Learn the init's PID (always: even a failed init must be reaped, or the PID namespace it joined
    // cannot finish dying) and, when there is a callback to run, wait until the init is ready for it.
    while init.is_none() || (go.is_some() && !ready && failure.is_none()) {
        match channel::receive(&report) {
            Ok(Some(Report::Ready)) => ready = true,
            Ok(Some(Report::Pid(pid))) => {
                init = Some(pid);
                if let Some(pid) = intermediate.take() {
                    let _ = reap(pid);
                }
            }
            Ok(Some(Report::Failure(f))) => {
                failure.get_or_insert(f);
            }
            Ok(None) => {
                ended = true;
                break;
            }
            Err(e) => {
                abandon(&[intermediate, init]);
                return Err(e);
            }
        }
    }
    if let Some(failure) = failure {
        abandon(&[intermediate, init]);
        return Err(plan.error(&failure));
    }
    if ended {
        // Every writer is gone before the init was ready. The one process not reaped yet (the init, or
        // the intermediate when no PID came) has ended.
        let status = describe_status(reap(init.or(intermediate).expect("one process is unreaped")));
        return Err(RuntimeError::DiedDuringSetup(status));
    }
    let init = init.expect("the loop ends with the init's pid");
    if let Some(go) = go {
        if let Some(callback) = before_exec {
            if let Err(e) = callback(init) {
                abandon(&[Some(init)]);
                return Err(RuntimeError::BeforeExec(e));
            }
        }
        channel::send_go(go);
    }
    loop {
        match channel::receive(&report) {
            Ok(Some(Report::Failure(failure))) => {
                let _ = reap(init);
                return Err(plan.error(&failure));
            }
            // The second ready: the init has unshared its user namespace; map it, then go again.
            Ok(Some(Report::Ready)) if ready && late_go.is_some() => {
                let maps = plan
                    .namespaces
                    .user_maps
                    .as_ref()
                    .expect("a late go comes with maps");
                if let Err(e) = maps.write(init) {
                    abandon(&[Some(init)]);
                    return Err(e);
                }
                channel::send_go(late_go.take().expect("checked above"));
            }
            Ok(Some(Report::Ready)) => ready = true,
            Ok(Some(_)) => continue,
            Ok(None) => return Ok(init),
            Err(e) => {
                abandon(&[Some(init)]);
                return Err(e);
            }
        }
    }
}
