//! Podman's first-mount behaviour of a volume: the content a container's image has at the mount point is
//! copied into the empty volume ("copy-up"), and the volume takes the owner and mode of that directory.
//!
//! The source is a directory of the container's root filesystem as the container sees it (the mounted
//! overlay, layers and upper directory merged), resolved inside that root by the caller; nothing under
//! it is ever followed: symlinks are copied as symlinks, and each file is opened `O_NOFOLLOW`. Modes
//! (setuid included), owners, access and modification times, hard links within the tree, symlinks,
//! device nodes and FIFOs are preserved; sockets are skipped; extended attributes are not copied.

use super::store;
use crate::engine::Engine;
use crate::error::{IoContext, Result};
use nix::sys::stat::{mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use std::collections::HashMap;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{symlink, DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Copies the content of directory `from` into the existing directory `into`, and gives `into` the
/// mode, owner and times of `from`. `from` itself must not be a symlink.
pub fn copy_up(from: &Path, into: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from).ctx(|| format!("copying up from {}", from.display()))?;
    if !meta.is_dir() {
        return Err(io::Error::from(io::ErrorKind::NotADirectory))
            .ctx(|| format!("copying up from {}", from.display()));
    }
    let mut links = HashMap::new();
    copy_dir_content(from, into, &mut links)?;
    apply_attributes(into, &meta)
}

/// The first mount of volume `name` over the container directory `source` (a host path inside the
/// container's mounted root): when the volume still needs its copy-up (and has no `nocopy` option),
/// `source` is a non-empty directory and the volume is empty, marks the copy-up done and copies.
/// Returns whether it copied. As in Podman, the record is updated before copying, so a failed copy is
/// not retried over a half-filled volume.
pub fn copy_up_if_needed(engine: &Engine, name: &str, source: &Path) -> Result<bool> {
    let db = store::read(&engine.store)?;
    let Some(rec) = db.volumes.get(name) else {
        return Err(super::not_known(name));
    };
    if !rec.needs_copy_up || rec.no_copy() || !non_empty_dir(source)? {
        return Ok(false);
    }
    let data = store::data_path(&engine.store, name);
    if non_empty_dir(&data)? {
        // Changed outside selkie: never copy over it (Podman's fix for CVE-2020-1726).
        return Ok(false);
    }
    let claimed = store::update(&engine.store, |_, db| {
        Ok(match db.volumes.get_mut(name) {
            Some(v) if v.needs_copy_up => {
                v.needs_copy_up = false;
                true
            }
            _ => false,
        })
    })?;
    if claimed {
        copy_up(source, &data)?;
    }
    Ok(claimed)
}

/// The first mount of volume `name` (unless created with `o=uid=,gid=`): the volume's `_data` is given
/// to the container's user (`host_owner`, already mapped to host IDs), then, when the container has a
/// directory at the mount point (`target`, a host path inside its mounted root), that directory's owner
/// and mode, as Podman's `fixVolumePermissions`. Returns whether it changed anything.
pub fn chown_if_needed(
    engine: &Engine,
    name: &str,
    host_owner: (u32, u32),
    target: Option<&Path>,
) -> Result<bool> {
    let claimed = store::update(&engine.store, |_, db| {
        Ok(match db.volumes.get_mut(name) {
            Some(v) if v.needs_chown => {
                v.needs_chown = false;
                true
            }
            Some(_) => false,
            None => return Err(super::not_known(name)),
        })
    })?;
    if !claimed {
        return Ok(false);
    }
    let data = store::data_path(&engine.store, name);
    std::os::unix::fs::lchown(&data, Some(host_owner.0), Some(host_owner.1))
        .ctx(|| format!("chowning volume {name}"))?;
    if let Some(target) = target {
        match fs::symlink_metadata(target) {
            Ok(meta) => {
                std::os::unix::fs::lchown(&data, Some(meta.uid()), Some(meta.gid()))
                    .ctx(|| format!("chowning volume {name}"))?;
                fs::set_permissions(&data, fs::Permissions::from_mode(meta.mode() & 0o7777))
                    .ctx(|| format!("setting the mode of volume {name}"))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx(|| format!("reading {}", target.display())),
        }
    }
    Ok(true)
}

/// Whether `path` is a directory (not a symlink to one) with at least one entry.
fn non_empty_dir(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut entries = fs::read_dir(path).ctx(|| format!("reading {}", path.display()))?;
            Ok(entries.next().is_some())
        }
        Ok(_) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).ctx(|| format!("reading {}", path.display())),
    }
}

/// Files already copied, by (device, inode), so a second name becomes a hard link to the first copy.
type Links = HashMap<(u64, u64), PathBuf>;

fn copy_dir_content(from: &Path, into: &Path, links: &mut Links) -> Result<()> {
    let entries = fs::read_dir(from).ctx(|| format!("reading {}", from.display()))?;
    for entry in entries {
        let entry = entry.ctx(|| format!("reading {}", from.display()))?;
        let src = entry.path();
        let dst = into.join(entry.file_name());
        let meta = fs::symlink_metadata(&src).ctx(|| format!("reading {}", src.display()))?;
        copy_entry(&src, &dst, &meta, links)?;
    }
    Ok(())
}

fn copy_entry(src: &Path, dst: &Path, meta: &Metadata, links: &mut Links) -> Result<()> {
    let ctx = || format!("copying {} to {}", src.display(), dst.display());
    let kind = meta.file_type();
    if kind.is_dir() {
        fs::DirBuilder::new().mode(0o700).create(dst).ctx(ctx)?;
        copy_dir_content(src, dst, links)?;
    } else if kind.is_symlink() {
        symlink(fs::read_link(src).ctx(ctx)?, dst).ctx(ctx)?;
    } else if kind.is_file() {
        let key = (meta.dev(), meta.ino());
        if meta.nlink() > 1 {
            if let Some(first) = links.get(&key) {
                return fs::hard_link(first, dst).ctx(ctx);
            }
        }
        copy_file(src, dst).ctx(ctx)?;
        if meta.nlink() > 1 {
            links.insert(key, dst.to_path_buf());
        }
    } else if kind.is_socket() {
        return Ok(());
    } else {
        let sflag = if kind.is_fifo() {
            SFlag::S_IFIFO
        } else if kind.is_char_device() {
            SFlag::S_IFCHR
        } else {
            SFlag::S_IFBLK
        };
        mknod(dst, sflag, Mode::from_bits_truncate(0o600), meta.rdev())
            .map_err(io::Error::from)
            .ctx(ctx)?;
    }
    apply_attributes(dst, meta)
}

fn copy_file(src: &Path, dst: &Path) -> io::Result<()> {
    let mut input = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(src)?;
    let mut output: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dst)?;
    io::copy(&mut input, &mut output)?;
    Ok(())
}

/// Owner, then mode (a chown clears setuid bits), then times; a symlink gets owner and times only.
fn apply_attributes(path: &Path, meta: &Metadata) -> Result<()> {
    let ctx = || format!("setting the attributes of {}", path.display());
    std::os::unix::fs::lchown(path, Some(meta.uid()), Some(meta.gid())).ctx(ctx)?;
    if !meta.file_type().is_symlink() {
        fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777)).ctx(ctx)?;
    }
    let atime = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let mtime = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &atime,
        &mtime,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
    .ctx(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn copies_a_tree_with_modes_owners_links_and_times() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let dst = tmp.path().join("dst");
        fs::create_dir_all(src.join("sub/deep")).unwrap();
        fs::create_dir(&dst).unwrap();
        fs::write(src.join("file"), b"content").unwrap();
        fs::set_permissions(src.join("file"), fs::Permissions::from_mode(0o4751)).unwrap();
        fs::write(src.join("sub/deep/x"), b"x").unwrap();
        fs::hard_link(src.join("file"), src.join("sub/link")).unwrap();
        symlink("../file", src.join("sub/sym")).unwrap();
        symlink("/etc/passwd", src.join("abs")).unwrap();
        nix::unistd::mkfifo(&src.join("fifo"), Mode::from_bits_truncate(0o640)).unwrap();
        fs::set_permissions(src.join("sub"), fs::Permissions::from_mode(0o710)).unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o750)).unwrap();
        let old = TimeSpec::new(1_000_000, 5);
        utimensat(
            nix::fcntl::AT_FDCWD,
            &src.join("sub/deep/x"),
            &old,
            &old,
            UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
        let (uid, gid) = (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw());
        if uid == 0 {
            std::os::unix::fs::lchown(src.join("sub/deep/x"), Some(1234), Some(5678)).unwrap();
            std::os::unix::fs::lchown(src.join("abs"), Some(42), Some(43)).unwrap();
        }

        copy_up(&src, &dst).unwrap();

        assert_eq!(fs::read(dst.join("file")).unwrap(), b"content");
        assert_eq!(mode(&dst.join("file")), 0o4751, "setuid survives the chown");
        assert_eq!(
            mode(&dst),
            0o750,
            "the volume root takes the source directory's mode"
        );
        assert_eq!(mode(&dst.join("sub")), 0o710);
        let file = fs::metadata(dst.join("file")).unwrap();
        let link = fs::metadata(dst.join("sub/link")).unwrap();
        assert_eq!(
            (file.ino(), file.nlink()),
            (link.ino(), 2),
            "hard links stay linked"
        );
        assert_eq!(fs::read_link(dst.join("sub/sym")).unwrap(), Path::new("../file"));
        assert_eq!(fs::read_link(dst.join("abs")).unwrap(), Path::new("/etc/passwd"));
        assert!(fs::symlink_metadata(dst.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(mode(&dst.join("fifo")), 0o640);
        let x = fs::metadata(dst.join("sub/deep/x")).unwrap();
        assert_eq!((x.mtime(), x.mtime_nsec()), (1_000_000, 5));
        if uid == 0 {
            assert_eq!((x.uid(), x.gid()), (1234, 5678));
            let abs = fs::symlink_metadata(dst.join("abs")).unwrap();
            assert_eq!(
                (abs.uid(), abs.gid()),
                (42, 43),
                "a symlink's own owner is copied"
            );
        } else {
            assert_eq!((x.uid(), x.gid()), (uid, gid));
        }
    }

    #[test]
    fn refuses_a_source_that_is_not_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        symlink("/etc", tmp.path().join("link")).unwrap();
        let err = copy_up(&tmp.path().join("link"), tmp.path()).unwrap_err();
        assert!(err.to_string().contains("copying up from"), "{err}");
    }
}
