//! Rootless selkie: an ordinary user's commands run inside a user namespace (and a mount namespace)
//! where the user is root, as Podman does.
//!
//! The first command creates the namespace: a forked *pause process* unshares `CLONE_NEWUSER |
//! CLONE_NEWNS`, the command maps it with `newuidmap`/`newgidmap` from the user's `/etc/subuid` and
//! `/etc/subgid` ranges (container root = the user's own ID, 1..N = the subordinate IDs; a single
//! mapping of the user's own IDs when there are no ranges), and records the pause process's PID in the
//! user's run directory. Every command, this one included, then joins the pause process's namespaces
//! with `setns(2)` in-process (selkie is single-threaded at that point), so all commands and all
//! containers share one user namespace: `exec`, `stop` and `rm` act on containers started by other
//! commands. The command itself joins (nothing is re-executed, no daemon runs the containers): the
//! monitor and the container stay descendants of the command that started them.
//!
//! Inside, the engine is uid 0 and takes its root code paths; [`is_rootless`] tells the few places that
//! must differ (store paths, cgroups, overlay's `userxattr`). This module never raises privileges: the
//! user namespace grants nothing on files the user could not reach before.

pub mod fuse;
pub mod mapping;
pub mod resources;
pub mod slirp;
pub mod userns;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;

use crate::error::{Error, Result};
use userns::IdMap;

/// Set in the environment of a process that joined the rootless namespace: the user's host UID.
pub const UID_ENV: &str = "_SELKIE_ROOTLESS_UID";
/// The user's host GID, alongside [`UID_ENV`].
pub const GID_ENV: &str = "_SELKIE_ROOTLESS_GID";

const PAUSE_NAME: &str = "selkie-pause";

/// Whether this process is not in the initial user namespace.
pub fn in_user_namespace() -> bool {
    match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(text) => userns::parse_map(&text) != [IdMap::identity()],
        Err(_) => false,
    }
}

/// How many UIDs this process's user namespace has (`u64::from(u32::MAX)` in the initial one).
pub fn mapped_ids() -> u64 {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|t| userns::mapped_count(&userns::parse_map(&t)))
        .unwrap_or(0)
}

/// Whether `gid` exists in this process's user namespace.
pub fn maps_gid(gid: u32) -> bool {
    std::fs::read_to_string("/proc/self/gid_map")
        .map(|t| userns::to_outside(&userns::parse_map(&t), gid).is_some())
        .unwrap_or(true)
}

fn env_id(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

/// The user's host UID when selkie runs rootless (before or after joining the namespace); `None` for
/// root.
pub fn host_uid() -> Option<u32> {
    let euid = nix::unistd::geteuid().as_raw();
    if euid != 0 {
        return Some(euid);
    }
    env_id(UID_ENV).filter(|_| in_user_namespace())
}

/// The user's host GID, as [`host_uid`].
pub fn host_gid() -> Option<u32> {
    if !nix::unistd::geteuid().is_root() {
        return Some(nix::unistd::getegid().as_raw());
    }
    env_id(GID_ENV).filter(|_| in_user_namespace())
}

/// Whether selkie runs for an ordinary user (also inside its namespace, where it is uid 0).
pub fn is_rootless() -> bool {
    host_uid().is_some()
}

/// The effective UID as the host sees it: the user's, or 0 for root.
pub fn host_euid() -> u32 {
    host_uid().unwrap_or(0)
}

/// The base of the user's run state: `$XDG_RUNTIME_DIR`, else `/tmp/selkie-run-UID` (which
/// [`enter`] creates 0700 and checks is the user's own).
pub fn runtime_base(uid: u32) -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/selkie-run-{uid}")))
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

fn errno_err(context: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> Error {
    let context = context.into();
    move |e| Error::Io {
        context,
        source: std::io::Error::from(e),
    }
}

/// Creates `dir` 0700 if missing; refuses one that is not a directory of `uid` closed to others (a
/// directory someone else made in /tmp first).
fn private_dir(dir: &Path, uid: u32) -> Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err(format!("creating {}", dir.display()))(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io_err(format!("inspecting {}", dir.display())))?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Config(format!(
            "{} must be a directory owned by uid {uid} with mode 0700",
            dir.display()
        )));
    }
    Ok(())
}

/// Enters the user's rootless namespaces (creating them on first use). Does nothing for root or when
/// already inside. Must be called while the process is single-threaded.
pub fn enter() -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let base = runtime_base(uid);
    if std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .is_none()
    {
        private_dir(&base, uid)?;
    }
    let dir = base.join("selkie");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&dir)
        .map_err(io_err(format!("creating {}", dir.display())))?;
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("pause.lock"))
        .map_err(io_err(format!("opening {}/pause.lock", dir.display())))?;
    let lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| errno_err("locking the rootless pause file")(e))?;
    let pid_file = dir.join("pause.pid");
    // A recorded pause process that is gone (or a zombie: its namespaces cannot be opened) is replaced.
    let namespaces = match read_pause(&pid_file, uid).and_then(|pid| open_namespaces(pid).ok()) {
        Some(namespaces) => namespaces,
        None => {
            let pid = spawn_pause(uid, gid)?;
            std::fs::write(&pid_file, pid.to_string())
                .map_err(io_err(format!("writing {}", pid_file.display())))?;
            open_namespaces(pid)?
        }
    };
    join(namespaces)?;
    drop(lock);
    // SAFETY (of the environment): single-threaded, as this function requires.
    std::env::set_var(UID_ENV, uid.to_string());
    std::env::set_var(GID_ENV, gid.to_string());
    Ok(())
}

/// The live pause process recorded in `pid_file`, if it is still ours.
fn read_pause(pid_file: &Path, uid: u32) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let comm = std::fs::read_to_string(proc.join("comm")).ok()?;
    let owner = std::fs::metadata(&proc).ok()?.uid();
    (comm.trim_end() == PAUSE_NAME && owner == uid).then_some(pid)
}

fn read_byte(fd: &OwnedFd) -> Option<u8> {
    let mut b = [0u8; 1];
    let mut f = File::from(fd.try_clone().ok()?);
    f.read_exact(&mut b).ok().map(|_| b[0])
}

fn write_bytes(fd: &OwnedFd, bytes: &[u8]) {
    if let Ok(dup) = fd.try_clone() {
        let _ = File::from(dup).write_all(bytes);
    }
}

/// Forks the pause process (detached: a grandchild), has it unshare its namespaces, and maps them.
fn spawn_pause(uid: u32, gid: u32) -> Result<i32> {
    let (up_r, up_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(errno_err("pipe"))?;
    let (down_r, down_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(errno_err("pipe"))?;
    // SAFETY: the process is single-threaded; the children only make syscalls and exit.
    match unsafe { nix::unistd::fork() }.map_err(errno_err("forking the rootless pause process"))? {
        nix::unistd::ForkResult::Child => {
            drop(up_r);
            drop(down_w);
            // SAFETY: as above.
            match unsafe { nix::unistd::fork() } {
                Ok(nix::unistd::ForkResult::Child) => pause_main(up_w, down_r),
                _ => unsafe { libc::_exit(0) },
            }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(up_w);
            drop(down_r);
            let _ = nix::sys::wait::waitpid(child, None);
            let mut status = [0u8; 8];
            let got = File::from(up_r).read_exact(&mut status);
            let pid = i32::from_ne_bytes(status[..4].try_into().unwrap_or_default());
            let errno = i32::from_ne_bytes(status[4..].try_into().unwrap_or_default());
            if got.is_err() || errno != 0 || pid <= 0 {
                return Err(Error::Config(format!(
                    "cannot create a user namespace: {} (are unprivileged user namespaces enabled?)",
                    std::io::Error::from_raw_os_error(if errno == 0 { libc::EIO } else { errno })
                )));
            }
            if let Err(e) = write_mappings(pid, uid, gid) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
                return Err(e);
            }
            write_bytes(&down_w, &[1]);
            Ok(pid)
        }
    }
}

/// The pause process: unshares, reports, waits to be mapped, then sleeps holding the namespaces.
fn pause_main(up: OwnedFd, down: OwnedFd) -> ! {
    let errno = match nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS) {
        Ok(()) => 0,
        Err(e) => e as i32,
    };
    let mut status = [0u8; 8];
    status[..4].copy_from_slice(&std::process::id().to_ne_bytes());
    status[4..].copy_from_slice(&errno.to_ne_bytes());
    write_bytes(&up, &status);
    if errno != 0 || read_byte(&down) != Some(1) {
        unsafe { libc::_exit(1) };
    }
    drop(up);
    drop(down);
    let _ = nix::unistd::setsid();
    let _ = nix::unistd::chdir("/");
    // SAFETY: plain syscalls on our own process and descriptors.
    unsafe {
        libc::prctl(
            libc::PR_SET_NAME,
            c"selkie-pause".as_ptr() as libc::c_ulong,
            0,
            0,
            0,
        );
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGPIPE, libc::SIGQUIT] {
            libc::signal(sig, libc::SIG_IGN);
        }
        loop {
            libc::pause();
        }
    }
}

fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Writes the namespace's mappings: `newuidmap`/`newgidmap` with the subordinate ranges, else the
/// user's own single ID (Podman's fallback, with a warning).
fn write_mappings(pid: i32, uid: u32, gid: u32) -> Result<()> {
    let name = user_name(uid).unwrap_or_default();
    let subuid = userns::read_subordinate("/etc/subuid", &name, uid);
    let subgid = userns::read_subordinate("/etc/subgid", &name, uid);
    if subuid.is_empty() || subgid.is_empty() {
        eprintln!(
            "level=warning msg=\"no subuid/subgid ranges for user {name:?} in /etc/subuid and /etc/subgid: \
             only your own UID and GID are mapped into containers\""
        );
        let proc = format!("/proc/{pid}");
        std::fs::write(format!("{proc}/setgroups"), "deny").map_err(io_err("writing setgroups"))?;
        std::fs::write(format!("{proc}/uid_map"), format!("0 {uid} 1\n"))
            .map_err(io_err("writing uid_map"))?;
        std::fs::write(format!("{proc}/gid_map"), format!("0 {gid} 1\n"))
            .map_err(io_err("writing gid_map"))?;
        return Ok(());
    }
    run_map_tool("newuidmap", pid, &userns::rootless_mappings(uid, &subuid))?;
    run_map_tool("newgidmap", pid, &userns::rootless_mappings(gid, &subgid))
}

fn run_map_tool(tool: &str, pid: i32, maps: &[IdMap]) -> Result<()> {
    let mut cmd = std::process::Command::new(tool);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.args([m.inside.to_string(), m.outside.to_string(), m.size.to_string()]);
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(io_err(format!("running {tool} (install the uidmap package)")))?;
    if !out.status.success() {
        return Err(Error::Config(format!(
            "{tool} {pid} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// The user and mount namespaces of `pid`.
fn open_namespaces(pid: i32) -> Result<(File, File)> {
    let open = |name: &str| {
        File::open(format!("/proc/{pid}/ns/{name}")).map_err(io_err(format!(
            "opening the rootless {name} namespace of PID {pid}"
        )))
    };
    Ok((open("user")?, open("mnt")?))
}

/// Joins a user and a mount namespace, keeping the working directory.
fn join((user, mnt): (File, File)) -> Result<()> {
    let cwd = std::env::current_dir().ok();
    nix::sched::setns(&user, CloneFlags::CLONE_NEWUSER)
        .map_err(errno_err("joining the rootless user namespace"))?;
    nix::sched::setns(&mnt, CloneFlags::CLONE_NEWNS)
        .map_err(errno_err("joining the rootless mount namespace"))?;
    if let Some(cwd) = cwd {
        let _ = std::env::set_current_dir(cwd);
    }
    Ok(())
}
