//! What a container process was doing when it failed: the vocabulary of failure reports.
//!
//! The child cannot allocate, so it reports a [`Failure`]: a [`Step`], an index into the list the step
//! worked through (the mount, device, namespace, sysctl... of the prepared plan) and the errno. The
//! parent holds the same plan and turns the triple into a sentence.

use nix::errno::Errno;

/// One step of starting a container process. The numeric values are the wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Step {
    /// Closing inherited descriptors, moving stdio and preserved descriptors into place.
    Fds = 1,
    /// `PR_SET_DUMPABLE 0`.
    Dumpable,
    /// `setns` into the namespace at `index` of the join list.
    Join,
    /// Creating the container init from the intermediate process.
    CloneInit,
    /// Waiting for the parent's go-ahead.
    WaitGo,
    /// Creating the cgroup namespace.
    UnshareCgroup,
    /// `setsid` and `TIOCSCTTY` on the terminal.
    Terminal,
    /// Writing `/proc/self/oom_score_adj`.
    OomScoreAdj,
    /// Setting the propagation of `/` (index 0: before anything, 1: after `pivot_root`).
    RootPropagation,
    /// Mounting the overlay at the root path.
    Overlay,
    /// Binding the root path onto itself.
    BindRoot,
    /// Opening the root path.
    OpenRoot,
    /// Creating the mount point of rootfs operation `index`.
    MountPoint,
    /// Mounting rootfs operation `index`.
    Mount,
    /// Remounting rootfs operation `index` with its flags.
    Remount,
    /// Setting the propagation of rootfs operation `index`.
    Propagation,
    /// Creating device node `index`.
    Device,
    /// Bind-mounting the host's node for device `index` after `mknod` was refused.
    DeviceBind,
    /// Creating symlink `index`.
    Symlink,
    /// Creating directory `index` (the working directory).
    Mkdir,
    /// `pivot_root` and detaching the old root (index: sub-step).
    PivotRoot,
    /// Writing sysctl `index`.
    Sysctl,
    /// Making path `index` of `readonlyPaths` read-only.
    ReadonlyPath,
    /// Masking path `index` of `maskedPaths`.
    MaskedPath,
    /// Remounting the root read-only.
    ReadonlyRoot,
    /// `sethostname`.
    Hostname,
    /// `setdomainname`.
    Domainname,
    /// Setting resource limit `index`.
    Rlimit,
    /// Changing to the working directory.
    Chdir,
    /// Dropping capability `index` from the bounding set.
    BoundingSet,
    /// `PR_SET_KEEPCAPS`.
    KeepCaps,
    /// `setgroups`.
    Groups,
    /// `setresgid`.
    Gid,
    /// `setresuid`.
    Uid,
    /// `capset`.
    Capset,
    /// Raising ambient capability `index` (or clearing them, index 64).
    Ambient,
    /// `PR_SET_NO_NEW_PRIVS`.
    NoNewPrivs,
    /// Resetting signal dispositions and the mask.
    Signals,
    /// Marking descriptors close-on-exec.
    CloseFds,
    /// `execve` (index: the candidate path).
    Exec,
    /// Loading seccomp filter `index`.
    Seccomp,
}

impl Step {
    const ALL: [Step; 41] = [
        Step::Fds,
        Step::Dumpable,
        Step::Join,
        Step::CloneInit,
        Step::WaitGo,
        Step::UnshareCgroup,
        Step::Terminal,
        Step::OomScoreAdj,
        Step::RootPropagation,
        Step::Overlay,
        Step::BindRoot,
        Step::OpenRoot,
        Step::MountPoint,
        Step::Mount,
        Step::Remount,
        Step::Propagation,
        Step::Device,
        Step::DeviceBind,
        Step::Symlink,
        Step::Mkdir,
        Step::PivotRoot,
        Step::Sysctl,
        Step::ReadonlyPath,
        Step::MaskedPath,
        Step::ReadonlyRoot,
        Step::Hostname,
        Step::Domainname,
        Step::Rlimit,
        Step::Chdir,
        Step::BoundingSet,
        Step::KeepCaps,
        Step::Groups,
        Step::Gid,
        Step::Uid,
        Step::Capset,
        Step::Ambient,
        Step::NoNewPrivs,
        Step::Signals,
        Step::CloseFds,
        Step::Exec,
        Step::Seccomp,
    ];

    /// The step with wire value `value`.
    pub(crate) fn from_wire(value: u32) -> Option<Step> {
        Step::ALL.iter().copied().find(|s| *s as u32 == value)
    }
}

/// A failed step, as reported by the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub step: Step,
    pub index: u32,
    pub errno: Errno,
}

impl Failure {
    pub(crate) fn new(step: Step, index: usize, errno: Errno) -> Self {
        Failure {
            step,
            index: index as u32,
            errno,
        }
    }

    /// A closure for `map_err` on a step without an index.
    pub(crate) fn at(step: Step) -> impl Fn(Errno) -> Failure {
        move |errno| Failure::new(step, 0, errno)
    }

    /// A closure for `map_err` on item `index` of a step.
    pub(crate) fn at_index(step: Step, index: usize) -> impl Fn(Errno) -> Failure {
        move |errno| Failure::new(step, index, errno)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_round_trips_through_the_wire() {
        for step in Step::ALL {
            assert_eq!(Step::from_wire(step as u32), Some(step));
        }
        assert_eq!(Step::from_wire(0), None);
        assert_eq!(Step::from_wire(1000), None);
    }
}
