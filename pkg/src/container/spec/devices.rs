//! `linux.devices` and the device cgroup rules: `--device` nodes stat'ed on the host, every host device
//! with `--privileged`, and runc's default allow list after a deny-all rule.

use crate::container::parse::{parse_device, DeviceSpec};
use crate::error::{Error, IoContext, Result};
use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceBuilder, LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType,
};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The device node at `path` (not following a final symlink), or `None` when it is not a device.
/// `fileMode` is the raw `st_mode`, as Podman writes it.
pub(super) fn device_at(path: &Path, container_path: &Path) -> Result<Option<LinuxDevice>> {
    let meta = std::fs::symlink_metadata(path).ctx(|| format!("stat {}", path.display()))?;
    let ft = meta.file_type();
    let typ = if ft.is_block_device() {
        LinuxDeviceType::B
    } else if ft.is_char_device() {
        LinuxDeviceType::C
    } else if ft.is_fifo() {
        LinuxDeviceType::P
    } else {
        return Ok(None);
    };
    let rdev = meta.rdev();
    let dev = LinuxDeviceBuilder::default()
        .path(container_path)
        .typ(typ)
        .major(libc::major(rdev) as i64)
        .minor(libc::minor(rdev) as i64)
        .file_mode(meta.mode())
        .uid(meta.uid())
        .gid(meta.gid())
        .build()
        .expect("all device fields set");
    Ok(Some(dev))
}

/// An allow rule for one device (or every device of a type when `major`/`minor` are `None`).
pub(super) fn allow(
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    device_rule(true, typ, major, minor, access)
}

/// A device cgroup rule: allow or deny `access` to one device, or to every device of a type when
/// `major`/`minor` are `None`.
pub fn device_rule(
    allow: bool,
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(allow)
        .typ(typ)
        .access(access);
    if let Some(m) = major {
        b = b.major(m);
    }
    if let Some(m) = minor {
        b = b.minor(m);
    }
    b.build().expect("all rule fields set")
}

/// The first rule of every non-privileged container: deny everything.
pub(super) fn deny_all() -> LinuxDeviceCgroup {
    LinuxDeviceCgroupBuilder::default()
        .allow(false)
        .access("rwm")
        .build()
        .expect("all rule fields set")
}

/// Allow every device (`--privileged`).
pub(super) fn allow_all() -> LinuxDeviceCgroup {
    LinuxDeviceCgroupBuilder::default()
        .allow(true)
        .access("rwm")
        .build()
        .expect("all rule fields set")
}

/// runc's default allowed devices: mknod of any node, `/dev/null`, `random`, `full`, `tty`, `zero`,
/// `urandom`, `/dev/pts/*`, `/dev/ptmx` and `/dev/net/tun`.
pub(super) fn default_rules() -> Vec<LinuxDeviceCgroup> {
    use LinuxDeviceType::{B, C};
    vec![
        allow(C, None, None, "m"),
        allow(B, None, None, "m"),
        allow(C, Some(1), Some(3), "rwm"),
        allow(C, Some(1), Some(8), "rwm"),
        allow(C, Some(1), Some(7), "rwm"),
        allow(C, Some(5), Some(0), "rwm"),
        allow(C, Some(1), Some(5), "rwm"),
        allow(C, Some(1), Some(9), "rwm"),
        allow(C, Some(136), None, "rwm"),
        allow(C, Some(5), Some(2), "rwm"),
        allow(C, Some(10), Some(200), "rwm"),
    ]
}

/// `--device` entries: the nodes to create and their allow rules. A directory adds every device under
/// it (keeping the relative paths under the destination); a symlink is followed on the host.
pub(super) fn requested(specs: &[String]) -> Result<(Vec<LinuxDevice>, Vec<LinuxDeviceCgroup>)> {
    let mut devices = Vec::new();
    let mut rules = Vec::new();
    for spec in specs {
        let DeviceSpec {
            source,
            destination,
            permissions,
        } = parse_device(spec)?;
        let resolved =
            std::fs::canonicalize(&source).ctx(|| format!("--device {spec}: resolving {source}"))?;
        let mut found = Vec::new();
        if resolved.is_dir() {
            walk(&resolved, &mut |host| {
                let rel = host.strip_prefix(&resolved).unwrap_or(host);
                if let Some(d) = device_at(host, &Path::new(&destination).join(rel))? {
                    found.push(d);
                }
                Ok(())
            })?;
            if found.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "--device {spec}: no devices found in {source}"
                )));
            }
        } else {
            let dev = device_at(&resolved, Path::new(&destination))?
                .ok_or_else(|| Error::InvalidInput(format!("--device {spec}: {source} is not a device")))?;
            found.push(dev);
        }
        for d in found {
            rules.push(allow(d.typ(), Some(d.major()), Some(d.minor()), &permissions));
            devices.push(d);
        }
    }
    Ok((devices, rules))
}

/// Every device node under `dir` (recursively, not following symlinks), calling `f` on each file.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ctx(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, f)?;
        } else if !meta.file_type().is_symlink() {
            f(&p)?;
        }
    }
    Ok(())
}

/// Podman's `--privileged` device list: every device node under the host's `/dev` except `console`
/// and those under `pts`, `shm`, `fd` and `mqueue`, at the same paths.
pub(super) fn host_devices(dev: &Path) -> Result<Vec<LinuxDevice>> {
    fn scan(dir: &Path, out: &mut Vec<LinuxDevice>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .ctx(|| format!("reading {}", dir.display()))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name();
            let name = name.to_string_lossy();
            if ft.is_dir() {
                if !matches!(&*name, "pts" | "shm" | "fd" | "mqueue" | ".lxc" | ".lxd-mounts") {
                    scan(&e.path(), out)?;
                }
            } else if name != "console"
                && !ft.is_symlink()
                // Rootless, a device is a bind of the host's node, which the `/dev/ptmx -> pts/ptmx`
                // symlink could not replace.
                && !(name == "ptmx" && crate::rootless::is_rootless())
            {
                if let Ok(Some(d)) = device_at(&e.path(), &e.path()) {
                    out.push(d);
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    scan(dev, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_from_host_node() {
        let (devs, rules) = requested(&["/dev/null:/dev/mynull:rw".into()]).unwrap();
        assert_eq!(devs.len(), 1);
        assert_eq!(devs[0].path(), Path::new("/dev/mynull"));
        assert_eq!(
            (devs[0].typ(), devs[0].major(), devs[0].minor()),
            (LinuxDeviceType::C, 1, 3)
        );
        assert_eq!(devs[0].file_mode().unwrap() & libc::S_IFMT, libc::S_IFCHR);
        assert_eq!(rules[0].to_string(), "c 1:3 rw");
        assert!(requested(&["/etc/hostname".into()])
            .unwrap_err()
            .to_string()
            .contains("is not a device"));
        assert!(requested(&["/dev/does-not-exist".into()]).is_err());
        assert!(requested(&["/dev/null:bad".into()]).is_err());
    }

    #[test]
    fn privileged_devices_include_the_basics() {
        let devs = host_devices(Path::new("/dev")).unwrap();
        for p in ["/dev/null", "/dev/zero", "/dev/urandom"] {
            assert!(devs.iter().any(|d| d.path() == Path::new(p)), "{p}");
        }
        assert!(!devs
            .iter()
            .any(|d| d.path().starts_with("/dev/pts") || d.path() == Path::new("/dev/console")));
    }

    #[test]
    fn rules() {
        assert_eq!(deny_all().to_string(), "a *:* rwm");
        assert_eq!(default_rules()[8].to_string(), "c 136:* rwm");
        assert!(allow_all().allow());
    }
}
