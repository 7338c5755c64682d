//! The `cgroup` entry of `spec.mounts`, which means different mounts on different hosts.
//!
//! On a pure cgroup v2 host it is one `cgroup2` mount. On a v1 or hybrid host (these machines: v1
//! controllers under `/sys/fs/cgroup/*` plus `cgroup2` at `/sys/fs/cgroup/unified`) it becomes a tmpfs
//! with a fresh mount of every hierarchy the host has, the `cpu -> cpu,cpuacct` symlinks for
//! co-mounted controllers, and a read-only remount of the tmpfs when the entry is `ro`. Mounted after
//! the cgroup namespace is created, each hierarchy shows the container's own cgroup as its root. The
//! host layout is read once from `/proc/self/mountinfo` by the parent.

use std::ffi::CString;
use std::path::Path;

use nix::mount::MsFlags;
use oci_spec::runtime::Mount;

use super::mount::{parse_options, MountEntry};
use super::resolve::InRootPath;
use super::symlink::SymlinkOp;
use super::RootfsOp;
use crate::runtime::error::RuntimeError;
use crate::runtime::syscall::FileKind;

/// How the host mounts cgroups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CgroupLayout {
    /// `cgroup2` at `/sys/fs/cgroup`.
    Unified,
    /// v1 (or hybrid): one directory per hierarchy under `/sys/fs/cgroup`.
    Hierarchies(Vec<CgroupHierarchy>),
}

/// One mounted hierarchy of a v1/hybrid host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CgroupHierarchy {
    /// Directory name under `/sys/fs/cgroup` (`cpu,cpuacct`, `systemd`, `unified`).
    pub dir: String,
    /// `cgroup` or `cgroup2`.
    pub fstype: String,
    /// The options naming the hierarchy (`cpu,cpuacct`, `name=systemd`; empty for `cgroup2`).
    pub options: String,
}

/// Super-block options that do not identify a v1 hierarchy.
const NON_IDENTIFYING: &[&str] = &[
    "rw",
    "ro",
    "xattr",
    "clone_children",
    "noprefix",
    "cpuset_v2_mode",
    "favordynmods",
    "nsdelegate",
    "memory_localevents",
    "memory_recursiveprot",
    "memory_hugetlb_accounting",
    "pids_localevents",
];

impl CgroupLayout {
    /// The layout of the calling process's mount namespace.
    pub(crate) fn detect() -> Self {
        std::fs::read_to_string("/proc/self/mountinfo")
            .map(|s| CgroupLayout::parse(&s))
            .unwrap_or(CgroupLayout::Hierarchies(Vec::new()))
    }

    /// The layout described by a `mountinfo` text.
    pub(crate) fn parse(mountinfo: &str) -> Self {
        let mut hierarchies: Vec<CgroupHierarchy> = Vec::new();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let mountpoint = left.split(' ').nth(4).unwrap_or("");
            let mut right = right.split(' ');
            let fstype = right.next().unwrap_or("");
            let superopts = right.nth(1).unwrap_or("");
            if fstype != "cgroup" && fstype != "cgroup2" {
                continue;
            }
            if mountpoint == "/sys/fs/cgroup" && fstype == "cgroup2" {
                return CgroupLayout::Unified;
            }
            let Some(dir) = mountpoint.strip_prefix("/sys/fs/cgroup/") else {
                continue;
            };
            if dir.is_empty() || dir.contains('/') || hierarchies.iter().any(|h| h.dir == dir) {
                continue;
            }
            let options = if fstype == "cgroup2" {
                String::new()
            } else {
                superopts
                    .split(',')
                    .filter(|o| !NON_IDENTIFYING.contains(o) && (!o.contains('=') || o.starts_with("name=")))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            hierarchies.push(CgroupHierarchy {
                dir: dir.to_string(),
                fstype: fstype.to_string(),
                options,
            });
        }
        CgroupLayout::Hierarchies(hierarchies)
    }
}

fn cstring(s: &str) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|_| RuntimeError::invalid(format!("{s:?} contains a NUL byte")))
}

fn plain_mount(
    source: &str,
    fstype: &str,
    dest: InRootPath,
    flags: MsFlags,
    data: &str,
    propagation: &[MsFlags],
) -> Result<RootfsOp, RuntimeError> {
    Ok(RootfsOp::Mount(MountEntry {
        source: Some(cstring(source)?),
        fstype: Some(cstring(fstype)?),
        dest,
        flags,
        data: if data.is_empty() {
            None
        } else {
            Some(cstring(data)?)
        },
        kind: FileKind::Directory,
        remount: None,
        propagation: propagation.to_vec(),
        fallback_bind: None,
    }))
}

/// The operations that realise a `cgroup` (or `cgroup2`) entry of `spec.mounts` on this host.
pub(crate) fn plan(mount: &Mount, layout: &CgroupLayout) -> Result<Vec<RootfsOp>, RuntimeError> {
    let options = parse_options(mount.options().as_deref().unwrap_or_default())?;
    let flags = options.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC);
    let dest_path = mount.destination();
    let dest = InRootPath::new(dest_path)?;
    let hierarchies = match layout {
        CgroupLayout::Unified => {
            return Ok(vec![plain_mount(
                "cgroup2",
                "cgroup2",
                dest,
                flags,
                "",
                &options.propagation,
            )?]);
        }
        CgroupLayout::Hierarchies(h) => h,
    };
    let base = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mut ops = vec![plain_mount(
        "tmpfs",
        "tmpfs",
        dest.clone(),
        base,
        "mode=755",
        &options.propagation,
    )?];
    for h in hierarchies {
        let sub = InRootPath::new(&Path::new(dest.display()).join(&h.dir))?;
        ops.push(plain_mount(
            &h.fstype,
            &h.fstype,
            sub,
            flags,
            &h.options,
            &options.propagation,
        )?);
    }
    for h in hierarchies.iter().filter(|h| h.dir.contains(',')) {
        for controller in h.dir.split(',') {
            let link = InRootPath::new(&Path::new(dest.display()).join(controller))?;
            ops.push(RootfsOp::Symlink(SymlinkOp {
                link,
                target: cstring(&h.dir)?,
                replace: false,
            }));
        }
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        let remount = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | base;
        ops.push(RootfsOp::Remount { dest, flags: remount });
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd,release_agent=/x
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn hybrid_layout_lists_every_hierarchy() {
        let CgroupLayout::Hierarchies(h) = CgroupLayout::parse(HYBRID) else {
            panic!()
        };
        let got: Vec<(&str, &str, &str)> = h
            .iter()
            .map(|h| (h.dir.as_str(), h.fstype.as_str(), h.options.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("cpu,cpuacct", "cgroup", "cpu,cpuacct"),
                ("memory", "cgroup", "memory"),
                ("systemd", "cgroup", "name=systemd"),
                ("unified", "cgroup2", ""),
            ]
        );
    }

    #[test]
    fn unified_layout_is_recognised() {
        let text = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(CgroupLayout::parse(text), CgroupLayout::Unified);
    }

    #[test]
    fn hybrid_plan_mounts_tmpfs_hierarchies_symlinks_then_remounts_read_only() {
        let mount = oci_spec::runtime::MountBuilder::default()
            .destination("/sys/fs/cgroup")
            .typ("cgroup")
            .source("cgroup")
            .options(vec![
                "nosuid".into(),
                "noexec".into(),
                "nodev".into(),
                "relatime".into(),
                "ro".into(),
            ])
            .build()
            .unwrap();
        let ops = plan(&mount, &CgroupLayout::parse(HYBRID)).unwrap();
        let described: Vec<String> = ops.iter().map(|op| op.describe()).collect();
        assert_eq!(
            described,
            vec![
                "mounting tmpfs at /sys/fs/cgroup",
                "mounting cgroup at /sys/fs/cgroup/cpu,cpuacct",
                "mounting cgroup at /sys/fs/cgroup/memory",
                "mounting cgroup at /sys/fs/cgroup/systemd",
                "mounting cgroup2 at /sys/fs/cgroup/unified",
                "creating symlink /sys/fs/cgroup/cpu -> cpu,cpuacct",
                "creating symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct",
                "remounting /sys/fs/cgroup",
            ]
        );
        let RootfsOp::Mount(memory) = &ops[2] else {
            panic!()
        };
        assert!(memory.flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(memory.data.as_deref().unwrap().to_str().unwrap(), "memory");
    }
}
