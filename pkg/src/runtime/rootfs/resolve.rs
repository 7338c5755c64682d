//! Paths inside the container root, and creating them without ever leaving the root.
//!
//! An [`InRootPath`] is a container path (`/dev/pts`) cleaned lexically and split by the parent into
//! everything the child needs as C strings: the whole relative path, each prefix and each component.
//! The child then resolves it with `openat2(RESOLVE_IN_ROOT)` against a descriptor of the root, so a
//! symlink in the image (`/etc/resolv.conf -> /run/...`, or a malicious `-> /../../host`) is followed
//! as the container would see it and can never reach the host (the CVE-2024-21626 class). Missing
//! directories are created one component at a time, each `mkdirat` relative to the already-resolved
//! parent. Everything here after planning is allocation-free.

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::runtime::error::RuntimeError;
use crate::runtime::syscall::{SysResult, Syscall};

/// A cleaned, non-root path inside the container, prepared for in-root resolution.
#[derive(Clone, Debug)]
pub(crate) struct InRootPath {
    /// The absolute container path, for messages (`/dev/pts`).
    display: String,
    /// Relative path given to `openat2` (`dev/pts`).
    relative: CString,
    /// `dev`, `dev/pts`.
    prefixes: Vec<CString>,
    /// `dev`, `pts`.
    names: Vec<CString>,
}

fn cstring(s: &str, what: &str) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|_| RuntimeError::invalid(format!("{what} {s:?} contains a NUL byte")))
}

impl InRootPath {
    /// Clean `path` lexically (`.` dropped, `..` applied but never above `/`) and prepare it.
    /// Fails for the root itself and for paths with NUL bytes.
    pub(crate) fn new(path: &Path) -> Result<Self, RuntimeError> {
        let mut parts: Vec<String> = Vec::new();
        for component in path.components() {
            match component {
                Component::Normal(c) => parts.push(c.to_string_lossy().into_owned()),
                Component::ParentDir => {
                    parts.pop();
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        if parts.is_empty() {
            return Err(RuntimeError::invalid(format!(
                "{} refers to the container root",
                path.display()
            )));
        }
        let display = format!("/{}", parts.join("/"));
        let mut prefixes = Vec::with_capacity(parts.len());
        let mut names = Vec::with_capacity(parts.len());
        for i in 0..parts.len() {
            prefixes.push(cstring(&parts[..=i].join("/"), "path")?);
            names.push(cstring(&parts[i], "path")?);
        }
        let relative = prefixes[parts.len() - 1].clone();
        Ok(InRootPath {
            display,
            relative,
            prefixes,
            names,
        })
    }

    /// The absolute container path, for messages.
    pub(crate) fn display(&self) -> &str {
        &self.display
    }

    /// The path relative to the root, for `openat2`.
    pub(crate) fn relative(&self) -> &CStr {
        &self.relative
    }

    /// The last component.
    pub(crate) fn name(&self) -> &CStr {
        // `new` guarantees at least one component.
        &self.names[self.names.len() - 1]
    }

    /// Whether this path is `base` or below it (`/dev/pts` is under `/dev`).
    pub(crate) fn is_under(&self, base: &str) -> bool {
        let base = base.trim_end_matches('/');
        self.display == base || self.display.starts_with(&format!("{base}/"))
    }
}

const DIR_FLAGS: OFlag = OFlag::O_PATH.union(OFlag::O_DIRECTORY);

/// Open `path` inside `root` as an `O_PATH` descriptor, without creating anything.
pub(crate) fn open(sys: &dyn Syscall, root: RawFd, path: &InRootPath) -> SysResult<RawFd> {
    sys.open_in_root(root, path.relative(), OFlag::O_PATH)
}

/// Make sure the first `count` components of `path` exist as directories (creating missing ones with
/// mode 0755) and return an `O_PATH` descriptor of the last of them (of the root when `count` is 0).
pub(crate) fn ensure_dirs(
    sys: &dyn Syscall,
    root: RawFd,
    path: &InRootPath,
    count: usize,
) -> SysResult<RawFd> {
    if count == 0 {
        return sys.open_in_root(root, c".", DIR_FLAGS);
    }
    match sys.open_in_root(root, &path.prefixes[count - 1], DIR_FLAGS) {
        Err(Errno::ENOENT) => {}
        other => return other,
    }
    let mut dir = sys.open_in_root(root, c".", DIR_FLAGS)?;
    for i in 0..count {
        let next = match sys.open_in_root(root, &path.prefixes[i], DIR_FLAGS) {
            Err(Errno::ENOENT) => match sys.mkdir_at(dir, &path.names[i], 0o755) {
                Ok(()) | Err(Errno::EEXIST) => sys.open_in_root(root, &path.prefixes[i], DIR_FLAGS),
                Err(e) => Err(e),
            },
            other => other,
        };
        sys.close(dir);
        dir = next?;
    }
    Ok(dir)
}

/// Make sure `path` exists as a directory; return an `O_PATH` descriptor of it.
pub(crate) fn ensure_dir(sys: &dyn Syscall, root: RawFd, path: &InRootPath) -> SysResult<RawFd> {
    ensure_dirs(sys, root, path, path.names.len())
}

/// Make sure the parent directories of `path` exist; return an `O_PATH` descriptor of the parent.
pub(crate) fn ensure_parent(sys: &dyn Syscall, root: RawFd, path: &InRootPath) -> SysResult<RawFd> {
    ensure_dirs(sys, root, path, path.names.len() - 1)
}

/// Make sure `path` exists (creating an empty file, and its parent directories, when it does not);
/// return an `O_PATH` descriptor of it. An existing path of any type is accepted as is.
pub(crate) fn ensure_file(sys: &dyn Syscall, root: RawFd, path: &InRootPath) -> SysResult<RawFd> {
    match open(sys, root, path) {
        Err(Errno::ENOENT) => {}
        other => return other,
    }
    let parent = ensure_parent(sys, root, path)?;
    let created = sys.create_file_at(parent, path.name(), 0o644);
    sys.close(parent);
    match created {
        Ok(()) | Err(Errno::EEXIST) => open(sys, root, path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;

    fn p(s: &str) -> InRootPath {
        InRootPath::new(Path::new(s)).unwrap()
    }

    #[test]
    fn paths_are_cleaned_and_split() {
        let path = p("/dev/./pts/");
        assert_eq!(path.display(), "/dev/pts");
        assert_eq!(path.relative().to_str().unwrap(), "dev/pts");
        assert_eq!(path.name().to_str().unwrap(), "pts");
        assert_eq!(p("/../../etc/../proc").display(), "/proc");
        assert!(InRootPath::new(Path::new("/")).is_err());
        assert!(InRootPath::new(Path::new("/a/..")).is_err());
        assert!(p("/dev/pts").is_under("/dev"));
        assert!(p("/dev").is_under("/dev"));
        assert!(!p("/device").is_under("/dev"));
    }

    #[test]
    fn existing_directory_is_opened_without_creating() {
        let sys = RecordingSyscall::new();
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        let fd = ensure_dir(&sys, root, &p("/a/b")).unwrap();
        sys.close(fd);
        sys.close(root);
        assert_eq!(sys.calls(), vec!["open /r", "open_in_root /r/a/b"]);
        assert!(sys.open_paths().is_empty());
    }

    #[test]
    fn missing_directories_are_created_component_by_component_in_root() {
        let sys = RecordingSyscall::new();
        sys.set_missing("/r/a/b");
        sys.set_missing("/r/a/b/c");
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        let fd = ensure_dir(&sys, root, &p("/a/b/c")).unwrap();
        sys.close(fd);
        sys.close(root);
        assert_eq!(
            sys.calls(),
            vec![
                "open /r",
                "open_in_root /r/a/b/c",
                "open_in_root /r",
                "open_in_root /r/a",
                "open_in_root /r/a/b",
                "mkdir /r/a/b 755",
                "open_in_root /r/a/b",
                "open_in_root /r/a/b/c",
                "mkdir /r/a/b/c 755",
                "open_in_root /r/a/b/c",
            ]
        );
        assert!(sys.open_paths().is_empty(), "leaked {:?}", sys.open_paths());
    }

    #[test]
    fn missing_file_is_created_after_its_parent() {
        let sys = RecordingSyscall::new();
        sys.set_missing("/r/etc");
        sys.set_missing("/r/etc/hosts");
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        let fd = ensure_file(&sys, root, &p("/etc/hosts")).unwrap();
        sys.close(fd);
        sys.close(root);
        let calls = sys.calls();
        let mkdir = calls.iter().position(|c| c == "mkdir /r/etc 755").unwrap();
        let create = calls
            .iter()
            .position(|c| c == "create_file /r/etc/hosts 644")
            .unwrap();
        assert!(mkdir < create);
        assert_eq!(calls.last().unwrap(), "open_in_root /r/etc/hosts");
        assert!(sys.open_paths().is_empty());
    }

    #[test]
    fn errors_other_than_missing_are_returned() {
        let sys = RecordingSyscall::new();
        sys.fail("open_in_root /r/a", Errno::ELOOP);
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        assert_eq!(ensure_dir(&sys, root, &p("/a")), Err(Errno::ELOOP));
    }
}
