//! The intermediate process, used when the init must be created inside an existing PID namespace
//! (`setns` on a PID namespace applies to children only) and always for `exec_in`.
//!
//! It becomes non-dumpable, closes inherited descriptors, joins the namespaces, then clones the init
//! with the new namespaces and `CLONE_PARENT` — so the init is the caller's child, waitable by it —
//! reports the init's PID (in the caller's PID namespace) and exits. The intermediate is also where a
//! new user namespace will be created and mapped before the init is cloned into it.

use super::channel::{ChildEnds, Message};
use super::plan::InitPlan;
use crate::runtime::step::{Failure, Step};
use crate::runtime::syscall::Syscall;

/// Run the intermediate and never return.
pub(crate) fn main(sys: &dyn Syscall, plan: &mut InitPlan) -> ! {
    let _guard = super::ExitOnUnwind;
    let channel: ChildEnds = plan.channel;
    let message = match run(sys, plan) {
        Ok(pid) => Message::pid(pid),
        Err(failure) => Message::failure(&failure),
    };
    let code = if channel.send(&message).is_ok() { 0 } else { 1 };
    // SAFETY: ends the process; nothing of the caller's runs.
    unsafe { libc::_exit(code) }
}

fn run(sys: &dyn Syscall, plan: &mut InitPlan) -> Result<libc::pid_t, Failure> {
    sys.set_dumpable(false).map_err(Failure::at(Step::Dumpable))?;
    sys.reset_signal_dispositions();
    plan.fds
        .close_others(sys)
        .map_err(Failure::at_index(Step::Fds, 0))?;
    plan.namespaces.join(sys)?;
    // SAFETY: the init only runs `init::main`, which ends in execve or _exit.
    match unsafe { super::clone_process(plan.namespaces.clone_flags, true) } {
        Ok(0) => super::init::main(sys, plan, true),
        Ok(pid) => Ok(pid),
        Err(errno) => Err(Failure::new(Step::CloneInit, 0, errno)),
    }
}
