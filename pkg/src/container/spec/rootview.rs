//! Reading files of a container's root filesystem before it is mounted.
//!
//! A [`RootView`] is either a stack of extracted layer directories (top first), merged the way overlayfs
//! merges them: the topmost layer that has a path wins, a whiteout (a 0/0 character device) hides the
//! path in every layer below, and an opaque directory (`trusted.overlay.opaque=y`, or the rootless
//! `user.overlay.opaque=y`) hides the contents of the same directory in the layers below. Or it is one
//! plain directory (`--rootfs`, or an already mounted root) where nothing is special.
//!
//! Symlinks are followed inside the root only (an absolute target restarts at the container's `/`, `..`
//! stops at it), so a hostile image cannot make the engine read a host file. This module only reads.

use std::ffi::{CString, OsStr};
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// Symlinks followed before giving up (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// A container's root filesystem as files on the host.
#[derive(Clone, Debug)]
pub struct RootView {
    /// Top layer first; one entry for a plain directory.
    layers: Vec<PathBuf>,
    /// Whether whiteouts and opaque directories mean anything (layer stacks only).
    overlay: bool,
}

impl RootView {
    /// A stack of extracted layers, top first, with overlay whiteouts.
    pub fn layers(top_first: &[PathBuf]) -> RootView {
        RootView {
            layers: top_first.to_vec(),
            overlay: true,
        }
    }

    /// One directory holding the whole root.
    pub fn dir(root: &Path) -> RootView {
        RootView {
            layers: vec![root.to_path_buf()],
            overlay: false,
        }
    }

    /// The host path of the file the container would see at `path` (absolute or relative to its `/`),
    /// after following symlinks inside the root; `None` when there is no such file.
    pub fn find(&self, path: &str) -> Option<PathBuf> {
        self.resolve(path).map(|(p, _)| p)
    }

    /// The contents of a regular file at `path` in the root, `None` when it does not exist.
    pub fn read_to_string(&self, path: &str) -> io::Result<Option<String>> {
        match self.resolve(path) {
            Some((p, meta)) if meta.is_file() => std::fs::read_to_string(&p).map(Some),
            Some((p, _)) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a regular file", p.display()),
            )),
            None => Ok(None),
        }
    }

    fn resolve(&self, path: &str) -> Option<(PathBuf, Metadata)> {
        let mut pending: Vec<String> = components(Path::new(path)).into_iter().rev().collect();
        let mut current: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                current.pop();
                continue;
            }
            current.push(name);
            let (host, meta) = self.lookup(&current)?;
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_SYMLINKS {
                    return None;
                }
                let target = std::fs::read_link(&host).ok()?;
                current.pop();
                if target.is_absolute() {
                    current.clear();
                }
                pending.extend(components(&target).into_iter().rev());
            } else if !pending.is_empty() && !meta.is_dir() {
                return None;
            }
        }
        if current.is_empty() {
            let root = self.layers.first()?;
            return std::fs::metadata(root).ok().map(|m| (root.clone(), m));
        }
        self.lookup(&current)
    }

    /// The entry at `rel` (no symlinks followed), from the topmost layer that decides it.
    fn lookup(&self, rel: &[String]) -> Option<(PathBuf, Metadata)> {
        let rel: PathBuf = rel.iter().collect();
        for layer in &self.layers {
            let host = layer.join(&rel);
            match std::fs::symlink_metadata(&host) {
                Ok(meta) if self.overlay && is_whiteout(&meta) => return None,
                Ok(meta) => return Some((host, meta)),
                Err(_) if self.overlay && hides_lower(layer, &rel) => return None,
                Err(_) => {}
            }
        }
        None
    }
}

/// The normal components of a path, keeping `..` (resolved against the in-root path as it is walked).
fn components(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

/// An overlay whiteout: a character device with device number 0/0.
fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Whether a layer that lacks `rel` still hides it in the layers below: some ancestor directory of
/// `rel` in this layer is opaque, or is not a directory at all (a whiteout, file or symlink).
fn hides_lower(layer: &Path, rel: &Path) -> bool {
    rel.ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .any(|a| {
            let host = layer.join(a);
            match std::fs::symlink_metadata(&host) {
                Ok(meta) if meta.is_dir() => is_opaque(&host),
                Ok(_) => true,
                Err(_) => false,
            }
        })
}

/// `trusted.overlay.opaque=y` (root) or `user.overlay.opaque=y` (rootless) on a directory.
pub(crate) fn is_opaque(dir: &Path) -> bool {
    ["trusted.overlay.opaque", "user.overlay.opaque"]
        .iter()
        .any(|name| xattr(dir.as_os_str(), name).is_some_and(|v| v == b"y"))
}

fn xattr(path: &OsStr, name: &str) -> Option<Vec<u8>> {
    let path = CString::new(path.as_bytes()).ok()?;
    let name = CString::new(name).ok()?;
    let mut buf = [0u8; 16];
    // SAFETY: both strings are NUL-terminated and `buf` is writable for its length.
    let n = unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;

    /// Makes `path` a whiteout; false when this process may not create device nodes.
    pub(crate) fn whiteout(path: &Path) -> bool {
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mknod has no other memory effects.
        unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, 0) == 0 }
    }

    /// Marks `dir` opaque; false when this process may not set trusted xattrs.
    pub(crate) fn opaque(dir: &Path) -> bool {
        let c = CString::new(dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: NUL-terminated strings and a one-byte value.
        unsafe {
            libc::lsetxattr(
                c.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                b"y".as_ptr().cast(),
                1,
                0,
            ) == 0
        }
    }

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn top_layer_wins_and_symlinks_stay_inside() {
        let t = tempfile::tempdir().unwrap();
        let (upper, lower) = (t.path().join("upper"), t.path().join("lower"));
        write(&lower.join("etc/passwd"), "lower");
        write(&lower.join("etc/group"), "lower-group");
        write(&upper.join("etc/passwd"), "upper");
        fs::create_dir_all(upper.join("usr")).unwrap();
        std::os::unix::fs::symlink("../../../../../etc/group", upper.join("usr/group")).unwrap();
        std::os::unix::fs::symlink("/etc", upper.join("etc2")).unwrap();
        let view = RootView::layers(&[upper.clone(), lower.clone()]);
        assert_eq!(
            view.read_to_string("/etc/passwd").unwrap().as_deref(),
            Some("upper")
        );
        assert_eq!(
            view.read_to_string("/etc/group").unwrap().as_deref(),
            Some("lower-group")
        );
        assert_eq!(
            view.read_to_string("usr/group").unwrap().as_deref(),
            Some("lower-group")
        );
        assert_eq!(
            view.read_to_string("/etc2/passwd").unwrap().as_deref(),
            Some("upper")
        );
        assert_eq!(view.read_to_string("/etc/shadow").unwrap(), None);
        assert_eq!(view.read_to_string("/etc/passwd/x").unwrap(), None);
        assert!(view.read_to_string("/etc").is_err());
        let plain = RootView::dir(&lower);
        assert_eq!(
            plain.read_to_string("/etc/passwd").unwrap().as_deref(),
            Some("lower")
        );
    }

    #[test]
    fn symlink_loops_end() {
        let t = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("b", t.path().join("a")).unwrap();
        std::os::unix::fs::symlink("a", t.path().join("b")).unwrap();
        assert_eq!(RootView::dir(t.path()).find("/a"), None);
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers() {
        let t = tempfile::tempdir().unwrap();
        let (upper, middle, lower) = (t.path().join("u"), t.path().join("m"), t.path().join("l"));
        write(&lower.join("etc/passwd"), "lower");
        write(&lower.join("opt/a"), "lower-a");
        write(&lower.join("srv/x"), "lower-x");
        fs::create_dir_all(middle.join("etc")).unwrap();
        fs::create_dir_all(upper.join("opt")).unwrap();
        fs::create_dir_all(&upper).unwrap();
        if !whiteout(&middle.join("etc/passwd"))
            || !whiteout(&upper.join("srv"))
            || !opaque(&upper.join("opt"))
        {
            eprintln!("skipping: creating whiteouts needs CAP_MKNOD and CAP_SYS_ADMIN");
            return;
        }
        let view = RootView::layers(&[upper, middle, lower]);
        assert_eq!(view.find("/etc/passwd"), None);
        assert_eq!(view.find("/opt/a"), None);
        assert!(view.find("/opt").is_some());
        assert_eq!(view.find("/srv/x"), None);
        assert_eq!(view.find("/srv"), None);
    }
}
