//! Thin wrappers over the `*at` system calls extraction is built from.
//!
//! Every name passed here is a single path component (no `/`) relative to a directory fd, except
//! for [`open_beneath`], which resolves a multi-component path with `openat2(RESOLVE_BENEATH)`.

use std::ffi::{CStr, CString};
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Runs `f` again while it fails with `EINTR`.
fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            r => return r,
        }
    }
}

pub fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// Opens an existing directory (following symlinks: `dest` is the caller's choice).
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    let fd = retry(|| {
        cvt(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) })
    })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens the directory at `path` relative to `root` with `openat2(2)`, never leaving `root`:
/// `..` above it, absolute symlinks and symlinks that climb out fail with `EXDEV`, magic links
/// (`/proc/<pid>/fd/...`) with `ELOOP`. Symlinks that stay inside are followed, including a final
/// one unless `nofollow`.
pub fn open_beneath(root: RawFd, path: &CStr, nofollow: bool) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain old data; all-zero is its documented default.
    let mut how: libc::open_how = unsafe { mem::zeroed() };
    let mut flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    how.flags = flags as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // EAGAIN: a concurrent rename elsewhere on the system made the kernel give up; try again.
    let mut attempts = 0;
    loop {
        // SAFETY: path is NUL-terminated, how lives across the call and its size is passed.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root,
                path.as_ptr(),
                &how as *const libc::open_how,
                mem::size_of::<libc::open_how>(),
            )
        };
        if r >= 0 {
            return Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) });
        }
        let e = io::Error::last_os_error();
        match errno(&e) {
            libc::EINTR => continue,
            libc::EAGAIN if attempts < 64 => attempts += 1,
            libc::ENOSYS => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "openat2(2) is not available (Linux 5.6 or later is required to extract layers safely)",
                ))
            }
            _ => return Err(e),
        }
    }
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`.
pub fn openat(dir: RawFd, name: &CStr, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
    let fd = retry(|| {
        cvt(unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint) })
    })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens the subdirectory `name` of `dir`, refusing to follow a symlink there.
pub fn open_subdir(dir: RawFd, name: &CStr) -> io::Result<OwnedFd> {
    openat(
        dir,
        name,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        0,
    )
}

pub fn mkdirat(dir: RawFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    cvt(unsafe { libc::mkdirat(dir, name.as_ptr(), mode) }).map(drop)
}

pub fn symlinkat(target: &CStr, dir: RawFd, name: &CStr) -> io::Result<()> {
    cvt(unsafe { libc::symlinkat(target.as_ptr(), dir, name.as_ptr()) }).map(drop)
}

/// Hardlinks `old_dir/old_name` (never following a final symlink) to `new_dir/new_name`.
pub fn linkat(old_dir: RawFd, old_name: &CStr, new_dir: RawFd, new_name: &CStr) -> io::Result<()> {
    cvt(unsafe { libc::linkat(old_dir, old_name.as_ptr(), new_dir, new_name.as_ptr(), 0) }).map(drop)
}

pub fn mknodat(dir: RawFd, name: &CStr, mode: libc::mode_t, dev: libc::dev_t) -> io::Result<()> {
    cvt(unsafe { libc::mknodat(dir, name.as_ptr(), mode, dev) }).map(drop)
}

pub fn unlinkat(dir: RawFd, name: &CStr, flags: libc::c_int) -> io::Result<()> {
    cvt(unsafe { libc::unlinkat(dir, name.as_ptr(), flags) }).map(drop)
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`.
pub fn lstatat(dir: RawFd, name: &CStr) -> io::Result<libc::stat> {
    let mut st: libc::stat = unsafe { mem::zeroed() };
    cvt(unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(st)
}

pub fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    let mut st: libc::stat = unsafe { mem::zeroed() };
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

pub fn fchown(fd: RawFd, uid: u32, gid: u32) -> io::Result<()> {
    cvt(unsafe { libc::fchown(fd, uid, gid) }).map(drop)
}

/// `fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW)`.
pub fn lchownat(dir: RawFd, name: &CStr, uid: u32, gid: u32) -> io::Result<()> {
    cvt(unsafe { libc::fchownat(dir, name.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) }).map(drop)
}

pub fn fchmod(fd: RawFd, mode: u32) -> io::Result<()> {
    cvt(unsafe { libc::fchmod(fd, mode as libc::mode_t) }).map(drop)
}

/// `fchmodat(dir, name, mode, 0)`: only used on device nodes and FIFOs this process just created
/// (a symlink cannot be there).
pub fn fchmodat(dir: RawFd, name: &CStr, mode: u32) -> io::Result<()> {
    cvt(unsafe { libc::fchmodat(dir, name.as_ptr(), mode as libc::mode_t, 0) }).map(drop)
}

pub fn futimens(fd: RawFd, mtime: &libc::timespec) -> io::Result<()> {
    let times = [*mtime, *mtime];
    cvt(unsafe { libc::futimens(fd, times.as_ptr()) }).map(drop)
}

/// `utimensat(dir, name, AT_SYMLINK_NOFOLLOW)`, atime = mtime.
pub fn lutimensat(dir: RawFd, name: &CStr, mtime: &libc::timespec) -> io::Result<()> {
    let times = [*mtime, *mtime];
    cvt(unsafe { libc::utimensat(dir, name.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) }).map(drop)
}

pub fn fsetxattr(fd: RawFd, name: &CStr, value: &[u8]) -> io::Result<()> {
    cvt(unsafe { libc::fsetxattr(fd, name.as_ptr(), value.as_ptr().cast(), value.len(), 0) }).map(drop)
}

pub fn lsetxattr(path: &CStr, name: &CStr, value: &[u8]) -> io::Result<()> {
    cvt(unsafe {
        libc::lsetxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
    .map(drop)
}

/// `/proc/self/fd/<dir>/<name>`: a path to `name` in `dir` for the calls that have no `*at` form
/// (`lsetxattr`). The kernel follows the fd magic link to `dir` itself, so this cannot leave it;
/// the final component is not followed by the `l*` calls.
pub fn proc_fd_path(dir: RawFd, name: &CStr) -> CString {
    let mut p = format!("/proc/self/fd/{dir}/").into_bytes();
    p.extend_from_slice(name.to_bytes());
    // name has no interior NUL (it came from a CStr) and the prefix has none either.
    CString::new(p).unwrap_or_default()
}

pub fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

pub fn is_symlink(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFLNK
}

/// Deepest directory tree [`remove_all_at`] descends into (symlink chains let a layer build trees
/// deeper than PATH_MAX, so there must be a bound). One fd is open per level.
const MAX_REMOVE_DEPTH: usize = 4096;

/// Removes the directory `dir/name` and everything in it, never following symlinks. Iterative, so
/// a hostile layer's deep tree cannot overflow the stack.
pub fn remove_all_at(dir: RawFd, name: &CStr) -> io::Result<()> {
    struct Level {
        fd: OwnedFd,
        children: Vec<(CString, u8)>,
        name: CString,
    }
    let fd = open_subdir(dir, name)?;
    let children = list_dir(fd.as_raw_fd())?;
    let mut stack = vec![Level {
        fd,
        children,
        name: name.to_owned(),
    }];
    while let Some(level) = stack.last_mut() {
        let here = level.fd.as_raw_fd();
        match level.children.pop() {
            Some((child, d_type)) => {
                let is_dir = match d_type {
                    libc::DT_DIR => true,
                    libc::DT_UNKNOWN => is_dir(&lstatat(here, &child)?),
                    _ => false,
                };
                if !is_dir {
                    unlinkat(here, &child, 0)?;
                    continue;
                }
                if stack.len() >= MAX_REMOVE_DEPTH {
                    return Err(io::Error::other("directory tree too deep to remove"));
                }
                let fd = open_subdir(here, &child)?;
                let children = list_dir(fd.as_raw_fd())?;
                stack.push(Level {
                    fd,
                    children,
                    name: child,
                });
            }
            None => {
                let done = stack.pop().map(|l| l.name).unwrap_or_default();
                let parent = stack.last().map_or(dir, |l| l.fd.as_raw_fd());
                unlinkat(parent, &done, libc::AT_REMOVEDIR)?;
            }
        }
    }
    Ok(())
}

/// The names (without `.` and `..`) and `d_type`s in the directory open at `fd`.
fn list_dir(fd: RawFd) -> io::Result<Vec<(CString, u8)>> {
    let dup = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) })?;
    // SAFETY: fdopendir takes ownership of `dup` on success; on failure we close it.
    let dirp = unsafe { libc::fdopendir(dup) };
    if dirp.is_null() {
        let e = io::Error::last_os_error();
        unsafe { libc::close(dup) };
        return Err(e);
    }
    let mut names = Vec::new();
    let result = loop {
        // readdir signals errors only through errno, so clear it first.
        unsafe { *libc::__errno_location() = 0 };
        let ent = unsafe { libc::readdir64(dirp) };
        if ent.is_null() {
            let e = io::Error::last_os_error();
            break if errno(&e) == 0 { Ok(()) } else { Err(e) };
        }
        // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated.
        let (name, d_type) = unsafe { (CStr::from_ptr((*ent).d_name.as_ptr()), (*ent).d_type) };
        let b = name.to_bytes();
        if b != b"." && b != b".." {
            names.push((name.to_owned(), d_type));
        }
    };
    unsafe { libc::closedir(dirp) };
    result.map(|()| names)
}
