//! Overlay through a mount program (fuse-overlayfs), as Podman's `mount_program`.
//!
//! Native overlay (with `userxattr` when rootless) is the default. When storage.conf names a
//! `mount_program`, or when rootless and a one-time probe finds that the kernel refuses overlay in the
//! user namespace (the verdict is cached in the run root), the monitor mounts the container's root with
//! that program at its `merged` directory before spawning; the runtime then uses `merged` as a plain
//! root, and the monitor unmounts it when the container has exited (`rm` does too, were the monitor
//! killed).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::mount::{MntFlags, MsFlags};

use crate::config::storage::StoragePaths;
use crate::error::{Error, Result};
use crate::runtime::OverlayMount;

/// The fallback used when native overlay is refused and none is configured.
const FUSE_OVERLAYFS: &str = "/usr/bin/fuse-overlayfs";
/// The probe's cached verdict, in the run root.
const VERDICT_FILE: &str = "native-overlay";

/// The program that mounts containers' roots, if any: the configured one, else fuse-overlayfs when
/// rootless and native overlay cannot be mounted in the user namespace.
pub fn mount_program(paths: &StoragePaths) -> Option<PathBuf> {
    if let Some(p) = &paths.mount_program {
        return Some(p.clone());
    }
    if !super::is_rootless() || native_overlay_works(&paths.run_root) {
        return None;
    }
    Some(PathBuf::from(FUSE_OVERLAYFS)).filter(|p| p.exists())
}

/// Whether native overlay mounts here (probed once per run root; the verdict is cached).
fn native_overlay_works(run_root: &Path) -> bool {
    let verdict = run_root.join(VERDICT_FILE);
    if let Ok(text) = std::fs::read_to_string(&verdict) {
        return text.trim() != "refused";
    }
    let ok = probe(run_root);
    let _ = std::fs::create_dir_all(run_root);
    let tmp = run_root.join(format!("{VERDICT_FILE}.{}", std::process::id()));
    if std::fs::write(&tmp, if ok { "ok\n" } else { "refused\n" }).is_ok() {
        let _ = std::fs::rename(&tmp, &verdict);
    }
    ok
}

/// Mounts a tiny overlay in a scratch directory under the run root, and unmounts it.
fn probe(run_root: &Path) -> bool {
    let dir = run_root.join(format!("overlay-probe.{}", std::process::id()));
    let sub = |s: &str| dir.join(s);
    let made = ["lower", "upper", "work", "merged"]
        .iter()
        .all(|s| std::fs::create_dir_all(sub(s)).is_ok());
    let mut ok = false;
    if made {
        let mut data = format!(
            "lowerdir={},upperdir={},workdir={}",
            sub("lower").display(),
            sub("upper").display(),
            sub("work").display()
        );
        if super::in_user_namespace() {
            data.push_str(",userxattr");
        }
        ok = nix::mount::mount(
            Some("overlay"),
            &sub("merged"),
            Some("overlay"),
            MsFlags::MS_NODEV,
            Some(data.as_str()),
        )
        .is_ok();
        if ok {
            let _ = nix::mount::umount2(&sub("merged"), MntFlags::MNT_DETACH);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    ok
}

/// Mounts `overlay` at `merged` with `program` (`PROGRAM -o lowerdir=...,upperdir=...,workdir=...
/// MERGED`); the program daemonizes and serves the mount until it is unmounted.
pub fn mount(program: &Path, overlay: &OverlayMount, merged: &Path) -> Result<()> {
    let lower: Vec<String> = overlay.lower.iter().map(|p| p.display().to_string()).collect();
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        overlay.upper.display(),
        overlay.work.display()
    );
    let mut cmd = Command::new(program);
    cmd.arg("-o")
        .arg(&data)
        .arg(merged)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: close_range(2) is async-signal-safe. The daemon must not hold the caller's descriptors (the
    // monitor's report pipe, its lock, descriptors meant for the container): all become close-on-exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC);
            Ok(())
        });
    }
    let out = cmd.output().map_err(|e| Error::Io {
        context: format!("running the mount program {}", program.display()),
        source: e,
    })?;
    if !out.status.success() {
        return Err(Error::Runtime(format!(
            "mount program {} failed ({}): {}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Unmounts a FUSE mount through the setuid helper, where umount2(2) was refused.
pub fn fusermount_unmount(merged: &Path) -> bool {
    ["fusermount3", "fusermount"].iter().any(|helper| {
        Command::new(helper)
            .args(["-u", "-z"])
            .arg(merged)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}
