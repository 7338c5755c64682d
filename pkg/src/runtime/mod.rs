//! The built-in OCI runtime: creates a container process from an `oci_spec::runtime::Spec` as a
//! descendant of the caller, fork/exec style, with no daemon and no runtime binary.
//!
//! [`spawn`] prepares everything in the caller (paths, mount lists, capability masks, argv/envp, the
//! `$PATH` candidates), clones the container's init into its new namespaces, lets the caller act on it
//! through [`SpawnRequest::before_exec`] (cgroup placement, network setup) while it waits, and returns
//! its host PID once the workload has been exec'd. Failures inside the new process come back as
//! [`RuntimeError`]s naming the step and path. [`exec_in`] starts another process in a running
//! container. The caller waits for the PID ([`wait_exit`], [`exit_code`]).
//!
//! Layout, one concern a file:
//! - `syscall.rs` (+ `syscall/`) — the [`Syscall`](syscall::Syscall) trait every privileged operation
//!   goes through; the Linux implementation and a recording double for unprivileged unit tests;
//! - `process/` — one file per process role: `parent.rs` (selkie), `intermediate.rs`, `init.rs`
//!   (the container's init until `execve`), with the prepared `plan.rs` and the `channel.rs` pipes;
//! - `rootfs/` — the filesystem view: `mount.rs`, `cgroup.rs`, `device.rs`, `symlink.rs`, and
//!   `resolve.rs` (every container path resolved inside the root);
//! - `namespaces.rs`, `credentials.rs` (user, capabilities), `fd.rs` (descriptor table), `exec.rs`
//!   (`$PATH` lookup and `execve`), `step.rs` (failure reports), `error.rs`;
//! - `seal.rs` — [`reexec_sealed`]: the processes that start container processes run from a sealed,
//!   read-only view of the selkie binary, so no container can write it (CVE-2019-5736).
//!
//! What this module must never do: mount anything in the caller's mount namespace, allocate or lock
//! between `clone` and `execve`, or touch `/proc/self/loginuid`.

mod credentials;
mod error;
mod exec;
mod fd;
mod namespaces;
mod process;
mod rootfs;
mod seal;
mod step;
mod syscall;

use std::os::fd::RawFd;
use std::path::PathBuf;

use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use oci_spec::runtime::{Process, Spec};

pub use error::RuntimeError;
/// The host's cgroup mounts, as the runtime reads them; the cgroups module places containers in them.
pub(crate) use rootfs::cgroup::CgroupLayout;
pub use seal::{is_sealed, reexec_sealed, sealed_exe};

/// An overlay filesystem mounted at `root.path` inside the container's mount namespace, so the merged
/// view is never visible on the host and disappears with the namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayMount {
    /// Lower layers, top-most first; absolute paths without `,` or `:`.
    pub lower: Vec<PathBuf>,
    /// The writable layer.
    pub upper: PathBuf,
    /// Overlay's work directory, on the same filesystem as `upper`.
    pub work: PathBuf,
}

/// A callback run with the new process's host PID after its namespaces exist and before it does
/// anything else (no mount, no exec yet): place it in its cgroup, configure its network namespace.
/// An error kills the process and fails the spawn.
pub type BeforeExec<'a> = dyn Fn(Pid) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + 'a;

/// What to start.
pub struct SpawnRequest<'a> {
    /// The container's configuration; `root.path` is the absolute rootfs directory (the overlay's
    /// mount point when `rootfs_overlay` is set).
    pub spec: &'a Spec,
    /// Mount this overlay at `root.path` inside the new mount namespace first.
    pub rootfs_overlay: Option<OverlayMount>,
    /// Become descriptors 0, 1, 2 of the container. With `process.terminal`, stdin must be the
    /// terminal (a pty slave): the process gets a new session with it as controlling terminal, and it is
    /// bound at `/dev/console`.
    pub stdio: [RawFd; 3],
    /// Become descriptors 3, 4, ... of the container, in order (socket activation).
    pub preserve_fds: Vec<RawFd>,
    /// See [`BeforeExec`].
    pub before_exec: Option<&'a BeforeExec<'a>>,
}

impl<'a> SpawnRequest<'a> {
    /// A request with no overlay, no preserved descriptors and no callback.
    pub fn new(spec: &'a Spec, stdio: [RawFd; 3]) -> Self {
        SpawnRequest {
            spec,
            rootfs_overlay: None,
            stdio,
            preserve_fds: Vec::new(),
            before_exec: None,
        }
    }
}

/// A process to start inside a running container (`selkie exec`).
pub struct ExecRequest<'a> {
    /// Host PID of a process of the container (its init); every namespace of it that differs from the
    /// caller's is joined.
    pub container_pid: Pid,
    /// User, capabilities, environment, working directory, `no_new_privs`, rlimits and args.
    pub process: &'a Process,
    /// As in [`SpawnRequest::stdio`].
    pub stdio: [RawFd; 3],
    /// As in [`SpawnRequest::preserve_fds`].
    pub preserve_fds: Vec<RawFd>,
    /// As in [`SpawnRequest::before_exec`] (e.g. join the container's cgroup).
    pub before_exec: Option<&'a BeforeExec<'a>>,
    /// The container's `linux.seccomp`, loaded in the new process too.
    pub seccomp: Option<&'a oci_spec::runtime::LinuxSeccomp>,
}

/// A started process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spawned {
    /// Host PID of the container's init (a child of the caller).
    pub pid: Pid,
}

/// Create the container described by `req.spec` and return once its workload has been exec'd.
pub fn spawn(req: &SpawnRequest<'_>) -> Result<Spawned, RuntimeError> {
    let mut plan = process::plan::InitPlan::for_container(req)?;
    let pid = process::parent::start(&mut plan, req.before_exec)?;
    Ok(Spawned { pid })
}

/// Start `req.process` inside the running container of `req.container_pid`; returns once it has
/// been exec'd. The new process is a child of the caller.
pub fn exec_in(req: &ExecRequest<'_>) -> Result<Spawned, RuntimeError> {
    let mut plan = process::plan::InitPlan::for_exec(req)?;
    let pid = process::parent::start(&mut plan, req.before_exec)?;
    Ok(Spawned { pid })
}

/// The shell-style exit code of a terminated process: its code, or 128 + the signal that killed it.
/// Statuses of processes that have not terminated (stopped, continued, still alive) give 255.
pub fn exit_code(status: WaitStatus) -> i32 {
    match status {
        WaitStatus::Exited(_, code) => code,
        WaitStatus::Signaled(_, signal, _) => 128 + signal as i32,
        _ => 255,
    }
}

/// Wait for `pid` (a child of the caller) to terminate and return [`exit_code`] of it.
pub fn wait_exit(pid: Pid) -> Result<i32, RuntimeError> {
    process::parent::reap(pid)
        .map(exit_code)
        .map_err(|e| RuntimeError::host(format!("waiting for process {pid}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;

    #[test]
    fn exit_codes_follow_the_shell() {
        let pid = Pid::from_raw(1);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 3)), 3);
        assert_eq!(exit_code(WaitStatus::Signaled(pid, Signal::SIGKILL, false)), 137);
        assert_eq!(exit_code(WaitStatus::StillAlive), 255);
    }
}
