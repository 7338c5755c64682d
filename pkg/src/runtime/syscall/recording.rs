//! A [`Syscall`] that performs nothing and records every call, for unprivileged unit tests.
//!
//! Descriptors are fake numbers mapped to the paths they were opened at, so a mount through
//! `MountTarget::Fd` is recorded with the resolved path. Paths can be declared missing (opening them
//! fails with `ENOENT` until something creates them), calls can be made to fail by prefix, and the set
//! of descriptors still open shows leaks.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::{c_char, CStr};
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;

use super::{CapabilitySets, FileKind, MountTarget, SysResult, Syscall};

/// Records calls instead of making them.
#[derive(Default)]
pub(crate) struct RecordingSyscall {
    calls: RefCell<Vec<String>>,
    fds: RefCell<HashMap<RawFd, String>>,
    next_fd: Cell<RawFd>,
    missing: RefCell<HashSet<String>>,
    non_directories: RefCell<HashSet<String>>,
    failures: RefCell<Vec<(String, Errno)>>,
    mount_flags: RefCell<HashMap<String, MsFlags>>,
}

/// `MS_*` flags as a short `A|B` list in a stable order.
pub(crate) fn flag_names(flags: MsFlags) -> String {
    const NAMES: &[(MsFlags, &str)] = &[
        (MsFlags::MS_RDONLY, "RDONLY"),
        (MsFlags::MS_NOSUID, "NOSUID"),
        (MsFlags::MS_NODEV, "NODEV"),
        (MsFlags::MS_NOEXEC, "NOEXEC"),
        (MsFlags::MS_SYNCHRONOUS, "SYNC"),
        (MsFlags::MS_REMOUNT, "REMOUNT"),
        (MsFlags::MS_MANDLOCK, "MANDLOCK"),
        (MsFlags::MS_DIRSYNC, "DIRSYNC"),
        (MsFlags::MS_NOATIME, "NOATIME"),
        (MsFlags::MS_NODIRATIME, "NODIRATIME"),
        (MsFlags::MS_BIND, "BIND"),
        (MsFlags::MS_MOVE, "MOVE"),
        (MsFlags::MS_REC, "REC"),
        (MsFlags::MS_UNBINDABLE, "UNBINDABLE"),
        (MsFlags::MS_PRIVATE, "PRIVATE"),
        (MsFlags::MS_SLAVE, "SLAVE"),
        (MsFlags::MS_SHARED, "SHARED"),
        (MsFlags::MS_RELATIME, "RELATIME"),
        (MsFlags::MS_STRICTATIME, "STRICTATIME"),
    ];
    let names: Vec<&str> = NAMES
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    }
}

fn show(s: Option<&CStr>) -> String {
    s.map_or_else(|| "-".to_string(), |s| s.to_string_lossy().into_owned())
}

fn join(base: &str, rel: &str) -> String {
    if rel == "." || rel.is_empty() {
        base.to_string()
    } else if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

impl RecordingSyscall {
    pub(crate) fn new() -> Self {
        RecordingSyscall {
            next_fd: Cell::new(100),
            ..Default::default()
        }
    }

    /// Declare `path` (absolute) as not existing yet.
    pub(crate) fn set_missing(&self, path: &str) {
        self.missing.borrow_mut().insert(path.to_string());
    }

    /// Declare `path` as a non-directory for `file_kind`.
    pub(crate) fn set_non_directory(&self, path: &str) {
        self.non_directories.borrow_mut().insert(path.to_string());
    }

    /// Make every call whose record starts with `prefix` fail with `errno`.
    pub(crate) fn fail(&self, prefix: &str, errno: Errno) {
        self.failures.borrow_mut().push((prefix.to_string(), errno));
    }

    /// The flags `mount_flags_of` reports for `path`.
    pub(crate) fn set_mount_flags(&self, path: &str, flags: MsFlags) {
        self.mount_flags.borrow_mut().insert(path.to_string(), flags);
    }

    /// Every call so far, in order.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    /// Assert that calls starting with each of `prefixes` were made in this order (others may come
    /// in between).
    pub(crate) fn assert_in_order(&self, prefixes: &[&str]) {
        let calls = self.calls();
        let mut from = 0;
        for prefix in prefixes {
            match calls[from..].iter().position(|c| c.starts_with(prefix)) {
                Some(i) => from += i + 1,
                None => panic!("no {prefix} after call {from} in {calls:#?}"),
            }
        }
    }

    /// The index of the first call starting with `prefix`.
    pub(crate) fn position(&self, prefix: &str) -> usize {
        let calls = self.calls();
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {calls:#?}"))
    }

    /// Paths of descriptors opened and not closed.
    pub(crate) fn open_paths(&self) -> BTreeSet<String> {
        self.fds.borrow().values().cloned().collect()
    }

    fn record(&self, call: String) -> SysResult<()> {
        let failure = self
            .failures
            .borrow()
            .iter()
            .find(|(p, _)| call.starts_with(p.as_str()))
            .map(|f| f.1);
        self.calls.borrow_mut().push(call);
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn path_of(&self, fd: RawFd) -> String {
        self.fds
            .borrow()
            .get(&fd)
            .cloned()
            .unwrap_or_else(|| format!("<fd {fd}>"))
    }

    fn target(&self, target: MountTarget<'_>) -> String {
        match target {
            MountTarget::Path(p) => p.to_string_lossy().into_owned(),
            MountTarget::Fd(fd) => self.path_of(fd),
        }
    }

    fn new_fd(&self, path: String) -> SysResult<RawFd> {
        if self.missing.borrow().contains(&path) {
            return Err(Errno::ENOENT);
        }
        let fd = self.next_fd.get();
        self.next_fd.set(fd + 1);
        self.fds.borrow_mut().insert(fd, path);
        Ok(fd)
    }

    fn created(&self, path: &str) {
        self.missing.borrow_mut().remove(path);
    }
}

impl Syscall for RecordingSyscall {
    fn mount(
        &self,
        source: Option<&CStr>,
        target: MountTarget<'_>,
        fstype: Option<&CStr>,
        flags: MsFlags,
        data: Option<&CStr>,
    ) -> SysResult<()> {
        self.record(format!(
            "mount {} -> {} type={} flags={} data={}",
            show(source),
            self.target(target),
            show(fstype),
            flag_names(flags),
            show(data)
        ))
    }

    fn umount2(&self, target: &CStr, flags: MntFlags) -> SysResult<()> {
        self.record(format!("umount2 {} {:?}", show(Some(target)), flags))
    }

    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> SysResult<()> {
        self.record(format!(
            "pivot_root {} {}",
            show(Some(new_root)),
            show(Some(put_old))
        ))
    }

    fn mount_flags_of(&self, target: MountTarget<'_>) -> SysResult<MsFlags> {
        let path = self.target(target);
        self.record(format!("statvfs {path}"))?;
        Ok(self
            .mount_flags
            .borrow()
            .get(&path)
            .copied()
            .unwrap_or(MsFlags::empty()))
    }

    fn open(&self, path: &CStr, _flags: OFlag) -> SysResult<RawFd> {
        let path = show(Some(path));
        self.record(format!("open {path}"))?;
        self.new_fd(path)
    }

    fn open_in_root(&self, root: RawFd, path: &CStr, _flags: OFlag) -> SysResult<RawFd> {
        let full = join(&self.path_of(root), &show(Some(path)));
        self.record(format!("open_in_root {full}"))?;
        self.new_fd(full)
    }

    fn mkdir_at(&self, dir: RawFd, name: &CStr, mode: u32) -> SysResult<()> {
        let full = join(&self.path_of(dir), &show(Some(name)));
        self.record(format!("mkdir {full} {mode:o}"))?;
        self.created(&full);
        Ok(())
    }

    fn create_file_at(&self, dir: RawFd, name: &CStr, mode: u32) -> SysResult<()> {
        let full = join(&self.path_of(dir), &show(Some(name)));
        self.record(format!("create_file {full} {mode:o}"))?;
        self.created(&full);
        Ok(())
    }

    fn mknod_at(&self, dir: RawFd, name: &CStr, mode: u32, dev: u64) -> SysResult<()> {
        let full = join(&self.path_of(dir), &show(Some(name)));
        let (major, minor) = (libc::major(dev as libc::dev_t), libc::minor(dev as libc::dev_t));
        self.record(format!("mknod {full} {mode:o} {major}:{minor}"))?;
        self.created(&full);
        Ok(())
    }

    fn chown_at(&self, dir: RawFd, name: &CStr, uid: u32, gid: u32) -> SysResult<()> {
        let full = join(&self.path_of(dir), &show(Some(name)));
        self.record(format!("chown {full} {uid}:{gid}"))
    }

    fn symlink_at(&self, target: &CStr, dir: RawFd, name: &CStr) -> SysResult<()> {
        let full = join(&self.path_of(dir), &show(Some(name)));
        self.record(format!("symlink {full} -> {}", show(Some(target))))
    }

    fn unlink_at(&self, dir: RawFd, name: &CStr) -> SysResult<()> {
        let full = join(&self.path_of(dir), &show(Some(name)));
        self.record(format!("unlink {full}"))
    }

    fn file_kind(&self, path: &CStr) -> SysResult<FileKind> {
        let path = show(Some(path));
        self.record(format!("stat {path}"))?;
        if self.missing.borrow().contains(&path) {
            Err(Errno::ENOENT)
        } else if self.non_directories.borrow().contains(&path) {
            Ok(FileKind::NonDirectory)
        } else {
            Ok(FileKind::Directory)
        }
    }

    fn write_file(&self, path: &CStr, data: &[u8]) -> SysResult<()> {
        self.record(format!(
            "write {} {}",
            show(Some(path)),
            String::from_utf8_lossy(data)
        ))
    }

    fn chdir(&self, path: &CStr) -> SysResult<()> {
        self.record(format!("chdir {}", show(Some(path))))
    }

    fn fchdir(&self, fd: RawFd) -> SysResult<()> {
        self.record(format!("fchdir {}", self.path_of(fd)))
    }

    fn close(&self, fd: RawFd) {
        self.fds.borrow_mut().remove(&fd);
    }

    fn dup_at_least(&self, fd: RawFd, min: RawFd) -> SysResult<RawFd> {
        self.record(format!("dup {fd} >= {min}"))?;
        let new = self.next_fd.get().max(min);
        self.next_fd.set(new + 1);
        Ok(new)
    }

    fn dup2(&self, from: RawFd, to: RawFd) -> SysResult<()> {
        self.record(format!("dup2 {from} {to}"))
    }

    fn close_range(&self, first: u32, last: u32) -> SysResult<()> {
        self.record(format!("close_range {first} {last}"))
    }

    fn cloexec_from(&self, first: u32) -> SysResult<()> {
        self.record(format!("cloexec_from {first}"))
    }

    fn setns(&self, fd: RawFd, nstype: CloneFlags) -> SysResult<()> {
        self.record(format!("setns {fd} {nstype:?}"))
    }

    fn unshare(&self, flags: CloneFlags) -> SysResult<()> {
        self.record(format!("unshare {flags:?}"))
    }

    fn sethostname(&self, name: &[u8]) -> SysResult<()> {
        self.record(format!("sethostname {}", String::from_utf8_lossy(name)))
    }

    fn setdomainname(&self, name: &[u8]) -> SysResult<()> {
        self.record(format!("setdomainname {}", String::from_utf8_lossy(name)))
    }

    fn setrlimit(&self, resource: u32, soft: u64, hard: u64) -> SysResult<()> {
        self.record(format!("setrlimit {resource} {soft} {hard}"))
    }

    fn umask(&self, mask: u32) {
        let _ = self.record(format!("umask {mask:o}"));
    }

    fn setsid(&self) -> SysResult<()> {
        self.record("setsid".to_string())
    }

    fn set_controlling_terminal(&self, fd: RawFd) -> SysResult<()> {
        self.record(format!("tiocsctty {fd}"))
    }

    fn set_dumpable(&self, dumpable: bool) -> SysResult<()> {
        self.record(format!("dumpable {dumpable}"))
    }

    fn set_keep_caps(&self, keep: bool) -> SysResult<()> {
        self.record(format!("keepcaps {keep}"))
    }

    fn set_no_new_privs(&self) -> SysResult<()> {
        self.record("no_new_privs".to_string())
    }

    fn seccomp_filter(&self, prog: &[seccompiler::sock_filter]) -> SysResult<()> {
        self.record(format!("seccomp {} instructions", prog.len()))
    }

    fn drop_bounding_cap(&self, cap: u32) -> SysResult<()> {
        self.record(format!("drop_bounding {cap}"))
    }

    fn set_capabilities(&self, sets: CapabilitySets) -> SysResult<()> {
        self.record(format!(
            "capset e={:#x} p={:#x} i={:#x}",
            sets.effective, sets.permitted, sets.inheritable
        ))
    }

    fn clear_ambient_caps(&self) -> SysResult<()> {
        self.record("ambient_clear".to_string())
    }

    fn raise_ambient_cap(&self, cap: u32) -> SysResult<()> {
        self.record(format!("ambient_raise {cap}"))
    }

    fn setgroups(&self, gids: &[u32]) -> SysResult<()> {
        self.record(format!("setgroups {gids:?}"))
    }

    fn setresgid(&self, gid: u32) -> SysResult<()> {
        self.record(format!("setresgid {gid}"))
    }

    fn setresuid(&self, uid: u32) -> SysResult<()> {
        self.record(format!("setresuid {uid}"))
    }

    fn reset_signal_dispositions(&self) {
        let _ = self.record("reset_signals".to_string());
    }

    fn unblock_signals(&self) -> SysResult<()> {
        self.record("unblock_signals".to_string())
    }

    fn execve(&self, path: &CStr, _argv: &[*const c_char], _envp: &[*const c_char]) -> Errno {
        match self.record(format!("execve {}", show(Some(path)))) {
            Err(e) => e,
            Ok(()) => Errno::ENOENT,
        }
    }
}
