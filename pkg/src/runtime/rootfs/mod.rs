//! The container's filesystem view, built inside its new mount namespace.
//!
//! [`RootfsPlan::new`] (parent, allocation allowed) turns the spec into an ordered list of
//! [`RootfsOp`]s with every path and string prepared. [`RootfsPlan::prepare`] (child, allocation-free)
//! then runs, in this order, the sequence runc uses:
//!
//! 1. `/` recursively private (or slave when `rootfsPropagation` asks for it) — before any other mount,
//!    so nothing the container mounts propagates to the host;
//! 2. the optional overlay at `root.path`, so the merged root exists only in this namespace;
//! 3. `root.path` bound onto itself (a mount point for `pivot_root`), then opened as the root
//!    descriptor every later path is resolved against (`resolve.rs`);
//! 4. every `spec.mounts` entry in order (`mount.rs`, `cgroup.rs`);
//! 5. unless `/dev` is a bind mount: device nodes (`device.rs`), `/dev` symlinks (`symlink.rs`), and
//!    `/dev/console` bound to the terminal when there is one;
//! 6. the working directory, created if missing;
//! 7. `pivot_root(".", ".")` then a lazy unmount of the old root.
//!
//! After the caller has written sysctls, [`RootfsPlan::finalize`] makes `readonlyPaths` read-only, masks
//! `maskedPaths` (`/dev/null` over files, an empty read-only tmpfs over directories) and remounts `/`
//! read-only when `root.readonly` is set. Nothing here ever mounts in the caller's namespace: the child
//! runs it after `clone(CLONE_NEWNS)`.

pub(crate) mod cgroup;
pub(crate) mod device;
pub(crate) mod mount;
pub(crate) mod resolve;
pub(crate) mod symlink;

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use oci_spec::runtime::Spec;

use self::cgroup::CgroupLayout;
use self::device::DeviceNode;
use self::mount::{path_cstring, MountEntry};
use self::resolve::InRootPath;
use self::symlink::SymlinkOp;
use super::error::RuntimeError;
use super::step::{Failure, Step};
use super::syscall::{FileKind, MountTarget, Syscall};
use super::OverlayMount;

/// One operation inside the root, before `pivot_root`.
#[derive(Clone, Debug)]
pub(crate) enum RootfsOp {
    Mount(MountEntry),
    /// Bind-remount an earlier mount with new flags (read-only cgroup tmpfs, read-only `/dev`).
    Remount {
        dest: InRootPath,
        flags: MsFlags,
    },
    Device(DeviceNode),
    Symlink(SymlinkOp),
    /// Create a directory (and its parents).
    Mkdir(InRootPath),
}

impl RootfsOp {
    /// What the operation does, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            RootfsOp::Mount(m) => m.describe(),
            RootfsOp::Remount { dest, .. } => format!("remounting {}", dest.display()),
            RootfsOp::Device(d) => format!("creating device {}", d.path.display()),
            RootfsOp::Symlink(s) => {
                format!(
                    "creating symlink {} -> {}",
                    s.link.display(),
                    s.target.to_string_lossy()
                )
            }
            RootfsOp::Mkdir(p) => format!("creating directory {}", p.display()),
        }
    }

    fn path(&self) -> &str {
        match self {
            RootfsOp::Mount(m) => m.dest.display(),
            RootfsOp::Remount { dest, .. } => dest.display(),
            RootfsOp::Device(d) => d.path.display(),
            RootfsOp::Symlink(s) => s.link.display(),
            RootfsOp::Mkdir(p) => p.display(),
        }
    }

    fn apply(&self, sys: &dyn Syscall, root: RawFd, index: usize) -> Result<(), Failure> {
        match self {
            RootfsOp::Mount(m) => m.apply(sys, root, index),
            RootfsOp::Remount { dest, flags } => {
                let fd = resolve::open(sys, root, dest).map_err(Failure::at_index(Step::Remount, index))?;
                let result = mount::remount_bind(sys, MountTarget::Fd(fd), *flags);
                sys.close(fd);
                result.map_err(Failure::at_index(Step::Remount, index))
            }
            RootfsOp::Device(d) => d.create(sys, root, index),
            RootfsOp::Symlink(s) => s
                .create(sys, root)
                .map_err(Failure::at_index(Step::Symlink, index)),
            RootfsOp::Mkdir(p) => {
                let fd = resolve::ensure_dir(sys, root, p).map_err(Failure::at_index(Step::Mkdir, index))?;
                sys.close(fd);
                Ok(())
            }
        }
    }
}

/// Facts about the host the plan depends on, read once per process.
#[derive(Clone, Debug)]
pub(crate) struct HostInfo {
    pub cgroups: CgroupLayout,
    pub has_kcore: bool,
}

impl HostInfo {
    /// The cached facts of this host.
    pub(crate) fn get() -> &'static HostInfo {
        static HOST: OnceLock<HostInfo> = OnceLock::new();
        HOST.get_or_init(|| HostInfo {
            cgroups: CgroupLayout::detect(),
            has_kcore: Path::new("/proc/kcore").exists(),
        })
    }
}

/// Everything the child does to build the container's filesystem view, prepared.
#[derive(Debug)]
pub(crate) struct RootfsPlan {
    root: CString,
    root_display: String,
    /// Propagation set on `/` before anything else.
    propagation: MsFlags,
    /// Overlay mount data, when the root is an overlay.
    overlay: Option<CString>,
    ops: Vec<RootfsOp>,
    /// Propagation set on the new `/` after `pivot_root` (`rootfsPropagation` shared/unbindable).
    propagation_after: Option<MsFlags>,
    readonly_paths: Vec<CString>,
    masked_paths: Vec<CString>,
    readonly_root: bool,
}

fn absolute_cstrings(paths: Option<&Vec<String>>, what: &str) -> Result<Vec<CString>, RuntimeError> {
    paths
        .map(|v| v.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            if !p.starts_with('/') {
                return Err(RuntimeError::invalid(format!(
                    "{what} entry {p:?} is not absolute"
                )));
            }
            path_cstring(Path::new(p))
        })
        .collect()
}

fn overlay_data(overlay: &OverlayMount) -> Result<CString, RuntimeError> {
    if overlay.lower.is_empty() {
        return Err(RuntimeError::invalid("overlay root without lower layers"));
    }
    let check = |p: &PathBuf| -> Result<String, RuntimeError> {
        let s = p
            .to_str()
            .ok_or_else(|| RuntimeError::invalid(format!("{} is not UTF-8", p.display())))?;
        if !s.starts_with('/') || s.contains([',', ':', '\0']) {
            return Err(RuntimeError::invalid(format!(
                "overlay path {s:?} must be absolute and free of ',' and ':'"
            )));
        }
        Ok(s.to_string())
    };
    let lower = overlay
        .lower
        .iter()
        .map(check)
        .collect::<Result<Vec<_>, _>>()?
        .join(":");
    let mut data = format!(
        "lowerdir={lower},upperdir={},workdir={}",
        check(&overlay.upper)?,
        check(&overlay.work)?
    );
    // In a user namespace (rootless) overlay keeps its whiteouts and opaque marks in `user.` xattrs.
    if crate::rootless::in_user_namespace() {
        data.push_str(",userxattr");
    }
    // mount(2) copies at most one page of options.
    if data.len() >= 4096 {
        return Err(RuntimeError::Unsupported(format!(
            "overlay options of {} bytes (more than a page); use shorter layer paths",
            data.len()
        )));
    }
    CString::new(data).map_err(|_| RuntimeError::invalid("overlay paths contain a NUL byte"))
}

impl RootfsPlan {
    /// Prepare the filesystem setup of `spec`. `console` is the host path of the terminal to bind at
    /// `/dev/console`; `cwd` is created inside the root when missing.
    pub(crate) fn new(
        spec: &Spec,
        overlay: Option<&OverlayMount>,
        console: Option<&Path>,
        cwd: &Path,
        host: &HostInfo,
    ) -> Result<Self, RuntimeError> {
        let root_path = spec.root().as_ref().map(|r| r.path().clone()).unwrap_or_default();
        if !root_path.is_absolute() {
            return Err(RuntimeError::invalid(format!(
                "root.path {:?} must be an absolute path",
                root_path.display()
            )));
        }
        let linux = spec.linux().as_ref();
        let (propagation, propagation_after) = match linux
            .and_then(|l| l.rootfs_propagation().as_deref())
            .unwrap_or("")
        {
            "" | "private" | "rprivate" => (MsFlags::MS_REC | MsFlags::MS_PRIVATE, None),
            "slave" | "rslave" => (MsFlags::MS_REC | MsFlags::MS_SLAVE, None),
            other @ ("shared" | "rshared" | "unbindable" | "runbindable") => (
                MsFlags::MS_REC | MsFlags::MS_SLAVE,
                mount::propagation_flags(other),
            ),
            other => {
                return Err(RuntimeError::invalid(format!(
                    "unknown rootfsPropagation {other:?}"
                )))
            }
        };

        let mut ops = Vec::new();
        let mut dev_remount = None;
        let mounts = spec.mounts().as_deref().unwrap_or_default();
        for m in mounts {
            let typ = m.typ().as_deref().unwrap_or("");
            if typ == "cgroup" || typ == "cgroup2" {
                ops.extend(cgroup::plan(m, &host.cgroups)?);
                continue;
            }
            let mut entry = MountEntry::from_spec(m)?;
            if entry.dest.display() == "/dev"
                && entry.fstype.is_some()
                && entry.flags.contains(MsFlags::MS_RDONLY)
            {
                // Devices are created in /dev after it is mounted: mount it writable, remount at the end.
                entry.flags.remove(MsFlags::MS_RDONLY);
                let keep = entry.flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
                let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | keep;
                dev_remount = Some(RootfsOp::Remount {
                    dest: entry.dest.clone(),
                    flags,
                });
            }
            ops.push(RootfsOp::Mount(entry));
        }

        let dev_is_bound = mounts.iter().any(|m| {
            let bind = m.typ().as_deref() == Some("bind")
                || m.options().iter().flatten().any(|o| o == "bind" || o == "rbind");
            bind && InRootPath::new(m.destination()).is_ok_and(|d| d.display() == "/dev")
        });
        if !dev_is_bound {
            let devices = linux.and_then(|l| l.devices().as_deref()).unwrap_or_default();
            ops.extend(device::plan(devices)?.into_iter().map(RootfsOp::Device));
            ops.extend(
                symlink::dev_symlinks(host.has_kcore)?
                    .into_iter()
                    .map(RootfsOp::Symlink),
            );
        }
        if let Some(console) = console {
            ops.push(RootfsOp::Mount(MountEntry {
                source: Some(path_cstring(console)?),
                fstype: None,
                dest: InRootPath::new(Path::new("/dev/console"))?,
                flags: MsFlags::MS_BIND,
                data: None,
                kind: FileKind::NonDirectory,
                remount: None,
                propagation: Vec::new(),
                fallback_bind: None,
            }));
        }
        if let Ok(cwd) = InRootPath::new(cwd) {
            ops.push(RootfsOp::Mkdir(cwd));
        }
        ops.extend(dev_remount);

        Ok(RootfsPlan {
            root: path_cstring(&root_path)?,
            root_display: root_path.display().to_string(),
            propagation,
            overlay: overlay.map(overlay_data).transpose()?,
            ops,
            propagation_after,
            readonly_paths: absolute_cstrings(
                linux.and_then(|l| l.readonly_paths().as_ref()),
                "readonlyPaths",
            )?,
            masked_paths: absolute_cstrings(linux.and_then(|l| l.masked_paths().as_ref()), "maskedPaths")?,
            readonly_root: spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false),
        })
    }

    /// Steps 1–7 of the module docs: everything up to and including `pivot_root`.
    pub(crate) fn prepare(&self, sys: &dyn Syscall) -> Result<(), Failure> {
        let root_target = MountTarget::Path(&self.root);
        sys.mount(None, MountTarget::Path(c"/"), None, self.propagation, None)
            .map_err(Failure::at(Step::RootPropagation))?;
        if let Some(data) = &self.overlay {
            sys.mount(
                Some(c"overlay"),
                root_target,
                Some(c"overlay"),
                MsFlags::empty(),
                Some(data),
            )
            .map_err(Failure::at(Step::Overlay))?;
        }
        sys.mount(
            Some(&self.root),
            root_target,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )
        .map_err(Failure::at(Step::BindRoot))?;
        let root = sys
            .open(&self.root, OFlag::O_PATH | OFlag::O_DIRECTORY)
            .map_err(Failure::at(Step::OpenRoot))?;
        let mut result = Ok(());
        for (index, op) in self.ops.iter().enumerate() {
            result = op.apply(sys, root, index);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = pivot(sys, root);
        }
        sys.close(root);
        result?;
        if let Some(flags) = self.propagation_after {
            sys.mount(None, MountTarget::Path(c"/"), None, flags, None)
                .map_err(Failure::at_index(Step::RootPropagation, 1))?;
        }
        Ok(())
    }

    /// Read-only paths, masked paths and the read-only root, after `pivot_root` (paths are the container's).
    pub(crate) fn finalize(&self, sys: &dyn Syscall) -> Result<(), Failure> {
        for (index, path) in self.readonly_paths.iter().enumerate() {
            let fail = Failure::at_index(Step::ReadonlyPath, index);
            let target = MountTarget::Path(path);
            match sys.mount(Some(path), target, None, MsFlags::MS_BIND | MsFlags::MS_REC, None) {
                Err(Errno::ENOENT) => continue,
                other => other.map_err(&fail)?,
            }
            let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount::remount_bind(sys, target, flags).map_err(&fail)?;
        }
        for (index, path) in self.masked_paths.iter().enumerate() {
            let fail = Failure::at_index(Step::MaskedPath, index);
            let target = MountTarget::Path(path);
            let result = match sys.file_kind(path) {
                Err(Errno::ENOENT) => continue,
                Err(e) => Err(e),
                Ok(FileKind::Directory) => {
                    sys.mount(Some(c"tmpfs"), target, Some(c"tmpfs"), MsFlags::MS_RDONLY, None)
                }
                Ok(FileKind::NonDirectory) => {
                    sys.mount(Some(c"/dev/null"), target, None, MsFlags::MS_BIND, None)
                }
            };
            match result {
                Err(Errno::ENOENT) => continue,
                other => other.map_err(&fail)?,
            }
        }
        if self.readonly_root {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount::remount_bind(sys, MountTarget::Path(c"/"), flags)
                .map_err(Failure::at(Step::ReadonlyRoot))?;
        }
        Ok(())
    }

    /// The sentence for a failure reported by `prepare` or `finalize`, if it is one of theirs.
    pub(crate) fn describe(&self, failure: &Failure) -> Option<String> {
        let index = failure.index as usize;
        let op = self.ops.get(index);
        let path_list = |list: &[CString]| {
            list.get(index)
                .map_or_else(String::new, |p| p.to_string_lossy().into())
        };
        Some(match failure.step {
            Step::RootPropagation if failure.index == 0 => "making the mount namespace private".to_string(),
            Step::RootPropagation => "setting the propagation of the container root".to_string(),
            Step::Overlay => format!("mounting the overlay root at {}", self.root_display),
            Step::BindRoot => format!("bind-mounting the root {} onto itself", self.root_display),
            Step::OpenRoot => format!("opening the root {}", self.root_display),
            Step::MountPoint => format!("creating mount point {}", op?.path()),
            Step::Mount | Step::Device | Step::Symlink | Step::Mkdir => op?.describe(),
            Step::Remount => format!("remounting {} with its options", op?.path()),
            Step::Propagation => format!("setting the propagation of {}", op?.path()),
            Step::DeviceBind => format!("bind-mounting the host's {} (mknod refused)", op?.path()),
            Step::PivotRoot => format!("pivot_root into {}", self.root_display),
            Step::ReadonlyPath => format!("making {} read-only", path_list(&self.readonly_paths)),
            Step::MaskedPath => format!("masking {}", path_list(&self.masked_paths)),
            Step::ReadonlyRoot => "remounting the root read-only".to_string(),
            _ => return None,
        })
    }
}

/// `pivot_root(".", ".")` from inside the new root, then detach the old root stacked on it.
fn pivot(sys: &dyn Syscall, root: RawFd) -> Result<(), Failure> {
    let dot: &CStr = c".";
    sys.fchdir(root).map_err(Failure::at_index(Step::PivotRoot, 0))?;
    sys.pivot_root(dot, dot)
        .map_err(Failure::at_index(Step::PivotRoot, 1))?;
    // The old root must not propagate the unmount anywhere.
    sys.mount(
        None,
        MountTarget::Path(dot),
        None,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None,
    )
    .map_err(Failure::at_index(Step::PivotRoot, 2))?;
    sys.umount2(dot, MntFlags::MNT_DETACH)
        .map_err(Failure::at_index(Step::PivotRoot, 3))?;
    sys.chdir(c"/").map_err(Failure::at_index(Step::PivotRoot, 4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;
    use oci_spec::runtime::{LinuxBuilder, MountBuilder, RootBuilder};

    fn host() -> HostInfo {
        HostInfo {
            cgroups: CgroupLayout::Unified,
            has_kcore: true,
        }
    }

    fn spec() -> Spec {
        let mut spec = Spec::default();
        spec.set_root(Some(
            RootBuilder::default().path("/r").readonly(true).build().unwrap(),
        ));
        spec
    }

    #[test]
    fn default_spec_is_set_up_in_runc_order() {
        let plan = RootfsPlan::new(&spec(), None, None, Path::new("/work"), &host()).unwrap();
        let sys = RecordingSyscall::new();
        sys.set_missing("/r/work");
        plan.prepare(&sys).unwrap();
        plan.finalize(&sys).unwrap();
        let calls = sys.calls();
        assert_eq!(calls[0], "mount - -> / type=- flags=REC|PRIVATE data=-");
        assert_eq!(calls[1], "mount /r -> /r type=- flags=BIND|REC data=-");
        assert_eq!(calls[2], "open /r");
        let order = [
            "mount proc -> /r/proc type=proc",
            "mount tmpfs -> /r/dev type=tmpfs flags=NOSUID|STRICTATIME data=mode=755,size=65536k",
            "mount devpts -> /r/dev/pts type=devpts flags=NOSUID|NOEXEC data=newinstance,ptmxmode=0666,mode=0620,gid=5",
            "mount shm -> /r/dev/shm type=tmpfs flags=NOSUID|NODEV|NOEXEC data=mode=1777,size=65536k",
            "mount mqueue -> /r/dev/mqueue type=mqueue",
            "mount sysfs -> /r/sys type=sysfs flags=RDONLY|NOSUID|NODEV|NOEXEC",
            "mount cgroup2 -> /r/sys/fs/cgroup type=cgroup2 flags=RDONLY|NOSUID|NODEV|NOEXEC|RELATIME",
            "mknod /r/dev/null 20666 1:3",
            "mknod /r/dev/tty 20666 5:0",
            "symlink /r/dev/fd -> /proc/self/fd",
            "symlink /r/dev/core -> /proc/kcore",
            "symlink /r/dev/ptmx -> pts/ptmx",
            "mkdir /r/work 755",
            "fchdir /r",
            "pivot_root . .",
            "mount - -> . type=- flags=REC|SLAVE",
            "umount2 . MntFlags(MNT_DETACH)",
            "chdir /",
            "mount /proc/bus -> /proc/bus type=- flags=BIND|REC",
            "mount - -> /proc/bus type=- flags=RDONLY|REMOUNT|BIND",
            "stat /proc/acpi",
            "mount tmpfs -> /proc/acpi type=tmpfs flags=RDONLY",
            "mount - -> / type=- flags=RDONLY|REMOUNT|BIND",
        ];
        sys.assert_in_order(&order);
        assert_eq!(
            calls.last().unwrap(),
            "mount - -> / type=- flags=RDONLY|REMOUNT|BIND data=-"
        );
        assert!(sys.open_paths().is_empty(), "leaked {:?}", sys.open_paths());
    }

    #[test]
    fn nothing_is_mounted_before_the_namespace_is_private() {
        let overlay = OverlayMount {
            lower: vec!["/l1".into(), "/l2".into()],
            upper: "/u".into(),
            work: "/w".into(),
        };
        let plan = RootfsPlan::new(&spec(), Some(&overlay), None, Path::new("/"), &host()).unwrap();
        let sys = RecordingSyscall::new();
        plan.prepare(&sys).unwrap();
        let calls = sys.calls();
        assert_eq!(calls[0], "mount - -> / type=- flags=REC|PRIVATE data=-");
        assert_eq!(
            calls[1],
            "mount overlay -> /r type=overlay flags=0 data=lowerdir=/l1:/l2,upperdir=/u,workdir=/w"
        );
        assert_eq!(calls[2], "mount /r -> /r type=- flags=BIND|REC data=-");
    }

    #[test]
    fn masked_paths_use_dev_null_for_files_and_skip_missing_ones() {
        let mut spec = spec();
        let linux = LinuxBuilder::default()
            .masked_paths(vec!["/proc/kcore".to_string(), "/proc/missing".to_string()])
            .readonly_paths(vec![])
            .build()
            .unwrap();
        spec.set_linux(Some(linux));
        let plan = RootfsPlan::new(&spec, None, None, Path::new("/"), &host()).unwrap();
        let sys = RecordingSyscall::new();
        sys.set_non_directory("/proc/kcore");
        sys.set_missing("/proc/missing");
        plan.finalize(&sys).unwrap();
        assert_eq!(
            sys.calls(),
            vec![
                "stat /proc/kcore",
                "mount /dev/null -> /proc/kcore type=- flags=BIND data=-",
                "stat /proc/missing",
                "mount - -> / type=- flags=RDONLY|REMOUNT|BIND data=-",
            ]
        );
    }

    #[test]
    fn bound_dev_gets_no_device_nodes_and_console_is_bound_from_the_terminal() {
        let mut spec = spec();
        let dev = MountBuilder::default()
            .destination("/dev")
            .typ("bind")
            .source("/dev")
            .options(vec!["rbind".to_string()])
            .build()
            .unwrap();
        spec.set_mounts(Some(vec![dev]));
        let plan = RootfsPlan::new(
            &spec,
            None,
            Some(Path::new("/dev/pts/7")),
            Path::new("/"),
            &host(),
        )
        .unwrap();
        let described: Vec<String> = plan.ops.iter().map(|o| o.describe()).collect();
        assert_eq!(
            described,
            vec![
                "bind-mounting /dev at /dev",
                "bind-mounting /dev/pts/7 at /dev/console"
            ]
        );
    }

    #[test]
    fn read_only_dev_is_mounted_writable_and_remounted_after_the_devices() {
        let mut spec = spec();
        let mut mounts = spec.mounts().clone().unwrap();
        mounts[1].set_options(Some(vec!["nosuid".into(), "ro".into(), "mode=755".into()]));
        spec.set_mounts(Some(mounts));
        let plan = RootfsPlan::new(&spec, None, None, Path::new("/"), &host()).unwrap();
        let RootfsOp::Mount(dev) = &plan.ops[1] else {
            panic!()
        };
        assert!(!dev.flags.contains(MsFlags::MS_RDONLY));
        let RootfsOp::Remount { dest, flags } = plan.ops.last().unwrap() else {
            panic!()
        };
        assert_eq!(dest.display(), "/dev");
        assert!(flags.contains(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID));
    }

    #[test]
    fn failures_are_described_with_the_path() {
        let plan = RootfsPlan::new(&spec(), None, None, Path::new("/"), &host()).unwrap();
        let sys = RecordingSyscall::new();
        sys.fail("mount proc", Errno::EPERM);
        let failure = plan.prepare(&sys).unwrap_err();
        assert_eq!(failure.step, Step::Mount);
        assert_eq!(plan.describe(&failure).unwrap(), "mounting proc at /proc");
        assert!(sys.open_paths().is_empty());
        let failure = Failure::new(Step::MaskedPath, 0, Errno::EPERM);
        assert_eq!(plan.describe(&failure).unwrap(), "masking /proc/acpi");
    }

    #[test]
    fn relative_root_and_bad_overlay_are_refused() {
        let mut spec = spec();
        spec.set_root(Some(RootBuilder::default().path("rootfs").build().unwrap()));
        assert!(RootfsPlan::new(&spec, None, None, Path::new("/"), &host()).is_err());
        let overlay = OverlayMount {
            lower: vec!["/a,b".into()],
            upper: "/u".into(),
            work: "/w".into(),
        };
        assert!(RootfsPlan::new(&self::spec(), Some(&overlay), None, Path::new("/"), &host()).is_err());
    }
}
