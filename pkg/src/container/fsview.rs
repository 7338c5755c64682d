//! A view of a container's root filesystem for the engine's own file work (`cp`, `export`): a forked
//! child process whose root directory *is* the container's root, so every path it resolves — absolute
//! symlinks and `..` included — stays inside the container and can never reach a host file.
//!
//! - a running container: the child joins its mount namespace (`setns(2)` on `/proc/PID/ns/mnt`), which
//!   makes the namespace's root (the container's, after its `pivot_root`) the child's root; volumes and
//!   other mounts of the container are seen as the container sees them;
//! - a created or exited one: the child unshares a private mount namespace, mounts the container's
//!   overlay (the runtime's lowerdirs, upper and work directories) at its `merged` directory there, and
//!   chroots into it; nothing is mounted on the host. A container mounted with `selkie mount`, or one
//!   with `--rootfs`, is chrooted into directly.
//!
//! The parent handles the host side and talks to the child through pipes (a tar stream). While the
//! child works on a stopped container, the container's monitor lock is held, so a concurrent `start`
//! waits instead of mounting the same upper directory twice.
//!
//! What this module must never do: mount in the caller's namespace, or run container-controlled path
//! resolution in the parent.

use super::lifecycle;
use super::paths::ContainerPaths;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::runtime::OverlayMount;
use image_store::lock::Lock;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Where the container's root filesystem comes from.
#[derive(Debug)]
pub enum RootSource {
    /// The mount namespace of the running container's init (host PID).
    Namespace { pid: i32 },
    /// The overlay to mount at `target` in a private mount namespace.
    Overlay { overlay: OverlayMount, target: PathBuf },
    /// A directory that already is the root (`--rootfs`, or mounted by `selkie mount`).
    Dir(PathBuf),
}

/// A container's root, ready for [`spawn`]; keeps a stopped container from starting while it lives.
pub struct ContainerRoot {
    pub source: RootSource,
    _monitor_lock: Option<Lock>,
}

/// Finds how to see `rec`'s root filesystem.
pub fn container_root(engine: &Engine, rec: &ContainerRecord) -> Result<ContainerRoot> {
    let paths = ContainerPaths::new(engine.store.root(), &rec.id);
    let st = lifecycle::state_of(engine, &rec.id);
    if st.is_running() {
        return Ok(ContainerRoot {
            source: RootSource::Namespace { pid: st.pid },
            _monitor_lock: None,
        });
    }
    // A monitor that holds the lock of a container that is not running is starting it, or finishing
    // after its exit (tearing down its network): wait for it a little.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let held = loop {
        let lock_file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(paths.monitor_lock())
            .map_err(|e| io_err(&format!("opening the monitor lock of container {}", rec.name), e))?;
        let held = image_store::lock::try_exclusive(lock_file)
            .map_err(|e| io_err(&format!("locking container {}", rec.name), e))?;
        if let Some(held) = held {
            break held;
        }
        // A monitor owns it: it is starting or running.
        let st = lifecycle::state_of(engine, &rec.id);
        if st.is_running() {
            return Ok(ContainerRoot {
                source: RootSource::Namespace { pid: st.pid },
                _monitor_lock: None,
            });
        }
        if std::time::Instant::now() > deadline {
            return Err(Error::ContainerState(format!(
                "container {} is being started or stopped: try again",
                rec.name
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let cfg = lifecycle::config_of(engine, &rec.id)?;
    let source = match (&cfg.rootfs, super::monitor::overlay_for(engine, &cfg, &paths)?) {
        (Some(dir), _) => RootSource::Dir(dir.clone()),
        (None, Some(overlay)) => RootSource::Overlay {
            overlay,
            target: paths.merged(),
        },
        // Already mounted on the host by `selkie mount`.
        (None, None) => RootSource::Dir(paths.merged()),
    };
    Ok(ContainerRoot {
        source,
        _monitor_lock: Some(held),
    })
}

/// Makes the calling (single-threaded, forked) process's root the container's root.
fn enter(source: &RootSource) -> std::result::Result<(), String> {
    match source {
        RootSource::Namespace { pid } => {
            let ns = std::fs::File::open(format!("/proc/{pid}/ns/mnt"))
                .map_err(|e| format!("opening the mount namespace of process {pid}: {e}"))?;
            // Joining a mount namespace sets the root and working directory to the namespace's root.
            nix::sched::setns(&ns, CloneFlags::CLONE_NEWNS)
                .map_err(|e| format!("joining the container's mount namespace: {e}"))?;
            nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))?;
            Ok(())
        }
        RootSource::Overlay { overlay, target } => {
            private_namespace()?;
            mount_overlay(overlay, target, MsFlags::empty())
                .map_err(|e| format!("mounting the container's overlay: {e}"))?;
            chroot(target)
        }
        RootSource::Dir(dir) => {
            private_namespace()?;
            chroot(dir)
        }
    }
}

/// Mounts `overlay` at `target` in the caller's mount namespace.
pub(crate) fn mount_overlay(overlay: &OverlayMount, target: &Path, flags: MsFlags) -> nix::Result<()> {
    let lower: Vec<String> = overlay.lower.iter().map(|p| p.display().to_string()).collect();
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        overlay.upper.display(),
        overlay.work.display()
    );
    nix::mount::mount(
        Some("overlay"),
        target,
        Some("overlay"),
        flags,
        Some(data.as_str()),
    )
}

fn private_namespace() -> std::result::Result<(), String> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("creating a mount namespace: {e}"))?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making / private: {e}"))
}

fn chroot(dir: &Path) -> std::result::Result<(), String> {
    nix::unistd::chdir(dir).map_err(|e| format!("chdir {}: {e}", dir.display()))?;
    nix::unistd::chroot(".").map_err(|e| format!("chroot {}: {e}", dir.display()))?;
    nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))
}

/// A forked child working inside a container's root.
pub struct ViewChild {
    pid: Pid,
    errors: std::fs::File,
}

/// Forks a child that enters `root` and runs `work` there. `keep` are the descriptors the work uses
/// (pipe ends); every other descriptor above stderr is closed in the child first.
pub fn spawn(
    root: &ContainerRoot,
    keep: &[&OwnedFd],
    work: impl FnOnce() -> std::result::Result<(), String>,
) -> Result<ViewChild> {
    let (err_read, err_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io_err("creating a pipe", e.into()))?;
    let mut keep_fds: Vec<i32> = keep.iter().map(|f| f.as_raw_fd()).collect();
    keep_fds.push(err_write.as_raw_fd());
    // SAFETY: the engine is single-threaded here; the child only runs our own code and leaves with
    // `_exit`, never returning into the caller.
    match unsafe { nix::unistd::fork() }.map_err(|e| io_err("forking", e.into()))? {
        ForkResult::Child => {
            drop(err_read);
            close_other_fds(&keep_fds);
            let mut errors = std::fs::File::from(err_write);
            let result = enter(&root.source).and_then(|()| work());
            let code = match result {
                Ok(()) => 0,
                Err(msg) => {
                    let _ = errors.write_all(msg.as_bytes());
                    1
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: ends the child without running the parent's destructors or atexit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => Ok(ViewChild {
            pid: child,
            errors: std::fs::File::from(err_read),
        }),
    }
}

/// Closes descriptors 3 and up except `keep`.
fn close_other_fds(keep: &[i32]) {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing a descriptor this process owns; nothing else uses it after fork.
            unsafe { libc::close(fd) };
        }
    }
}

impl ViewChild {
    /// Waits for the child; its error message when it failed.
    pub fn wait(mut self) -> std::result::Result<(), String> {
        let mut msg = String::new();
        let _ = self.errors.read_to_string(&mut msg);
        let status = waitpid(self.pid, None).map_err(|e| format!("waiting for process {}: {e}", self.pid))?;
        match status {
            nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
            _ if !msg.is_empty() => Err(msg),
            other => Err(format!("the copying process ended with {other:?}")),
        }
    }
}

fn io_err(context: &str, e: std::io::Error) -> Error {
    Error::Io {
        context: context.into(),
        source: e,
    }
}
