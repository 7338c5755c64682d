//! One entry of `spec.mounts`: its options parsed into flags, its mount point created inside the root,
//! the mount made through an in-root descriptor, then the bind remount and propagation it asks for.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;
use oci_spec::runtime::Mount;

use super::resolve::{self, InRootPath};
use crate::runtime::error::RuntimeError;
use crate::runtime::step::{Failure, Step};
use crate::runtime::syscall::{FileKind, MountTarget, SysResult, Syscall};

/// `mount(8)`-style options, split into what goes where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MountOptions {
    /// `MS_*` flags for the mount itself (including `MS_BIND`/`MS_REC` for `bind`/`rbind`).
    pub flags: MsFlags,
    /// Propagation changes applied after mounting, in order.
    pub propagation: Vec<MsFlags>,
    /// Filesystem-specific options (`mode=755`, `size=64m`, `newinstance`), comma-joined as data.
    pub data: Vec<String>,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            flags: MsFlags::empty(),
            propagation: Vec::new(),
            data: Vec::new(),
        }
    }
}

/// Options that are engine-level annotations and mean nothing to the kernel.
const IGNORED_OPTIONS: &[&str] = &[
    "tmpcopyup",
    "notmpcopyup",
    "copy-symlink",
    "z",
    "Z",
    "U",
    "defaults",
];

/// Options this runtime does not implement yet; refusing is better than silently doing less.
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "idmap",
    "ridmap",
    "rro",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnoatime",
    "ratime",
    "rrelatime",
    "rnorelatime",
    "rstrictatime",
    "rnostrictatime",
    "rnosymfollow",
    "rsymfollow",
];

/// Parse OCI mount options.
pub(crate) fn parse_options(options: &[String]) -> Result<MountOptions, RuntimeError> {
    let mut parsed = MountOptions::default();
    for option in options {
        let (set, clear) = match option.as_str() {
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
            "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty()),
            "remount" => (MsFlags::MS_REMOUNT, MsFlags::empty()),
            "mand" => (MsFlags::MS_MANDLOCK, MsFlags::empty()),
            "nomand" => (MsFlags::empty(), MsFlags::MS_MANDLOCK),
            "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME),
            "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "nostrictatime" => (MsFlags::empty(), MsFlags::MS_STRICTATIME),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
            | "runbindable" => {
                parsed
                    .propagation
                    .push(propagation_flags(option).unwrap_or(MsFlags::MS_PRIVATE));
                continue;
            }
            o if IGNORED_OPTIONS.contains(&o) => continue,
            o if UNSUPPORTED_OPTIONS.contains(&o) => {
                return Err(RuntimeError::Unsupported(format!("mount option `{o}`")))
            }
            other => {
                parsed.data.push(other.to_string());
                continue;
            }
        };
        parsed.flags = (parsed.flags | set) & !clear;
    }
    Ok(parsed)
}

/// The `MS_*` flags of a propagation keyword (`rprivate` = `MS_REC | MS_PRIVATE`).
pub(crate) fn propagation_flags(name: &str) -> Option<MsFlags> {
    Some(match name {
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_REC | MsFlags::MS_SHARED,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_REC | MsFlags::MS_SLAVE,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_REC | MsFlags::MS_UNBINDABLE,
        _ => return None,
    })
}

/// Files under `/proc` that may be mounted over (lxcfs-style emulation); anything else under `/proc`
/// is refused, as runc does.
const PROC_MOUNTABLE: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// A mount prepared for the child.
#[derive(Clone, Debug)]
pub(crate) struct MountEntry {
    /// `mount(2)` source (a host path for binds, a name like `proc` otherwise).
    pub source: Option<CString>,
    /// Filesystem type; `None` for binds.
    pub fstype: Option<CString>,
    /// The mount point inside the root.
    pub dest: InRootPath,
    /// Flags of the initial `mount(2)`.
    pub flags: MsFlags,
    /// Filesystem data (comma-joined options).
    pub data: Option<CString>,
    /// Whether the mount point must be a directory or a file.
    pub kind: FileKind,
    /// Flags of a bind remount after mounting (`MS_BIND | MS_REMOUNT | ...`), when the options ask
    /// for more than a plain bind (a bind ignores `ro`, `nosuid`... on the first call).
    pub remount: Option<MsFlags>,
    /// Propagation changes after mounting.
    pub propagation: Vec<MsFlags>,
    /// A host path to bind instead when the kernel refuses a new instance of the filesystem with
    /// `EPERM` (sysfs and mqueue without their namespace).
    pub fallback_bind: Option<CString>,
}

fn cstring(s: &str) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|_| RuntimeError::invalid(format!("{s:?} contains a NUL byte")))
}

/// Flags a bind remount keeps; everything else of the options is filesystem business.
const BIND_REMOUNT_FLAGS: MsFlags = MsFlags::MS_RDONLY
    .union(MsFlags::MS_NOSUID)
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC)
    .union(MsFlags::MS_NOATIME)
    .union(MsFlags::MS_NODIRATIME)
    .union(MsFlags::MS_RELATIME)
    .union(MsFlags::MS_STRICTATIME)
    .union(MsFlags::MS_SYNCHRONOUS)
    .union(MsFlags::MS_DIRSYNC)
    .union(MsFlags::MS_MANDLOCK);

impl MountEntry {
    /// Prepare an entry of `spec.mounts` that is not a `cgroup` mount (see `cgroup.rs` for those).
    pub(crate) fn from_spec(mount: &Mount) -> Result<Self, RuntimeError> {
        let options = parse_options(mount.options().as_deref().unwrap_or_default())?;
        let fstype = mount.typ().as_deref().unwrap_or("");
        let dest = InRootPath::new(mount.destination())?;
        let is_bind = options.flags.contains(MsFlags::MS_BIND) || fstype == "bind";
        if dest.is_under("/proc") && fstype != "proc" && !PROC_MOUNTABLE.contains(&dest.display()) {
            return Err(RuntimeError::invalid(format!(
                "{} cannot be mounted because it is inside /proc",
                dest.display()
            )));
        }
        if mount.uid_mappings().is_some() || mount.gid_mappings().is_some() {
            return Err(RuntimeError::Unsupported("id-mapped mounts".into()));
        }
        let data = if options.data.is_empty() {
            None
        } else {
            Some(cstring(&options.data.join(","))?)
        };
        if is_bind {
            let source = mount.source().as_deref().ok_or_else(|| {
                RuntimeError::invalid(format!("bind mount at {} has no source", dest.display()))
            })?;
            let metadata = std::fs::metadata(source)
                .map_err(|e| RuntimeError::invalid(format!("bind mount source {}: {e}", source.display())))?;
            let kind = if metadata.is_dir() {
                FileKind::Directory
            } else {
                FileKind::NonDirectory
            };
            let first = MsFlags::MS_BIND | (options.flags & MsFlags::MS_REC);
            let extra = options.flags & BIND_REMOUNT_FLAGS;
            let remount = (!extra.is_empty()).then_some(MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra);
            return Ok(MountEntry {
                source: Some(path_cstring(source)?),
                fstype: None,
                dest,
                flags: first,
                data,
                kind,
                remount,
                propagation: options.propagation,
                fallback_bind: None,
            });
        }
        if fstype.is_empty() {
            return Err(RuntimeError::invalid(format!(
                "mount at {} has no type",
                dest.display()
            )));
        }
        let source = match mount.source() {
            Some(s) => path_cstring(s)?,
            None => cstring(fstype)?,
        };
        let fallback_bind = match fstype {
            "sysfs" => Some(cstring("/sys")?),
            "mqueue" => Some(cstring("/dev/mqueue")?),
            _ => None,
        };
        Ok(MountEntry {
            source: Some(source),
            fstype: Some(cstring(fstype)?),
            dest,
            flags: options.flags & !MsFlags::MS_BIND,
            data,
            kind: FileKind::Directory,
            remount: None,
            propagation: options.propagation,
            fallback_bind,
        })
    }

    /// "mounting proc at /proc", "bind-mounting /host at /data".
    pub(crate) fn describe(&self) -> String {
        let source = self
            .source
            .as_ref()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        match &self.fstype {
            None => format!("bind-mounting {source} at {}", self.dest.display()),
            Some(t) if t.as_bytes() == source.as_bytes() => {
                format!("mounting {source} at {}", self.dest.display())
            }
            Some(t) => format!(
                "mounting {source} ({}) at {}",
                t.to_string_lossy(),
                self.dest.display()
            ),
        }
    }

    /// Create the mount point, mount, remount and set propagation; `index` names this entry in failures.
    pub(crate) fn apply(&self, sys: &dyn Syscall, root: RawFd, index: usize) -> Result<(), Failure> {
        let point = match self.kind {
            FileKind::Directory => resolve::ensure_dir(sys, root, &self.dest),
            FileKind::NonDirectory => resolve::ensure_file(sys, root, &self.dest),
        }
        .map_err(Failure::at_index(Step::MountPoint, index))?;
        let mut remount = self.remount;
        let mut result = sys.mount(
            self.source.as_deref(),
            MountTarget::Fd(point),
            self.fstype.as_deref(),
            self.flags,
            self.data.as_deref(),
        );
        if let (Err(Errno::EPERM), Some(host)) = (result, &self.fallback_bind) {
            let rbind = MsFlags::MS_BIND | MsFlags::MS_REC;
            result = sys.mount(Some(host), MountTarget::Fd(point), None, rbind, None);
            let extra = self.flags & BIND_REMOUNT_FLAGS;
            remount = Some(MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra);
        }
        sys.close(point);
        result.map_err(Failure::at_index(Step::Mount, index))?;
        if remount.is_none() && self.propagation.is_empty() {
            return Ok(());
        }
        // The descriptor above names the directory under the new mount; reopen to reach the mount.
        let mounted =
            resolve::open(sys, root, &self.dest).map_err(Failure::at_index(Step::Remount, index))?;
        let result = finish(sys, mounted, remount, &self.propagation, index);
        sys.close(mounted);
        result
    }
}

fn finish(
    sys: &dyn Syscall,
    mounted: RawFd,
    remount: Option<MsFlags>,
    propagation: &[MsFlags],
    index: usize,
) -> Result<(), Failure> {
    if let Some(flags) = remount {
        remount_bind(sys, MountTarget::Fd(mounted), flags)
            .map_err(Failure::at_index(Step::Remount, index))?;
    }
    for flags in propagation {
        sys.mount(None, MountTarget::Fd(mounted), None, *flags, None)
            .map_err(Failure::at_index(Step::Propagation, index))?;
    }
    Ok(())
}

/// Flags the kernel locks on a mount copied into a less privileged namespace; a bind remount that
/// would clear one fails with `EPERM`, so they are carried over on retry.
const LOCKABLE_FLAGS: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC)
    .union(MsFlags::MS_NOATIME)
    .union(MsFlags::MS_NODIRATIME)
    .union(MsFlags::MS_RELATIME);

/// Bind-remount `target` with `flags` (which include `MS_BIND | MS_REMOUNT`); on `EPERM`, retry keeping
/// the flags the mount already has and the kernel may have locked.
pub(crate) fn remount_bind(sys: &dyn Syscall, target: MountTarget<'_>, flags: MsFlags) -> SysResult<()> {
    match sys.mount(None, target, None, flags, None) {
        Err(Errno::EPERM) => {
            let current = sys.mount_flags_of(target)?;
            let mut retry = flags | (current & LOCKABLE_FLAGS);
            if retry.contains(MsFlags::MS_STRICTATIME) {
                retry.remove(MsFlags::MS_RELATIME | MsFlags::MS_NOATIME);
            }
            sys.mount(None, target, None, retry, None)
        }
        other => other,
    }
}

pub(crate) fn path_cstring(path: &Path) -> Result<CString, RuntimeError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| RuntimeError::invalid(format!("{} contains a NUL byte", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;
    use nix::fcntl::OFlag;
    use oci_spec::runtime::MountBuilder;

    fn opts(list: &[&str]) -> MountOptions {
        parse_options(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
        MountBuilder::default()
            .destination(dest)
            .typ(typ)
            .source(source)
            .options(options.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .build()
            .unwrap()
    }

    fn run(entry: &MountEntry, sys: &RecordingSyscall) -> Result<(), Failure> {
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        let result = entry.apply(sys, root, 7);
        sys.close(root);
        assert!(sys.open_paths().is_empty(), "leaked {:?}", sys.open_paths());
        result
    }

    #[test]
    fn options_become_flags_propagation_and_data() {
        let o = opts(&[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "rprivate",
        ]);
        assert_eq!(o.flags, MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC);
        assert_eq!(o.propagation, vec![MsFlags::MS_REC | MsFlags::MS_PRIVATE]);
        assert_eq!(o.data, vec!["newinstance", "ptmxmode=0666", "mode=0620"]);
        assert_eq!(opts(&["ro", "rw"]).flags, MsFlags::empty());
        assert_eq!(
            opts(&["rbind", "ro"]).flags,
            MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY
        );
        assert_eq!(opts(&["tmpcopyup", "z"]), MountOptions::default());
        assert!(matches!(
            parse_options(&["idmap".to_string()]),
            Err(RuntimeError::Unsupported(_))
        ));
    }

    #[test]
    fn proc_is_mounted_on_a_directory_resolved_in_root() {
        let entry = MountEntry::from_spec(&mount("/proc", "proc", "proc", &[])).unwrap();
        let sys = RecordingSyscall::new();
        run(&entry, &sys).unwrap();
        assert_eq!(
            sys.calls(),
            vec![
                "open /r",
                "open_in_root /r/proc",
                "mount proc -> /r/proc type=proc flags=0 data=-"
            ]
        );
        assert_eq!(entry.describe(), "mounting proc at /proc");
    }

    #[test]
    fn tmpfs_keeps_flags_and_data() {
        let entry = MountEntry::from_spec(&mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755"],
        ))
        .unwrap();
        let sys = RecordingSyscall::new();
        run(&entry, &sys).unwrap();
        assert_eq!(
            sys.calls()[2],
            "mount tmpfs -> /r/dev type=tmpfs flags=NOSUID|STRICTATIME data=mode=755"
        );
    }

    #[test]
    fn read_only_bind_is_bound_then_remounted_through_a_fresh_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().to_str().unwrap().to_string();
        let entry = MountEntry::from_spec(&mount("/data", "bind", &src, &["rbind", "ro", "nosuid"])).unwrap();
        assert_eq!(entry.kind, FileKind::Directory);
        let sys = RecordingSyscall::new();
        run(&entry, &sys).unwrap();
        assert_eq!(
            sys.calls(),
            vec![
                "open /r".to_string(),
                "open_in_root /r/data".to_string(),
                format!("mount {src} -> /r/data type=- flags=BIND|REC data=-"),
                "open_in_root /r/data".to_string(),
                "mount - -> /r/data type=- flags=RDONLY|NOSUID|REMOUNT|BIND data=-".to_string(),
            ]
        );
        assert_eq!(entry.describe(), format!("bind-mounting {src} at /data"));
    }

    #[test]
    fn file_bind_creates_a_file_mount_point() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("resolv.conf");
        std::fs::write(&file, "").unwrap();
        let entry = MountEntry::from_spec(&mount(
            "/etc/resolv.conf",
            "bind",
            file.to_str().unwrap(),
            &["bind"],
        ))
        .unwrap();
        assert_eq!(entry.kind, FileKind::NonDirectory);
        assert_eq!(entry.remount, None);
        let sys = RecordingSyscall::new();
        sys.set_missing("/r/etc/resolv.conf");
        run(&entry, &sys).unwrap();
        assert!(sys
            .calls()
            .contains(&"create_file /r/etc/resolv.conf 644".to_string()));
    }

    #[test]
    fn remount_refused_retries_with_locked_flags() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().to_str().unwrap().to_string();
        let entry = MountEntry::from_spec(&mount("/data", "bind", &src, &["bind", "ro"])).unwrap();
        let sys = RecordingSyscall::new();
        sys.fail(
            "mount - -> /r/data type=- flags=RDONLY|REMOUNT|BIND ",
            Errno::EPERM,
        );
        sys.set_mount_flags("/r/data", MsFlags::MS_NODEV | MsFlags::MS_NOSUID);
        run(&entry, &sys).unwrap();
        assert_eq!(
            sys.calls().last().unwrap(),
            "mount - -> /r/data type=- flags=RDONLY|NOSUID|NODEV|REMOUNT|BIND data=-"
        );
    }

    #[test]
    fn sysfs_refused_falls_back_to_a_bind_of_the_host_sys() {
        let entry = MountEntry::from_spec(&mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ))
        .unwrap();
        let sys = RecordingSyscall::new();
        sys.fail("mount sysfs", Errno::EPERM);
        run(&entry, &sys).unwrap();
        let calls = sys.calls();
        assert_eq!(calls[3], "mount /sys -> /r/sys type=- flags=BIND|REC data=-");
        assert_eq!(
            calls[5],
            "mount - -> /r/sys type=- flags=RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND data=-"
        );
    }

    #[test]
    fn failures_name_the_step_and_entry() {
        let entry = MountEntry::from_spec(&mount("/proc", "proc", "proc", &[])).unwrap();
        let sys = RecordingSyscall::new();
        sys.fail("mount proc", Errno::EPERM);
        assert_eq!(run(&entry, &sys), Err(Failure::new(Step::Mount, 7, Errno::EPERM)));
        let sys = RecordingSyscall::new();
        sys.fail("open_in_root /r/proc", Errno::ELOOP);
        assert_eq!(
            run(&entry, &sys),
            Err(Failure::new(Step::MountPoint, 7, Errno::ELOOP))
        );
    }

    #[test]
    fn mounts_inside_proc_are_refused_except_the_emulated_files() {
        assert!(MountEntry::from_spec(&mount("/proc/sys", "tmpfs", "tmpfs", &[])).is_err());
        assert!(MountEntry::from_spec(&mount("/proc/../proc/kcore", "tmpfs", "tmpfs", &[])).is_err());
        let file = tempfile::NamedTempFile::new().unwrap();
        let src = file.path().to_str().unwrap();
        assert!(MountEntry::from_spec(&mount("/proc/meminfo", "bind", src, &["bind"])).is_ok());
    }

    #[test]
    fn missing_bind_source_is_a_configuration_error() {
        let err =
            MountEntry::from_spec(&mount("/data", "bind", "/nonexistent/selkie", &["bind"])).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/selkie"), "{err}");
    }
}
