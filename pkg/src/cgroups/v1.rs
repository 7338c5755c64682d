//! cgroup v1 (and the v1 half of a hybrid host): the container's cgroup is a directory of the same
//! path in every mounted v1 hierarchy, each limit written into its controller's hierarchy.

use super::{
    io_context, kill_and_rmdir, kill_procs, procs_below, read_key, read_u64, wait_for, write_file, Backend,
    Usage,
};
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
        // A frozen process does not die of SIGKILL until it is thawed: kill, then thaw.
        if let (Some(dir), Some(true)) = (self.dir_of("freezer", path), self.frozen(path)) {
            kill_procs(&dir);
            let _ = write_file(&dir.join("freezer.state"), "THAWED");
        }
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

    fn set_frozen(&self, path: &str, frozen: bool) -> io::Result<()> {
        let dir = self.dir_of("freezer", path).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "the cgroup v1 freezer controller is not mounted",
            )
        })?;
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("cgroup {} does not exist", dir.display()),
            ));
        }
        let file = dir.join("freezer.state");
        let want = if frozen { "FROZEN" } else { "THAWED" };
        // The kernel moves FREEZING to FROZEN only when every task has stopped; writing FROZEN again
        // retries the tasks that were busy (as runc does).
        let done = wait_for(|| {
            write_file(&file, want).is_ok() && std::fs::read_to_string(&file).is_ok_and(|s| s.trim() == want)
        });
        if done {
            return Ok(());
        }
        if frozen {
            let _ = write_file(&file, "THAWED");
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{}: the processes did not become {want}", dir.display()),
        ))
    }

    fn frozen(&self, path: &str) -> Option<bool> {
        let dir = self.dir_of("freezer", path)?;
        let state = std::fs::read_to_string(dir.join("freezer.state")).ok()?;
        Some(matches!(state.trim(), "FROZEN" | "FREEZING"))
    }

    fn procs(&self, path: &str) -> io::Result<Vec<i32>> {
        // Every hierarchy holds the same processes; the freezer's (pause), else the first that exists.
        let dir = ["freezer", "pids", "memory"]
            .iter()
            .filter_map(|c| self.dir_of(c, path))
            .chain(self.dirs(path))
            .find(|d| d.is_dir())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no cgroup {path}")))?;
        procs_below(&dir)
    }

    fn usage(&self, path: &str) -> io::Result<Usage> {
        if !self.dirs(path).iter().any(|d| d.is_dir()) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no cgroup {path}"),
            ));
        }
        let file = |controller: &str, name: &str| self.dir_of(controller, path).map(|d| d.join(name));
        let number = |controller: &str, name: &str| file(controller, name).and_then(|f| read_u64(&f));
        // An unlimited v1 limit reads as the largest page-aligned i64.
        let memory_limit = number("memory", "memory.limit_in_bytes").filter(|l| *l < 1 << 62);
        let (block_read, block_write) = self
            .dir_of("blkio", path)
            .map(|d| block_io(&d))
            .unwrap_or_default();
        Ok(Usage {
            memory: number("memory", "memory.usage_in_bytes").unwrap_or(0),
            memory_limit,
            cpu_ns: number("cpuacct", "cpuacct.usage").unwrap_or(0),
            pids: number("pids", "pids.current").unwrap_or(0),
            block_read,
            block_write,
        })
    }
}

/// Bytes read and written from `blkio`'s per-device `MAJ:MIN Read N` lines: the first of the
/// scheduler's and the throttling files that has any device line (runc's order).
fn block_io(dir: &Path) -> (u64, u64) {
    for name in [
        "blkio.io_service_bytes_recursive",
        "blkio.bfq.io_service_bytes_recursive",
        "blkio.throttle.io_service_bytes_recursive",
    ] {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let mut any = false;
        let (mut read, mut write) = (0, 0);
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 3 {
                continue;
            }
            any = true;
            let n: u64 = f[2].parse().unwrap_or(0);
            match f[1].to_ascii_lowercase().as_str() {
                "read" => read += n,
                "write" => write += n,
                _ => {}
            }
        }
        if any {
            return (read, write);
        }
    }
    (0, 0)
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

    #[test]
    fn block_io_sums_reads_and_writes_of_every_device() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("blkio.throttle.io_service_bytes_recursive"),
            "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:16 Read 100\nTotal 4708\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("blkio.io_service_bytes_recursive"), "Total 0\n").unwrap();
        assert_eq!(block_io(dir.path()), (4196, 512));
    }
}
