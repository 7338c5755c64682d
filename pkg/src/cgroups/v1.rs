//! cgroup v1 (and the v1 half of a hybrid host): the container's cgroup is a directory of the same
//! path in every mounted v1 hierarchy, each limit written into its controller's hierarchy.

use super::{io_context, kill_and_rmdir, read_key, write_file, Backend};
use oci_spec::runtime::LinuxResources;
use std::io;
use std::path::{Path, PathBuf};

/// One mounted v1 hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where it is mounted (`/sys/fs/cgroup/memory`).
    pub mount: PathBuf,
    /// Its controllers (`cpu`, `cpuacct`; `name=systemd` for a named hierarchy).
    pub controllers: Vec<String>,
}

pub struct V1 {
    hierarchies: Vec<Hierarchy>,
}

impl V1 {
    pub fn new(hierarchies: Vec<Hierarchy>) -> V1 {
        V1 { hierarchies }
    }

    /// The v1 hierarchies of the calling process's mount namespace.
    pub fn from_mountinfo() -> V1 {
        V1::from_layout(crate::runtime::CgroupLayout::detect())
    }

    /// The v1 hierarchies of a layout the runtime read (the same parse mounts them into containers).
    pub(crate) fn from_layout(layout: crate::runtime::CgroupLayout) -> V1 {
        let hierarchies = match layout {
            crate::runtime::CgroupLayout::Unified => vec![],
            crate::runtime::CgroupLayout::Hierarchies(hs) => hs
                .into_iter()
                .filter(|h| h.fstype == "cgroup" && !h.options.is_empty())
                .map(|h| Hierarchy {
                    mount: Path::new("/sys/fs/cgroup").join(&h.dir),
                    controllers: h.options.split(',').map(str::to_string).collect(),
                })
                .collect(),
        };
        V1::new(hierarchies)
    }

    fn dir_of(&self, controller: &str, path: &str) -> Option<PathBuf> {
        self.hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .map(|h| join(&h.mount, path))
    }
}

fn join(mount: &Path, path: &str) -> PathBuf {
    mount.join(path.trim_start_matches('/'))
}

impl Backend for V1 {
    fn create(&self, path: &str) -> io::Result<()> {
        for h in &self.hierarchies {
            let mut dir = h.mount.clone();
            for part in path.split('/').filter(|p| !p.is_empty()) {
                let parent = dir.clone();
                dir.push(part);
                match std::fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io_context(e, format!("creating cgroup {}", dir.display()))),
                }
                if h.controllers.iter().any(|c| c == "cpuset") {
                    // A new cpuset cgroup starts with no CPUs and no memory nodes: no process could join.
                    for f in ["cpuset.cpus", "cpuset.mems"] {
                        let mine = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
                        if mine.trim().is_empty() {
                            let theirs = std::fs::read_to_string(parent.join(f)).unwrap_or_default();
                            write_file(&dir.join(f), theirs.trim())?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn apply(&self, path: &str, res: &LinuxResources) -> io::Result<()> {
        if let (Some(mem), Some(dir)) = (res.memory(), self.dir_of("memory", path)) {
            if let Some(limit) = mem.limit() {
                write_file(&dir.join("memory.limit_in_bytes"), &limit.to_string())?;
            }
            if let Some(swap) = mem.swap() {
                // memory.memsw.* exists only with swap accounting.
                let memsw = dir.join("memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    write_file(&memsw, &swap.to_string())?;
                }
            }
            if let Some(r) = mem.reservation() {
                write_file(&dir.join("memory.soft_limit_in_bytes"), &r.to_string())?;
            }
            if let Some(s) = mem.swappiness() {
                write_file(&dir.join("memory.swappiness"), &s.to_string())?;
            }
        }
        if let Some(cpu) = res.cpu() {
            if let Some(dir) = self.dir_of("cpu", path) {
                if let Some(shares) = cpu.shares() {
                    write_file(&dir.join("cpu.shares"), &shares.to_string())?;
                }
                if let Some(period) = cpu.period() {
                    write_file(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
                }
                if let Some(quota) = cpu.quota() {
                    write_file(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
                }
            }
            if let Some(dir) = self.dir_of("cpuset", path) {
                if let Some(cpus) = cpu.cpus() {
                    write_file(&dir.join("cpuset.cpus"), cpus)?;
                }
                if let Some(mems) = cpu.mems() {
                    write_file(&dir.join("cpuset.mems"), mems)?;
                }
            }
        }
        if let (Some(pids), Some(dir)) = (res.pids(), self.dir_of("pids", path)) {
            let limit = pids.limit();
            let value = if limit > 0 {
                limit.to_string()
            } else {
                "max".into()
            };
            write_file(&dir.join("pids.max"), &value)?;
        }
        if let (Some(rules), Some(dir)) = (res.devices(), self.dir_of("devices", path)) {
            for rule in rules {
                let file = if rule.allow() {
                    "devices.allow"
                } else {
                    "devices.deny"
                };
                write_file(&dir.join(file), &rule.to_string())?;
            }
        }
        Ok(())
    }

    fn add_process(&self, path: &str, pid: i32) -> io::Result<()> {
        for h in &self.hierarchies {
            write_file(&join(&h.mount, path).join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        let mut first = Ok(());
        for h in &self.hierarchies {
            if let Err(e) = kill_and_rmdir(&join(&h.mount, path)) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    fn oom_killed(&self, path: &str) -> bool {
        self.dir_of("memory", path)
            .and_then(|d| read_key(&d.join("memory.oom_control"), "oom_kill"))
            .is_some_and(|n| n > 0)
    }

    fn dirs(&self, path: &str) -> Vec<PathBuf> {
        self.hierarchies.iter().map(|h| join(&h.mount, path)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hybrid_mountinfo() {
        let text = "\
30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
        let v1 = V1::from_layout(crate::runtime::CgroupLayout::parse(text));
        let h = &v1.hierarchies;
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].controllers, vec!["name=systemd"]);
        assert_eq!(h[1].controllers, vec!["cpu", "cpuacct"]);
        assert_eq!(
            v1.dir_of("cpu", "/selkie/abc"),
            Some(PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/selkie/abc"))
        );
        assert_eq!(v1.dir_of("pids", "/selkie/abc"), None);
    }
}
