//! The boundary between the runtime's logic and the kernel.
//!
//! Everything the container's processes do to the system between `clone` and `execve` goes through
//! [`Syscall`]: mounts, device nodes, namespaces, credentials, file descriptors, `execve` itself. The
//! [`linux::LinuxSyscall`] implementation talks to the kernel; the recording double
//! (`recording::RecordingSyscall`, tests only) logs every call so the mount and init logic can be
//! unit-tested without privileges by asserting on the recorded sequence.
//!
//! Rules for implementations that run in a cloned child (the Linux one): no heap allocation, no locks,
//! no `std::env`, no formatting. Every argument is prepared by the parent (`&CStr`, masks, slices) and
//! every method is one or a few raw system calls. Credentials are changed with raw `syscall(2)`s, never
//! through libc's wrappers, because glibc's `setuid` family signals every thread it believes exists and
//! the child is a raw clone of a multi-threaded process.

use std::ffi::{c_char, CStr};
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;

pub(crate) mod linux;
#[cfg(test)]
pub(crate) mod recording;

/// The result of one system call: the kernel's errno on failure.
pub(crate) type SysResult<T> = Result<T, Errno>;

/// Where a mount lands.
#[derive(Clone, Copy, Debug)]
pub(crate) enum MountTarget<'a> {
    /// A path, resolved normally (used for host paths before `pivot_root` and container paths after it).
    Path(&'a CStr),
    /// An `O_PATH` descriptor already resolved inside the container root; the mount goes through the
    /// descriptor's `/proc/self/fd/N` magic link, so no path is resolved again (no symlink race).
    Fd(RawFd),
}

/// What a path is, as far as mounting over it is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    Directory,
    /// Anything that is not a directory (regular file, device, socket, ...).
    NonDirectory,
}

/// The three per-thread capability sets given to `capset(2)`, as bit masks indexed by capability number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CapabilitySets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// Every privileged or process-wide operation the container's processes perform.
///
/// Methods mirror single system calls; paths are `&CStr` prepared in the parent. See the module docs
/// for what an implementation may not do.
pub(crate) trait Syscall {
    // --- mounts ---
    /// `mount(2)`.
    fn mount(
        &self,
        source: Option<&CStr>,
        target: MountTarget<'_>,
        fstype: Option<&CStr>,
        flags: MsFlags,
        data: Option<&CStr>,
    ) -> SysResult<()>;
    /// `umount2(2)`.
    fn umount2(&self, target: &CStr, flags: MntFlags) -> SysResult<()>;
    /// `pivot_root(2)`.
    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> SysResult<()>;
    /// The per-mount flags (`nosuid`, `nodev`, `noexec`, `ro`, atime) of the mount at `target`,
    /// from `statvfs(2)`: a bind remount must keep the ones the kernel has locked.
    fn mount_flags_of(&self, target: MountTarget<'_>) -> SysResult<MsFlags>;

    // --- files ---
    /// `open(2)` of an absolute path; the descriptor is close-on-exec.
    fn open(&self, path: &CStr, flags: OFlag) -> SysResult<RawFd>;
    /// `openat2(2)` of `path` relative to `root` with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`: every
    /// symlink and `..` is resolved as if `root` were `/`, so nothing in the container image can point
    /// the runtime outside of it. The descriptor is close-on-exec.
    fn open_in_root(&self, root: RawFd, path: &CStr, flags: OFlag) -> SysResult<RawFd>;
    /// `mkdirat(2)`.
    fn mkdir_at(&self, dir: RawFd, name: &CStr, mode: u32) -> SysResult<()>;
    /// Create an empty regular file `name` in `dir` (`O_CREAT | O_EXCL | O_NOFOLLOW`).
    fn create_file_at(&self, dir: RawFd, name: &CStr, mode: u32) -> SysResult<()>;
    /// `mknodat(2)`; `mode` includes the file type bits.
    fn mknod_at(&self, dir: RawFd, name: &CStr, mode: u32, dev: u64) -> SysResult<()>;
    /// `fchownat(2)` without following a final symlink.
    fn chown_at(&self, dir: RawFd, name: &CStr, uid: u32, gid: u32) -> SysResult<()>;
    /// `symlinkat(2)`: create `name` in `dir` pointing to `target`.
    fn symlink_at(&self, target: &CStr, dir: RawFd, name: &CStr) -> SysResult<()>;
    /// `unlinkat(2)` of a non-directory.
    fn unlink_at(&self, dir: RawFd, name: &CStr) -> SysResult<()>;
    /// `stat(2)`, reduced to directory or not.
    fn file_kind(&self, path: &CStr) -> SysResult<FileKind>;
    /// Open `path` write-only, write all of `data`, close (procfs and sysctl files).
    fn write_file(&self, path: &CStr, data: &[u8]) -> SysResult<()>;
    /// `chdir(2)`.
    fn chdir(&self, path: &CStr) -> SysResult<()>;
    /// `fchdir(2)`.
    fn fchdir(&self, fd: RawFd) -> SysResult<()>;

    // --- file descriptors ---
    /// `close(2)`, errors ignored.
    fn close(&self, fd: RawFd);
    /// `fcntl(F_DUPFD_CLOEXEC)`: a copy of `fd` numbered `min` or above.
    fn dup_at_least(&self, fd: RawFd, min: RawFd) -> SysResult<RawFd>;
    /// `dup2(2)`; the new descriptor is not close-on-exec.
    fn dup2(&self, from: RawFd, to: RawFd) -> SysResult<()>;
    /// Close every descriptor in `first..=last`.
    fn close_range(&self, first: u32, last: u32) -> SysResult<()>;
    /// Mark every descriptor from `first` on close-on-exec.
    fn cloexec_from(&self, first: u32) -> SysResult<()>;

    // --- namespaces, identity, limits ---
    /// `setns(2)`.
    fn setns(&self, fd: RawFd, nstype: CloneFlags) -> SysResult<()>;
    /// `unshare(2)`.
    fn unshare(&self, flags: CloneFlags) -> SysResult<()>;
    /// `sethostname(2)`.
    fn sethostname(&self, name: &[u8]) -> SysResult<()>;
    /// `setdomainname(2)`.
    fn setdomainname(&self, name: &[u8]) -> SysResult<()>;
    /// `setrlimit(2)`; `resource` is a `RLIMIT_*` number.
    fn setrlimit(&self, resource: u32, soft: u64, hard: u64) -> SysResult<()>;
    /// `umask(2)`.
    fn umask(&self, mask: u32);
    /// `setsid(2)`.
    fn setsid(&self) -> SysResult<()>;
    /// `ioctl(fd, TIOCSCTTY, 0)`: make the terminal on `fd` the controlling terminal.
    fn set_controlling_terminal(&self, fd: RawFd) -> SysResult<()>;

    // --- privileges ---
    /// `prctl(PR_SET_DUMPABLE)`.
    fn set_dumpable(&self, dumpable: bool) -> SysResult<()>;
    /// `prctl(PR_SET_KEEPCAPS)`.
    fn set_keep_caps(&self, keep: bool) -> SysResult<()>;
    /// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
    fn set_no_new_privs(&self) -> SysResult<()>;
    /// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`: load a seccomp BPF filter on the calling thread.
    fn seccomp_filter(&self, prog: &[seccompiler::sock_filter]) -> SysResult<()>;
    /// `prctl(PR_CAPBSET_DROP, cap)`.
    fn drop_bounding_cap(&self, cap: u32) -> SysResult<()>;
    /// `capset(2)` of the calling thread.
    fn set_capabilities(&self, sets: CapabilitySets) -> SysResult<()>;
    /// `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)`.
    fn clear_ambient_caps(&self) -> SysResult<()>;
    /// `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)`.
    fn raise_ambient_cap(&self, cap: u32) -> SysResult<()>;
    /// `setgroups(2)` (raw system call).
    fn setgroups(&self, gids: &[u32]) -> SysResult<()>;
    /// `setresgid(gid, gid, gid)` (raw system call).
    fn setresgid(&self, gid: u32) -> SysResult<()>;
    /// `setresuid(uid, uid, uid)` (raw system call).
    fn setresuid(&self, uid: u32) -> SysResult<()>;

    // --- signals and exec ---
    /// Reset every signal's disposition to the default (ignored signals survive `execve`).
    fn reset_signal_dispositions(&self);
    /// Empty the signal mask.
    fn unblock_signals(&self) -> SysResult<()>;
    /// `execve(2)`. `argv` and `envp` are NULL-terminated pointer arrays. Returns only on failure.
    fn execve(&self, path: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> Errno;
}

/// `/proc/self/fd/N` for a descriptor, built on the stack (no allocation).
pub(crate) struct ProcFdPath {
    buf: [u8; 32],
}

impl ProcFdPath {
    const PREFIX: &'static [u8] = b"/proc/self/fd/";

    pub(crate) fn new(fd: RawFd) -> Self {
        let mut buf = [0u8; 32];
        buf[..Self::PREFIX.len()].copy_from_slice(Self::PREFIX);
        let mut digits = [0u8; 12];
        let mut n = fd.unsigned_abs();
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for i in 0..len {
            buf[Self::PREFIX.len() + i] = digits[len - 1 - i];
        }
        ProcFdPath { buf }
    }

    pub(crate) fn as_cstr(&self) -> &CStr {
        // The buffer is zero-filled past the digits, so a NUL is always present.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"/proc/self/fd")
    }
}

#[cfg(test)]
mod tests {
    use super::ProcFdPath;

    #[test]
    fn proc_fd_path_formats_without_allocation() {
        assert_eq!(ProcFdPath::new(0).as_cstr().to_str().unwrap(), "/proc/self/fd/0");
        assert_eq!(
            ProcFdPath::new(42).as_cstr().to_str().unwrap(),
            "/proc/self/fd/42"
        );
        assert_eq!(
            ProcFdPath::new(i32::MAX).as_cstr().to_str().unwrap(),
            "/proc/self/fd/2147483647"
        );
    }
}
