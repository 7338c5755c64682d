//! Running selkie from a sealed view of its own binary, so no container process can ever reach the
//! host's selkie binary for writing (the class of runc's CVE-2019-5736).
//!
//! Two ways lead from a container to the binary of the process that set it up:
//! 1. `/proc/PID/exe` of a runtime process while it is inside the container's PID namespace (the
//!    `exec` process between `setns` and `execve`, or an init sharing a PID namespace). Every runtime
//!    process makes itself non-dumpable (`PR_SET_DUMPABLE 0`) before it joins or creates a namespace
//!    (`process/intermediate.rs`, `process/init.rs`), so without `CAP_SYS_PTRACE` the link is refused.
//! 2. The workload itself: an image whose command (or an `exec`'d program) is a script starting
//!    `#!/proc/self/exe` makes the kernel execute, as the interpreter, whatever `/proc/self/exe` of the
//!    runtime process is at its final `execve`: the runtime binary runs again inside the container,
//!    dumpable, and its exe link is readable by the container. `--privileged` (CAP_SYS_PTRACE) reaches
//!    the runtime processes of (1) the same way.
//!
//! Non-dumpable closes (1) only, and only for unprivileged containers. What is left is protected on
//! this kernel (6.18) by `ETXTBSY` (a file being executed cannot be opened for writing) only as long as
//! some process executes the binary; an `O_PATH` descriptor kept until the last selkie process is gone
//! (the container's monitor exits when it stops) would then open it for writing. So, as runc 1.2
//! does, the processes that start container processes (the monitor, and `exec`) re-execute themselves
//! first from a *sealed* view of the binary: a private, detached, read-only overlayfs mount whose lower
//! layer is the binary's directory (plus an empty tmpfs: overlayfs needs two lower layers without an
//! upper one). `/proc/PID/exe` then names a file on that mount: opening it for writing is `EROFS`, and
//! unlike a read-only bind mount it cannot be unwrapped (a clone of the mount made writable is still
//! an overlay without an upper layer), and the mount is attached nowhere, so no one can remount it.
//! This costs one `execve` and no copy (runc's older sealed memfd copy would copy the binary, 150 MB for
//! a debug build, on every start). Where it cannot be done (no overlayfs, no `CAP_SYS_ADMIN`, as
//! rootless), selkie runs unsealed and (1) plus `ETXTBSY` remain.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;

const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOUNT_ATTR_RDONLY: libc::c_uint = 0x1;
const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;

/// Whether this process already runs from a read-only overlay view of its binary (sealed, or installed
/// on a read-only overlay, which is as good).
pub fn is_sealed() -> bool {
    let exe = c"/proc/self/exe";
    // SAFETY: statfs/statvfs fill the zeroed structs; the path is NUL-terminated.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(exe.as_ptr(), &mut fs) } != 0
        || unsafe { libc::statvfs(exe.as_ptr(), &mut vfs) } != 0
    {
        return false;
    }
    // The field types differ between libcs.
    #[allow(clippy::unnecessary_cast)]
    let (typ, readonly) = (fs.f_type as i64, vfs.f_flag as u64 & libc::ST_RDONLY as u64 != 0);
    typ == OVERLAYFS_SUPER_MAGIC && readonly
}

fn fd_result(ret: libc::c_long) -> Result<OwnedFd, Errno> {
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the system call returned a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

fn fsopen(fstype: &CStr) -> Result<OwnedFd, Errno> {
    // SAFETY: NUL-terminated name.
    fd_result(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

fn fsconfig(fs: &OwnedFd, cmd: libc::c_uint, key: Option<&CStr>, value: Option<&CStr>) -> Result<(), Errno> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: NUL-terminated strings or NULL, as the command expects.
    let ret = unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, ptr(key), ptr(value), 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Create the filesystem configured on `fs` and return a detached, read-only mount of it.
fn fsmount(fs: &OwnedFd) -> Result<OwnedFd, Errno> {
    fsconfig(fs, FSCONFIG_CMD_CREATE, None, None)?;
    let attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    // SAFETY: plain descriptor and flag arguments.
    fd_result(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })
}

/// An `O_PATH` descriptor of this process's binary seen through a new detached read-only overlay.
fn sealed_binary() -> Result<OwnedFd, Errno> {
    let exe = std::fs::read_link("/proc/self/exe").map_err(|_| Errno::ENOENT)?;
    let (Some(dir), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(Errno::EINVAL);
    };
    let dir = dir.as_os_str().as_bytes();
    // A deleted binary ("... (deleted)") or a directory overlayfs cannot take as a layer.
    if !exe.is_file() || dir.is_empty() || dir.iter().any(|b| b":,\\".contains(b)) {
        return Err(Errno::EINVAL);
    }
    let empty = fsopen(c"tmpfs")?;
    let empty = fsmount(&empty)?;
    let overlay = fsopen(c"overlay")?;
    let mut lower = dir.to_vec();
    lower.extend_from_slice(format!(":/proc/self/fd/{}", empty.as_raw_fd()).as_bytes());
    let lower = CString::new(lower).map_err(|_| Errno::EINVAL)?;
    fsconfig(&overlay, FSCONFIG_SET_STRING, Some(c"lowerdir"), Some(&lower))?;
    let mount = fsmount(&overlay)?;
    let name = CString::new(name.as_bytes()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: NUL-terminated name relative to the mount's root.
    fd_result(unsafe {
        libc::openat(mount.as_raw_fd(), name.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) as libc::c_long
    })
}

/// A path naming this binary through a sealed view, for starting a child from it directly (one
/// `execve` fewer than the child re-executing itself), with the descriptor that must stay open until
/// the child has executed it. The descriptor is moved to `min` or above, out of the way of descriptors
/// the caller arranges for the child.
pub fn sealed_exe(min: RawFd) -> Result<(OwnedFd, String), Errno> {
    let fd = sealed_binary()?;
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor that nobody else owns.
    let moved =
        fd_result(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) } as libc::c_long)?;
    let path = format!("/proc/self/fd/{}", moved.as_raw_fd());
    Ok((moved, path))
}

fn cstrings<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Result<Vec<CString>, Errno> {
    items
        .into_iter()
        .map(|b| CString::new(b).map_err(|_| Errno::EINVAL))
        .collect()
}

/// Re-execute this process, same arguments and environment, from a sealed view of its binary (see the
/// module docs), unless it already runs from one. Returns only when that is not possible; the caller
/// then goes on unsealed. Call it first thing, before anything that an `execve` would undo.
pub fn reexec_sealed() -> Result<(), Errno> {
    if is_sealed() {
        return Ok(());
    }
    let binary = sealed_binary()?;
    let args = cstrings(std::env::args_os().map(|a| a.as_bytes().to_vec()))?;
    let env = cstrings(std::env::vars_os().map(|(k, v)| {
        let mut kv = k.as_bytes().to_vec();
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        kv
    }))?;
    let pointers = |list: &[CString]| -> Vec<*const libc::c_char> {
        list.iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    };
    let (argv, envp) = (pointers(&args), pointers(&env));
    // SAFETY: NUL-terminated arrays of NUL-terminated strings that outlive the call; on success the
    // process image is replaced.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            binary.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Err(Errno::last())
}
