//! Symlinks the runtime creates inside the root: `/dev/fd`, `/dev/std{in,out,err}`, `/dev/core`,
//! `/dev/ptmx -> pts/ptmx` (replacing any node there, so every pty comes from the container's own
//! devpts instance), and the controller links of a v1 cgroup tree.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use nix::errno::Errno;

use super::resolve::{self, InRootPath};
use crate::runtime::error::RuntimeError;
use crate::runtime::syscall::{SysResult, Syscall};

/// A symlink to create inside the root.
#[derive(Clone, Debug)]
pub(crate) struct SymlinkOp {
    pub link: InRootPath,
    /// What the link points to, verbatim.
    pub target: CString,
    /// Remove an existing non-directory at `link` first (otherwise an existing entry is kept).
    pub replace: bool,
}

impl SymlinkOp {
    fn new(link: &str, target: &str, replace: bool) -> Result<Self, RuntimeError> {
        Ok(SymlinkOp {
            link: InRootPath::new(Path::new(link))?,
            target: CString::new(target)
                .map_err(|_| RuntimeError::invalid("symlink target has a NUL byte"))?,
            replace,
        })
    }

    /// Create the link (its parent directories too).
    pub(crate) fn create(&self, sys: &dyn Syscall, root: RawFd) -> SysResult<()> {
        let parent = resolve::ensure_parent(sys, root, &self.link)?;
        let name = self.link.name();
        let mut result = Ok(());
        if self.replace {
            result = match sys.unlink_at(parent, name) {
                Err(Errno::ENOENT) => Ok(()),
                other => other,
            };
        }
        if result.is_ok() {
            result = match sys.symlink_at(&self.target, parent, name) {
                Err(Errno::EEXIST) if !self.replace => Ok(()),
                other => other,
            };
        }
        sys.close(parent);
        result
    }
}

/// The standard `/dev` links; `/dev/core` only when the host has `/proc/kcore`.
pub(crate) fn dev_symlinks(has_kcore: bool) -> Result<Vec<SymlinkOp>, RuntimeError> {
    let mut links = vec![
        SymlinkOp::new("/dev/fd", "/proc/self/fd", false)?,
        SymlinkOp::new("/dev/stdin", "/proc/self/fd/0", false)?,
        SymlinkOp::new("/dev/stdout", "/proc/self/fd/1", false)?,
        SymlinkOp::new("/dev/stderr", "/proc/self/fd/2", false)?,
    ];
    if has_kcore {
        links.push(SymlinkOp::new("/dev/core", "/proc/kcore", false)?);
    }
    links.push(SymlinkOp::new("/dev/ptmx", "pts/ptmx", true)?);
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;
    use nix::fcntl::OFlag;

    #[test]
    fn dev_links_point_into_proc_and_ptmx_is_replaced() {
        let links = dev_symlinks(false).unwrap();
        let sys = RecordingSyscall::new();
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        for link in &links {
            link.create(&sys, root).unwrap();
        }
        sys.close(root);
        let made: Vec<String> = sys
            .calls()
            .into_iter()
            .filter(|c| !c.starts_with("open"))
            .collect();
        assert_eq!(
            made,
            vec![
                "symlink /r/dev/fd -> /proc/self/fd",
                "symlink /r/dev/stdin -> /proc/self/fd/0",
                "symlink /r/dev/stdout -> /proc/self/fd/1",
                "symlink /r/dev/stderr -> /proc/self/fd/2",
                "unlink /r/dev/ptmx",
                "symlink /r/dev/ptmx -> pts/ptmx",
            ]
        );
        assert!(sys.open_paths().is_empty());
        assert_eq!(dev_symlinks(true).unwrap().len(), 6);
    }
}
