//! `mount`/`unmount`: a container's root filesystem mounted on the host at its `merged` directory, for
//! tools that want to read or change it there.
//!
//! The mount table is the record: a container is mounted exactly when an overlay sits at its `merged`
//! directory in the host's `/proc/self/mountinfo`, so a record can never disagree with the kernel. While
//! it is mounted the runtime uses that mount as the container's root instead of mounting the same upper
//! directory a second time (`monitor::overlay_for`); `rm` unmounts it. A running container (whose
//! overlay exists only in its own mount namespace) cannot be mounted: two overlays over one upper
//! directory are undefined behaviour in the kernel.

use super::lifecycle;
use super::paths::ContainerPaths;
use super::store::{self, ContainerRecord};
use crate::engine::Engine;
use crate::error::{Error, Result};
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// The mount points of this process's mount namespace (`/proc/self/mountinfo` field 5, unescaped).
fn mount_points() -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return vec![];
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

/// Undoes the kernel's octal escapes (`\040` for a space) in a mountinfo path.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') as u32 * 64 + (b[i + 2] - b'0') as u32 * 8 + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether something is mounted at `merged` in this mount namespace.
pub fn is_mounted(merged: &Path) -> bool {
    mount_points().iter().any(|p| p == merged)
}

/// Mounts the container's root filesystem on the host (once) and returns where.
pub fn mount(engine: &Engine, rec: &ContainerRecord) -> Result<PathBuf> {
    let paths = ContainerPaths::new(engine.store.root(), &rec.id);
    let cfg = lifecycle::config_of(engine, &rec.id)?;
    if let Some(dir) = cfg.rootfs {
        return Ok(dir);
    }
    let merged = paths.merged();
    if is_mounted(&merged) {
        return Ok(merged);
    }
    let root = super::fsview::container_root(engine, rec)?;
    let overlay = match root.source {
        super::fsview::RootSource::Overlay { overlay, .. } => overlay,
        super::fsview::RootSource::Namespace { .. } => {
            return Err(Error::ContainerState(format!(
                "container {} is running: its root filesystem is mounted only in its own mount namespace; stop it first, or use cp or exec",
                rec.name
            )))
        }
        super::fsview::RootSource::Dir(dir) => return Ok(dir),
    };
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::InvalidInput(
            "mount needs root: a rootless mount would only exist in a user namespace".into(),
        ));
    }
    super::fsview::mount_overlay(&overlay, &merged, MsFlags::MS_NODEV).map_err(|e| Error::Io {
        context: format!("mounting the root filesystem of container {}", rec.name),
        source: e.into(),
    })?;
    // Never propagate into other namespaces (containers started later copy it, privately).
    let _ = nix::mount::mount(
        None::<&str>,
        &merged,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    );
    Ok(merged)
}

/// Unmounts the container's root filesystem from the host; false when it was not mounted. `force`
/// detaches it even while files in it are open.
pub fn unmount(engine: &Engine, rec: &ContainerRecord, force: bool) -> Result<bool> {
    let merged = ContainerPaths::new(engine.store.root(), &rec.id).merged();
    if !is_mounted(&merged) {
        return Ok(false);
    }
    let flags = if force {
        MntFlags::MNT_DETACH
    } else {
        MntFlags::empty()
    };
    nix::mount::umount2(&merged, flags).map_err(|e| Error::Io {
        context: format!("unmounting the root filesystem of container {}", rec.name),
        source: e.into(),
    })?;
    Ok(true)
}

/// Detaches whatever is mounted at a container's `merged` directory (container removal).
pub(crate) fn release(container_dir: &Path) {
    let merged = ContainerPaths {
        dir: container_dir.to_path_buf(),
    }
    .merged();
    detach(&merged);
}

/// Detaches everything mounted at `merged` (a FUSE mount through fusermount when umount2 is refused).
fn detach(merged: &Path) {
    while is_mounted(merged) {
        if nix::mount::umount2(merged, MntFlags::MNT_DETACH).is_err()
            && !crate::rootless::fuse::fusermount_unmount(merged)
        {
            break;
        }
    }
}

/// A container's root mounted at its `merged` directory by storage.conf's `mount_program`
/// (fuse-overlayfs) for one run of the container; unmounted when dropped.
pub(crate) struct ProgramMount {
    merged: PathBuf,
}

impl Drop for ProgramMount {
    fn drop(&mut self) {
        detach(&self.merged);
    }
}

/// Mounts the container's root with the mount program when one is configured (or native overlay is
/// refused in the user namespace) and the root is not already mounted; `overlay_for` then finds it
/// mounted and the runtime uses `merged` as the root.
pub(crate) fn mount_with_program(
    engine: &Engine,
    cfg: &super::config::CreateConfig,
    paths: &ContainerPaths,
) -> Result<Option<ProgramMount>> {
    if cfg.rootfs.is_some() {
        return Ok(None);
    }
    let Some(program) = crate::rootless::fuse::mount_program(&engine.paths) else {
        return Ok(None);
    };
    let Some(overlay) = super::monitor::overlay_for(engine, cfg, paths)? else {
        return Ok(None);
    };
    let merged = paths.merged();
    crate::rootless::fuse::mount(&program, &overlay, &merged)?;
    let held = ProgramMount { merged };
    // Never propagate into other namespaces (the container's copy is made private by the runtime).
    let _ = nix::mount::mount(
        None::<&str>,
        &held.merged,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    );
    Ok(Some(held))
}

/// The mounted containers: (ID, mount point).
pub fn list(engine: &Engine) -> Result<Vec<(String, PathBuf)>> {
    let points = mount_points();
    Ok(store::read(&engine.store)?
        .containers
        .into_iter()
        .filter_map(|c| {
            let merged = ContainerPaths::new(engine.store.root(), &c.id).merged();
            points.contains(&merged).then_some((c.id, merged))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/var/lib/a\040b"), "/var/lib/a b");
        assert_eq!(unescape(r"/x\\y"), r"/x\\y");
        assert_eq!(unescape(r"/tail\04"), r"/tail\04");
    }
}
