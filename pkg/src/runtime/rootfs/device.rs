//! Device nodes in the container's `/dev`: the defaults every container gets (`null`, `zero`, `full`,
//! `random`, `urandom`, `tty`) plus `spec.linux.devices`, made with `mknod` inside the root, or, when
//! the kernel refuses `mknod` (a user namespace), by bind-mounting the host's node over an empty file.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use super::mount::path_cstring;
use super::resolve::{self, InRootPath};
use crate::runtime::error::RuntimeError;
use crate::runtime::step::{Failure, Step};
use crate::runtime::syscall::{MountTarget, Syscall};

/// A device node to create.
#[derive(Clone, Debug)]
pub(crate) struct DeviceNode {
    pub path: InRootPath,
    /// Type bits (`S_IFCHR`...) and permissions.
    pub mode: u32,
    pub dev: u64,
    pub uid: u32,
    pub gid: u32,
    /// The host node at the same path, bound when `mknod` is refused.
    pub host_path: CString,
}

/// `(path, major, minor)` of the character devices every container gets, mode 0666.
const DEFAULT_DEVICES: &[(&str, u32, u32)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

impl DeviceNode {
    fn new(path: &Path, mode: u32, major: u32, minor: u32, uid: u32, gid: u32) -> Result<Self, RuntimeError> {
        Ok(DeviceNode {
            path: InRootPath::new(path)?,
            mode,
            dev: libc::makedev(major, minor),
            uid,
            gid,
            host_path: path_cstring(path)?,
        })
    }

    fn from_spec(device: &LinuxDevice) -> Result<Self, RuntimeError> {
        let kind = match device.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
            LinuxDeviceType::B => libc::S_IFBLK,
            LinuxDeviceType::P => libc::S_IFIFO,
            LinuxDeviceType::A => {
                return Err(RuntimeError::invalid(format!(
                    "device {} has type `a`, which only cgroup rules may use",
                    device.path().display()
                )))
            }
        };
        let perm = device.file_mode().unwrap_or(0o666) & 0o7777;
        let number = |n: i64, what: &str| {
            u32::try_from(n).map_err(|_| {
                RuntimeError::invalid(format!(
                    "device {}: invalid {what} number {n}",
                    device.path().display()
                ))
            })
        };
        DeviceNode::new(
            device.path(),
            kind | perm,
            number(device.major(), "major")?,
            number(device.minor(), "minor")?,
            device.uid().unwrap_or(0),
            device.gid().unwrap_or(0),
        )
    }

    /// Create the node; `index` names it in failures.
    pub(crate) fn create(&self, sys: &dyn Syscall, root: RawFd, index: usize) -> Result<(), Failure> {
        let parent =
            resolve::ensure_parent(sys, root, &self.path).map_err(Failure::at_index(Step::Device, index))?;
        let name = self.path.name();
        let result = match sys.mknod_at(parent, name, self.mode, self.dev) {
            Ok(()) => sys
                .chown_at(parent, name, self.uid, self.gid)
                .map_err(Failure::at_index(Step::Device, index)),
            Err(Errno::EEXIST) => Ok(()),
            Err(Errno::EPERM) => self.bind_host_node(sys, root, parent, index),
            Err(e) => Err(Failure::new(Step::Device, index, e)),
        };
        sys.close(parent);
        result
    }

    fn bind_host_node(
        &self,
        sys: &dyn Syscall,
        root: RawFd,
        parent: RawFd,
        index: usize,
    ) -> Result<(), Failure> {
        let fail = Failure::at_index(Step::DeviceBind, index);
        match sys.create_file_at(parent, self.path.name(), 0o644) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(fail(e)),
        }
        let target = resolve::open(sys, root, &self.path).map_err(&fail)?;
        let result = sys.mount(
            Some(&self.host_path),
            MountTarget::Fd(target),
            None,
            MsFlags::MS_BIND,
            None,
        );
        sys.close(target);
        result.map_err(fail)
    }
}

/// The default devices followed by `spec.linux.devices`; a spec device replaces a default at the same path.
pub(crate) fn plan(devices: &[LinuxDevice]) -> Result<Vec<DeviceNode>, RuntimeError> {
    let mut nodes = Vec::with_capacity(DEFAULT_DEVICES.len() + devices.len());
    for (path, major, minor) in DEFAULT_DEVICES {
        if devices.iter().any(|d| d.path() == Path::new(path)) {
            continue;
        }
        nodes.push(DeviceNode::new(
            Path::new(path),
            libc::S_IFCHR | 0o666,
            *major,
            *minor,
            0,
            0,
        )?);
    }
    for device in devices {
        nodes.push(DeviceNode::from_spec(device)?);
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;
    use nix::fcntl::OFlag;
    use oci_spec::runtime::LinuxDeviceBuilder;

    #[test]
    fn defaults_come_first_and_spec_devices_replace_them() {
        let fuse = LinuxDeviceBuilder::default()
            .path("/dev/fuse")
            .typ(LinuxDeviceType::C)
            .major(10)
            .minor(229)
            .file_mode(0o600u32)
            .build()
            .unwrap();
        let null = LinuxDeviceBuilder::default()
            .path("/dev/null")
            .typ(LinuxDeviceType::C)
            .major(1)
            .minor(3)
            .uid(5u32)
            .build()
            .unwrap();
        let nodes = plan(&[fuse, null]).unwrap();
        let paths: Vec<&str> = nodes.iter().map(|n| n.path.display()).collect();
        assert_eq!(
            paths,
            vec![
                "/dev/zero",
                "/dev/full",
                "/dev/random",
                "/dev/urandom",
                "/dev/tty",
                "/dev/fuse",
                "/dev/null"
            ]
        );
        assert_eq!(nodes[5].mode, libc::S_IFCHR | 0o600);
        assert_eq!(nodes[6].uid, 5);
    }

    #[test]
    fn nodes_are_made_in_root_and_owned() {
        let nodes = plan(&[]).unwrap();
        let sys = RecordingSyscall::new();
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        nodes[0].create(&sys, root, 0).unwrap();
        sys.close(root);
        assert_eq!(
            sys.calls(),
            vec![
                "open /r",
                "open_in_root /r/dev",
                "mknod /r/dev/null 20666 1:3",
                "chown /r/dev/null 0:0"
            ]
        );
        assert!(sys.open_paths().is_empty());
    }

    #[test]
    fn refused_mknod_binds_the_host_node() {
        let nodes = plan(&[]).unwrap();
        let sys = RecordingSyscall::new();
        sys.fail("mknod", Errno::EPERM);
        let root = sys.open(c"/r", OFlag::O_PATH).unwrap();
        nodes[1].create(&sys, root, 1).unwrap();
        sys.close(root);
        let calls = sys.calls();
        assert_eq!(
            &calls[3..],
            &[
                "create_file /r/dev/zero 644".to_string(),
                "open_in_root /r/dev/zero".to_string(),
                "mount /dev/zero -> /r/dev/zero type=- flags=BIND data=-".to_string(),
            ]
        );
        assert!(sys.open_paths().is_empty());
    }
}
