//! The container's init: from the moment it is cloned until `execve` of the workload.
//!
//! In order (runc's order where the two overlap):
//!
//! 1. non-dumpable (`PR_SET_DUMPABLE 0`: nothing in the container can open this process's
//!    `/proc/PID/exe`, the selkie binary, CVE-2019-5736); signal dispositions reset to default
//!    (signals stay blocked until just before `execve`);
//! 2. every inherited descriptor closed except stdio, preserved and the runtime's own;
//! 3. `setns` into the namespaces given by path (unless the intermediate did);
//! 4. stdio and preserved descriptors moved to 0, 1, 2, 3...;
//! 5. report ready, wait for go (the caller's `before_exec` runs meanwhile: cgroup, network);
//! 6. new cgroup namespace (rooted at the cgroup the caller just chose);
//! 7. terminal: `setsid` + `TIOCSCTTY` on stdin;
//! 8. `oom_score_adj`; umask 0 for the setup;
//! 9. the filesystem up to `pivot_root` (`rootfs::RootfsPlan::prepare`);
//! 10. sysctls (in the container's `/proc/sys`, before it is made read-only);
//! 11. read-only and masked paths, read-only root (`RootfsPlan::finalize`);
//! 12. hostname, domain name, resource limits;
//! 13. `chdir(cwd)` (retried after the user change if root may not enter it), bounding set,
//!     `PR_SET_KEEPCAPS`, groups, gid, uid, capability sets, ambient capabilities;
//! 14. the process umask, `no_new_privs`, seccomp (runc's order: without `no_new_privs` loading a
//!     filter needs `CAP_SYS_ADMIN`, so then it is loaded before the user and capability changes of
//!     step 13, which the filter must allow);
//! 15. signals unblocked, every descriptor above the container's marked close-on-exec;
//! 16. `execve` (through `$PATH`), which closes the report pipe: the parent's sign of success.
//!
//! It never touches `/proc/self/loginuid`: the container inherits the caller's audit identity.

use std::convert::Infallible;

use nix::errno::Errno;
use nix::sched::CloneFlags;

use super::channel::{Message, ParentLink};
use super::plan::InitPlan;
use crate::runtime::step::{Failure, Step};
use crate::runtime::syscall::Syscall;

/// Run the init and never return: `execve` succeeds, or the failure is reported and the process exits.
pub(crate) fn main(sys: &dyn Syscall, plan: &mut InitPlan, joined: bool) -> ! {
    let _guard = super::ExitOnUnwind;
    let channel = plan.channel;
    let failure = match run(sys, plan, &channel, joined) {
        Err(failure) => failure,
        Ok(never) => match never {},
    };
    let _ = channel.send(&Message::failure(&failure));
    // SAFETY: ends the process; nothing of the caller's runs.
    unsafe { libc::_exit(127) }
}

/// Steps 1–16 of the module docs. `joined`: the intermediate already joined the namespaces.
pub(crate) fn run(
    sys: &dyn Syscall,
    plan: &mut InitPlan,
    parent: &dyn ParentLink,
    joined: bool,
) -> Result<Infallible, Failure> {
    sys.set_dumpable(false).map_err(Failure::at(Step::Dumpable))?;
    sys.reset_signal_dispositions();
    plan.fds
        .close_others(sys)
        .map_err(Failure::at_index(Step::Fds, 0))?;
    if !joined {
        plan.namespaces.join(sys)?;
    }
    plan.fds.install(sys).map_err(Failure::at_index(Step::Fds, 1))?;

    parent.ready().map_err(Failure::at(Step::WaitGo))?;
    parent.wait_go().map_err(Failure::at(Step::WaitGo))?;

    if plan.namespaces.unshare_cgroup {
        sys.unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(Failure::at(Step::UnshareCgroup))?;
    }
    if plan.terminal {
        sys.setsid().map_err(Failure::at(Step::Terminal))?;
        sys.set_controlling_terminal(0)
            .map_err(Failure::at(Step::Terminal))?;
    }
    if let Some(adj) = &plan.oom_score_adj {
        sys.write_file(c"/proc/self/oom_score_adj", adj.as_bytes())
            .map_err(Failure::at(Step::OomScoreAdj))?;
    }
    sys.umask(0);

    if let Some(rootfs) = &plan.rootfs {
        rootfs.prepare(sys)?;
    }
    for (index, sysctl) in plan.sysctls.iter().enumerate() {
        sys.write_file(&sysctl.path, sysctl.value.as_bytes())
            .map_err(Failure::at_index(Step::Sysctl, index))?;
    }
    if let Some(rootfs) = &plan.rootfs {
        rootfs.finalize(sys)?;
    }

    if let Some(name) = &plan.hostname {
        sys.sethostname(name.as_bytes())
            .map_err(Failure::at(Step::Hostname))?;
    }
    if let Some(name) = &plan.domainname {
        sys.setdomainname(name.as_bytes())
            .map_err(Failure::at(Step::Domainname))?;
    }
    for (index, limit) in plan.rlimits.iter().enumerate() {
        sys.setrlimit(limit.resource, limit.soft, limit.hard)
            .map_err(Failure::at_index(Step::Rlimit, index))?;
    }
    // A user namespace of the container's own, now that every mount is made: the parent maps it.
    if plan.namespaces.user_maps.is_some() {
        sys.unshare(CloneFlags::CLONE_NEWUSER)
            .map_err(Failure::at_index(Step::UnshareCgroup, 1))?;
        parent.ready().map_err(Failure::at(Step::WaitGo))?;
        parent.wait_go().map_err(Failure::at(Step::WaitGo))?;
    }

    if !plan.no_new_privs {
        load_seccomp(sys, plan)?;
    }

    // Enter the working directory as root if possible (it may be readable only by root); if root is
    // refused (a root-squashed network filesystem), try again as the container user.
    let chdir_as_user = match sys.chdir(&plan.cwd) {
        Ok(()) => false,
        Err(Errno::EACCES) | Err(Errno::EPERM) => true,
        Err(e) => return Err(Failure::new(Step::Chdir, 0, e)),
    };
    plan.caps.apply_bounding(sys)?;
    sys.set_keep_caps(true).map_err(Failure::at(Step::KeepCaps))?;
    plan.user.apply(sys)?;
    if chdir_as_user {
        sys.chdir(&plan.cwd).map_err(Failure::at(Step::Chdir))?;
    }
    sys.set_keep_caps(false).map_err(Failure::at(Step::KeepCaps))?;
    plan.caps.apply_sets(sys)?;

    sys.umask(plan.user.umask);
    if plan.no_new_privs {
        sys.set_no_new_privs().map_err(Failure::at(Step::NoNewPrivs))?;
    }
    // With no_new_privs (which lets an unprivileged process load it) the filter is loaded as late
    // as possible, so it only has to allow what the workload needs plus `execve` itself.
    if plan.no_new_privs {
        load_seccomp(sys, plan)?;
    }

    sys.unblock_signals().map_err(Failure::at(Step::Signals))?;
    plan.fds.seal(sys).map_err(Failure::at(Step::CloseFds))?;
    let (index, errno) = plan.exec.exec(sys);
    Err(Failure::new(Step::Exec, index, errno))
}

/// Loads the plan's seccomp filters, in order.
fn load_seccomp(sys: &dyn Syscall, plan: &InitPlan) -> Result<(), Failure> {
    for (index, prog) in plan.seccomp.iter().enumerate() {
        sys.seccomp_filter(prog)
            .map_err(Failure::at_index(Step::Seccomp, index))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::process::channel::ChildEnds;
    use crate::runtime::syscall::recording::RecordingSyscall;
    use crate::runtime::syscall::SysResult;
    use crate::runtime::SpawnRequest;
    use oci_spec::runtime::{RootBuilder, Spec};

    struct FakeParent<'a>(&'a RecordingSyscall);

    impl ParentLink for FakeParent<'_> {
        fn ready(&self) -> SysResult<()> {
            self.0.sethostname(b"<ready>")
        }
        fn wait_go(&self) -> SysResult<()> {
            self.0.sethostname(b"<go>")
        }
    }

    fn plan(spec: &Spec) -> InitPlan {
        let req = SpawnRequest::new(spec, [0, 1, 2]);
        let mut plan = InitPlan::for_container(&req).unwrap();
        plan.channel = ChildEnds { go: 50, report: 51 };
        plan
    }

    fn default_spec() -> Spec {
        let mut spec = Spec::default();
        spec.set_root(Some(
            RootBuilder::default().path("/r").readonly(false).build().unwrap(),
        ));
        spec
    }

    #[test]
    fn the_init_runs_its_steps_in_order_and_ends_in_execve() {
        let spec = default_spec();
        let mut plan = plan(&spec);
        let sys = RecordingSyscall::new();
        sys.set_non_directory("/proc/kcore");
        let failure = run(&sys, &mut plan, &FakeParent(&sys), false).unwrap_err();
        // The recording double's execve fails with ENOENT: `sh` is searched along the whole PATH.
        assert_eq!((failure.step, failure.errno), (Step::Exec, Errno::ENOENT));
        let calls = sys.calls();
        assert_eq!(
            calls[0], "dumpable false",
            "nothing may happen before the process is non-dumpable"
        );
        let order = [
            "reset_signals",
            "close_range",
            "dup2 100 0",
            "sethostname <ready>",
            "sethostname <go>",
            "unshare CloneFlags(CLONE_NEWCGROUP)",
            "umask 0",
            "mount - -> / type=- flags=REC|PRIVATE",
            "pivot_root",
            "mount /proc/bus -> /proc/bus",
            "mount /dev/null -> /proc/kcore",
            "sethostname youki",
            "setrlimit 7 1024 1024",
            "chdir /",
            "drop_bounding 0",
            "keepcaps true",
            "setgroups []",
            "setresgid 0",
            "setresuid 0",
            "keepcaps false",
            "capset e=0x20000420 p=0x20000420 i=0x20000420",
            "ambient_clear",
            "ambient_raise 5",
            "umask 22",
            "no_new_privs",
            "unblock_signals",
            "cloexec_from 3",
            "execve /usr/local/sbin/sh",
        ];
        sys.assert_in_order(&order);
        assert!(
            !calls.iter().any(|c| c.contains("loginuid")),
            "loginuid must never be touched"
        );
    }

    #[test]
    fn a_root_refused_cwd_is_entered_after_the_user_change() {
        let mut spec = default_spec();
        spec.process_mut().as_mut().unwrap().set_cwd("/home/u".into());
        let mut plan = plan(&spec);
        let sys = RecordingSyscall::new();
        sys.fail("chdir /home/u", Errno::EACCES);
        let failure = run(&sys, &mut plan, &FakeParent(&sys), false).unwrap_err();
        // The second attempt fails too (same recorded prefix), after setresuid.
        assert_eq!(failure.step, Step::Chdir);
        let calls = sys.calls();
        let chdirs: Vec<usize> = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| *c == "chdir /home/u")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(chdirs.len(), 2, "{calls:#?}");
        assert!(chdirs[0] < sys.position("setresuid"));
        assert!(chdirs[1] > sys.position("setresuid"));
        assert!(
            calls.contains(&"mkdir /r/home 755".to_string())
                || calls.contains(&"open_in_root /r/home/u".to_string())
        );
        assert_eq!(
            plan.error(&failure).to_string(),
            "changing to the working directory /home/u: EACCES: Permission denied"
        );
    }

    fn with_seccomp(no_new_privs: bool) -> Spec {
        let mut spec = default_spec();
        let profile = crate::seccomp::Profile::default_profile();
        let arch = crate::seccomp::HostArch::native().unwrap();
        let caps = ["CAP_CHOWN".to_string()].into_iter().collect();
        let section = crate::seccomp::resolve(&profile, &caps, &arch, None).unwrap();
        spec.linux_mut().as_mut().unwrap().set_seccomp(Some(section));
        let process = spec.process_mut().as_mut().unwrap();
        process.set_no_new_privileges(Some(no_new_privs));
        spec
    }

    #[test]
    fn seccomp_is_loaded_before_the_capability_drop_without_no_new_privs_and_last_with_it() {
        let spec = with_seccomp(false);
        let mut p = plan(&spec);
        assert_eq!(p.seccomp.len(), 3);
        let sys = RecordingSyscall::new();
        run(&sys, &mut p, &FakeParent(&sys), false).unwrap_err();
        let seccomp: Vec<usize> = (0..sys.calls().len())
            .filter(|i| sys.calls()[*i].starts_with("seccomp "))
            .collect();
        assert_eq!(seccomp.len(), 3);
        assert!(seccomp[2] < sys.position("drop_bounding") && seccomp[0] > sys.position("pivot_root"));

        let spec = with_seccomp(true);
        let mut p = plan(&spec);
        let sys = RecordingSyscall::new();
        run(&sys, &mut p, &FakeParent(&sys), false).unwrap_err();
        sys.assert_in_order(&[
            "capset",
            "no_new_privs",
            "seccomp",
            "seccomp",
            "seccomp",
            "unblock_signals",
        ]);
    }

    #[test]
    fn a_refused_filter_is_reported() {
        let spec = with_seccomp(false);
        let mut p = plan(&spec);
        let sys = RecordingSyscall::new();
        sys.fail("seccomp", Errno::EACCES);
        let failure = run(&sys, &mut p, &FakeParent(&sys), false).unwrap_err();
        assert_eq!((failure.step, failure.errno), (Step::Seccomp, Errno::EACCES));
        assert_eq!(
            p.error(&failure).to_string(),
            "loading the seccomp filter: EACCES: Permission denied"
        );
    }
}
