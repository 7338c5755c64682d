//! [`Syscall`] for the running kernel: thin, allocation-free wrappers over libc and raw system calls.

use std::ffi::{c_char, c_int, c_long, c_void, CStr};
use std::os::fd::RawFd;
use std::ptr;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;

use super::{CapabilitySets, FileKind, MountTarget, ProcFdPath, SysResult, Syscall};

/// The kernel, called directly.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LinuxSyscall;

fn check(ret: c_int) -> SysResult<c_int> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

fn check_long(ret: c_long) -> SysResult<c_long> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

fn opt_ptr(s: Option<&CStr>) -> *const c_char {
    s.map_or(ptr::null(), CStr::as_ptr)
}

/// `struct open_how` of `openat2(2)` (libc's is non-exhaustive).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;

// statfs f_flags bits (stable kernel ABI).
const ST_RDONLY: u64 = 1;
const ST_NOSUID: u64 = 2;
const ST_NODEV: u64 = 4;
const ST_NOEXEC: u64 = 8;
const ST_NOATIME: u64 = 1024;
const ST_NODIRATIME: u64 = 2048;
const ST_RELATIME: u64 = 4096;

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

#[repr(C)]
struct CapUserHeader {
    version: u32,
    pid: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapUserData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn prctl(option: c_int, arg2: libc::c_ulong) -> SysResult<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe {
        libc::prctl(
            option,
            arg2,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

impl Syscall for LinuxSyscall {
    fn mount(
        &self,
        source: Option<&CStr>,
        target: MountTarget<'_>,
        fstype: Option<&CStr>,
        flags: MsFlags,
        data: Option<&CStr>,
    ) -> SysResult<()> {
        let fd_path;
        let target = match target {
            MountTarget::Path(p) => p,
            MountTarget::Fd(fd) => {
                fd_path = ProcFdPath::new(fd);
                fd_path.as_cstr()
            }
        };
        // SAFETY: all pointers are NUL-terminated strings or NULL.
        check(unsafe {
            libc::mount(
                opt_ptr(source),
                target.as_ptr(),
                opt_ptr(fstype),
                flags.bits(),
                opt_ptr(data) as *const c_void,
            )
        })
        .map(drop)
    }

    fn umount2(&self, target: &CStr, flags: MntFlags) -> SysResult<()> {
        // SAFETY: NUL-terminated path.
        check(unsafe { libc::umount2(target.as_ptr(), flags.bits()) }).map(drop)
    }

    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> SysResult<()> {
        // SAFETY: NUL-terminated paths.
        check_long(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
            .map(drop)
    }

    fn mount_flags_of(&self, target: MountTarget<'_>) -> SysResult<MsFlags> {
        // statfs(2) rather than libc's statvfs, which may read /proc/mounts (and allocate) to find flags.
        // SAFETY: statfs is plain data; the kernel fills it.
        let mut st: libc::statfs64 = unsafe { std::mem::zeroed() };
        let ret = match target {
            // SAFETY: valid descriptor number and out pointer.
            MountTarget::Fd(fd) => unsafe { libc::fstatfs64(fd, &mut st) },
            // SAFETY: NUL-terminated path and out pointer.
            MountTarget::Path(p) => unsafe { libc::statfs64(p.as_ptr(), &mut st) },
        };
        check(ret)?;
        let f = st.f_flags as u64;
        let mut flags = MsFlags::empty();
        for (bit, flag) in [
            (ST_RDONLY, MsFlags::MS_RDONLY),
            (ST_NOSUID, MsFlags::MS_NOSUID),
            (ST_NODEV, MsFlags::MS_NODEV),
            (ST_NOEXEC, MsFlags::MS_NOEXEC),
            (ST_NOATIME, MsFlags::MS_NOATIME),
            (ST_NODIRATIME, MsFlags::MS_NODIRATIME),
            (ST_RELATIME, MsFlags::MS_RELATIME),
        ] {
            if f & bit != 0 {
                flags |= flag;
            }
        }
        Ok(flags)
    }

    fn open(&self, path: &CStr, flags: OFlag) -> SysResult<RawFd> {
        // SAFETY: NUL-terminated path.
        check(unsafe { libc::open(path.as_ptr(), (flags | OFlag::O_CLOEXEC).bits(), 0) })
    }

    fn open_in_root(&self, root: RawFd, path: &CStr, flags: OFlag) -> SysResult<RawFd> {
        let how = OpenHow {
            flags: (flags | OFlag::O_CLOEXEC).bits() as u64,
            mode: 0,
            resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        loop {
            // SAFETY: NUL-terminated path; `how` lives across the call and its size is passed.
            let ret = unsafe {
                libc::syscall(
                    libc::SYS_openat2,
                    root,
                    path.as_ptr(),
                    &how as *const OpenHow,
                    std::mem::size_of::<OpenHow>(),
                )
            };
            match check_long(ret) {
                // openat2 fails with EAGAIN when a concurrent rename raced the in-root resolution.
                Err(Errno::EAGAIN) => continue,
                other => return other.map(|fd| fd as RawFd),
            }
        }
    }

    fn mkdir_at(&self, dir: RawFd, name: &CStr, mode: u32) -> SysResult<()> {
        // SAFETY: NUL-terminated name.
        check(unsafe { libc::mkdirat(dir, name.as_ptr(), mode as libc::mode_t) }).map(drop)
    }

    fn create_file_at(&self, dir: RawFd, name: &CStr, mode: u32) -> SysResult<()> {
        let flags = libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC;
        // SAFETY: NUL-terminated name.
        let fd = check(unsafe { libc::openat(dir, name.as_ptr(), flags, mode as libc::c_uint) })?;
        self.close(fd);
        Ok(())
    }

    fn mknod_at(&self, dir: RawFd, name: &CStr, mode: u32, dev: u64) -> SysResult<()> {
        // SAFETY: NUL-terminated name.
        check(unsafe { libc::mknodat(dir, name.as_ptr(), mode as libc::mode_t, dev as libc::dev_t) })
            .map(drop)
    }

    fn chown_at(&self, dir: RawFd, name: &CStr, uid: u32, gid: u32) -> SysResult<()> {
        // SAFETY: NUL-terminated name.
        check(unsafe { libc::fchownat(dir, name.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) }).map(drop)
    }

    fn symlink_at(&self, target: &CStr, dir: RawFd, name: &CStr) -> SysResult<()> {
        // SAFETY: NUL-terminated strings.
        check(unsafe { libc::symlinkat(target.as_ptr(), dir, name.as_ptr()) }).map(drop)
    }

    fn unlink_at(&self, dir: RawFd, name: &CStr) -> SysResult<()> {
        // SAFETY: NUL-terminated name.
        check(unsafe { libc::unlinkat(dir, name.as_ptr(), 0) }).map(drop)
    }

    fn file_kind(&self, path: &CStr) -> SysResult<FileKind> {
        // SAFETY: plain data filled by the kernel.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: NUL-terminated path and out pointer.
        check(unsafe { libc::stat(path.as_ptr(), &mut st) })?;
        Ok(if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            FileKind::Directory
        } else {
            FileKind::NonDirectory
        })
    }

    fn write_file(&self, path: &CStr, data: &[u8]) -> SysResult<()> {
        let fd = self.open(path, OFlag::O_WRONLY | OFlag::O_TRUNC)?;
        let mut written = 0;
        while written < data.len() {
            // SAFETY: the pointer and length stay within `data`.
            let n = unsafe {
                libc::write(
                    fd,
                    data[written..].as_ptr() as *const c_void,
                    data.len() - written,
                )
            };
            if n < 0 {
                let e = Errno::last();
                if e == Errno::EINTR {
                    continue;
                }
                self.close(fd);
                return Err(e);
            }
            written += n as usize;
        }
        self.close(fd);
        Ok(())
    }

    fn chdir(&self, path: &CStr) -> SysResult<()> {
        // SAFETY: NUL-terminated path.
        check(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
    }

    fn fchdir(&self, fd: RawFd) -> SysResult<()> {
        // SAFETY: plain descriptor.
        check(unsafe { libc::fchdir(fd) }).map(drop)
    }

    fn close(&self, fd: RawFd) {
        // SAFETY: closing a descriptor number we own.
        unsafe { libc::close(fd) };
    }

    fn dup_at_least(&self, fd: RawFd, min: RawFd) -> SysResult<RawFd> {
        // SAFETY: plain descriptor arithmetic.
        check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })
    }

    fn dup2(&self, from: RawFd, to: RawFd) -> SysResult<()> {
        loop {
            // SAFETY: plain descriptors.
            match check(unsafe { libc::dup2(from, to) }) {
                Err(Errno::EBUSY) | Err(Errno::EINTR) => continue,
                other => return other.map(drop),
            }
        }
    }

    fn close_range(&self, first: u32, last: u32) -> SysResult<()> {
        // SAFETY: closes descriptors only.
        match check_long(unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) }) {
            Ok(_) => Ok(()),
            Err(Errno::ENOSYS) => {
                let limit = open_file_limit().min(u64::from(last) + 1);
                for fd in u64::from(first)..limit {
                    self.close(fd as RawFd);
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn cloexec_from(&self, first: u32) -> SysResult<()> {
        // SAFETY: only sets descriptor flags.
        let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
        match check_long(ret) {
            Ok(_) => Ok(()),
            Err(Errno::ENOSYS) | Err(Errno::EINVAL) => {
                for fd in u64::from(first)..open_file_limit() {
                    // SAFETY: fails harmlessly with EBADF on closed descriptors.
                    unsafe { libc::fcntl(fd as RawFd, libc::F_SETFD, libc::FD_CLOEXEC) };
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn setns(&self, fd: RawFd, nstype: CloneFlags) -> SysResult<()> {
        // SAFETY: plain descriptor and flags.
        check(unsafe { libc::setns(fd, nstype.bits()) }).map(drop)
    }

    fn unshare(&self, flags: CloneFlags) -> SysResult<()> {
        // SAFETY: plain flags.
        check(unsafe { libc::unshare(flags.bits()) }).map(drop)
    }

    fn sethostname(&self, name: &[u8]) -> SysResult<()> {
        // SAFETY: pointer and length of a live slice.
        check(unsafe { libc::sethostname(name.as_ptr() as *const c_char, name.len()) }).map(drop)
    }

    fn setdomainname(&self, name: &[u8]) -> SysResult<()> {
        // SAFETY: pointer and length of a live slice.
        check(unsafe { libc::setdomainname(name.as_ptr() as *const c_char, name.len()) }).map(drop)
    }

    fn setrlimit(&self, resource: u32, soft: u64, hard: u64) -> SysResult<()> {
        let limit = libc::rlimit64 {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: prlimit64 on ourselves with a live struct and no old-value pointer.
        check(unsafe { libc::prlimit64(0, resource as _, &limit, ptr::null_mut()) }).map(drop)
    }

    fn umask(&self, mask: u32) {
        // SAFETY: plain value.
        unsafe { libc::umask(mask as libc::mode_t) };
    }

    fn setsid(&self) -> SysResult<()> {
        // SAFETY: no arguments.
        check(unsafe { libc::setsid() }).map(drop)
    }

    fn set_controlling_terminal(&self, fd: RawFd) -> SysResult<()> {
        // SAFETY: TIOCSCTTY takes an integer argument.
        check(unsafe { libc::ioctl(fd, libc::TIOCSCTTY as _, 0) }).map(drop)
    }

    fn set_dumpable(&self, dumpable: bool) -> SysResult<()> {
        prctl(libc::PR_SET_DUMPABLE, dumpable as libc::c_ulong)
    }

    fn set_keep_caps(&self, keep: bool) -> SysResult<()> {
        prctl(libc::PR_SET_KEEPCAPS, keep as libc::c_ulong)
    }

    fn set_no_new_privs(&self) -> SysResult<()> {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
    }

    fn seccomp_filter(&self, prog: &[seccompiler::sock_filter]) -> SysResult<()> {
        let len = libc::c_ushort::try_from(prog.len()).map_err(|_| Errno::EINVAL)?;
        let fprog = libc::sock_fprog {
            len,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: fprog points at `prog` (seccompiler's sock_filter has the kernel's layout), which
        // outlives the call; the kernel copies the program.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as libc::c_uint,
                &fprog as *const libc::sock_fprog,
            )
        };
        if r < 0 {
            return Err(Errno::last());
        }
        Ok(())
    }

    fn drop_bounding_cap(&self, cap: u32) -> SysResult<()> {
        prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap))
    }

    fn set_capabilities(&self, sets: CapabilitySets) -> SysResult<()> {
        let mut header = CapUserHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let lo = |m: u64| m as u32;
        let hi = |m: u64| (m >> 32) as u32;
        let data = [
            CapUserData {
                effective: lo(sets.effective),
                permitted: lo(sets.permitted),
                inheritable: lo(sets.inheritable),
            },
            CapUserData {
                effective: hi(sets.effective),
                permitted: hi(sets.permitted),
                inheritable: hi(sets.inheritable),
            },
        ];
        // SAFETY: header and two data structs, as capset(2) version 3 expects.
        check_long(unsafe {
            libc::syscall(libc::SYS_capset, &mut header as *mut CapUserHeader, data.as_ptr())
        })
        .map(drop)
    }

    fn clear_ambient_caps(&self) -> SysResult<()> {
        // SAFETY: prctl with integer arguments only.
        check(unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
                0,
                0,
                0,
            )
        })
        .map(drop)
    }

    fn raise_ambient_cap(&self, cap: u32) -> SysResult<()> {
        // SAFETY: prctl with integer arguments only.
        check(unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                libc::c_ulong::from(cap),
                0,
                0,
            )
        })
        .map(drop)
    }

    fn setgroups(&self, gids: &[u32]) -> SysResult<()> {
        // SAFETY: pointer and length of a live slice of gid_t-sized values.
        check_long(unsafe { libc::syscall(libc::SYS_setgroups, gids.len(), gids.as_ptr()) }).map(drop)
    }

    fn setresgid(&self, gid: u32) -> SysResult<()> {
        // SAFETY: plain values.
        check_long(unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) }).map(drop)
    }

    fn setresuid(&self, uid: u32) -> SysResult<()> {
        // SAFETY: plain values.
        check_long(unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) }).map(drop)
    }

    fn reset_signal_dispositions(&self) {
        for sig in 1..=64 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            // SAFETY: a zeroed sigaction is SIG_DFL with an empty mask; invalid numbers fail harmlessly.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &action, ptr::null_mut());
            }
        }
    }

    fn unblock_signals(&self) -> SysResult<()> {
        // SAFETY: sigset_t is plain data initialised by sigemptyset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            check(libc::sigprocmask(libc::SIG_SETMASK, &set, ptr::null_mut())).map(drop)
        }
    }

    fn execve(&self, path: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
        // SAFETY: the caller passes NULL-terminated arrays of NUL-terminated strings.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        Errno::last()
    }
}

/// The soft `RLIMIT_NOFILE`, the bound of descriptor loops when `close_range(2)` is missing.
fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: out pointer to a live struct.
    if unsafe { libc::getrlimit64(libc::RLIMIT_NOFILE, &mut limit) } < 0 {
        return 1024;
    }
    limit.rlim_cur.min(1 << 20)
}
