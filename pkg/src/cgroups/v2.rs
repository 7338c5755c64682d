//! cgroup v2 (a pure `cgroup2` host): one directory, `<root>/selkie/<id>`, with the controllers the
//! limits need enabled in every parent's `cgroup.subtree_control`. v2 has no `devices` files: the
//! spec's device rules become an eBPF device filter attached to the directory ([`super::devices_bpf`]).

use super::{
    io_context, kill_and_rmdir, procs_below, read_key, read_u64, wait_for, write_file, Backend, Usage,
};
use oci_spec::runtime::LinuxResources;
use std::io;
use std::path::{Path, PathBuf};

/// The controllers a container's cgroup gets when the host has them.
const WANTED: &[&str] = &["cpu", "cpuset", "memory", "pids", "io"];

pub struct V2 {
    root: PathBuf,
}

impl V2 {
    pub fn new(root: PathBuf) -> V2 {
        V2 { root }
    }

    fn dir(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

/// Enables in `dir`'s `cgroup.subtree_control` the wanted controllers it has and has not enabled yet.
fn enable_controllers(dir: &Path) -> io::Result<()> {
    let available = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let enabled = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    let missing: Vec<String> = available
        .split_whitespace()
        .filter(|c| WANTED.contains(c) && !enabled.split_whitespace().any(|e| e == *c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    write_file(&dir.join("cgroup.subtree_control"), &missing.join(" "))
}

/// cgroup v1 `cpu.shares` (2..262144) as a v2 `cpu.weight` (1..10000), as runc converts it.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

impl Backend for V2 {
    fn create(&self, path: &str) -> io::Result<()> {
        let mut dir = self.root.clone();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for part in parts {
            enable_controllers(&dir)?;
            dir.push(part);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_context(e, format!("creating cgroup {}", dir.display()))),
            }
        }
        Ok(())
    }

    fn apply(&self, path: &str, res: &LinuxResources) -> io::Result<()> {
        let dir = self.dir(path);
        let max = |v: i64| if v > 0 { v.to_string() } else { "max".to_string() };
        if let Some(mem) = res.memory() {
            if let Some(limit) = mem.limit() {
                write_file(&dir.join("memory.max"), &max(limit))?;
            }
            if let Some(swap) = mem.swap() {
                // v1's memory+swap total is v2's swap alone.
                let value = match (swap, mem.limit()) {
                    (s, _) if s <= 0 => "max".to_string(),
                    (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
                    (s, _) => s.to_string(),
                };
                let file = dir.join("memory.swap.max");
                if file.exists() {
                    write_file(&file, &value)?;
                }
            }
            if let Some(r) = mem.reservation() {
                write_file(&dir.join("memory.low"), &max(r))?;
            }
        }
        if let Some(cpu) = res.cpu() {
            if let Some(shares) = cpu.shares() {
                write_file(&dir.join("cpu.weight"), &shares_to_weight(shares).to_string())?;
            }
            if cpu.quota().is_some() || cpu.period().is_some() {
                let quota = cpu
                    .quota()
                    .filter(|q| *q > 0)
                    .map_or("max".to_string(), |q| q.to_string());
                let period = cpu.period().unwrap_or(super::CFS_PERIOD);
                write_file(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
            }
            if let Some(cpus) = cpu.cpus() {
                write_file(&dir.join("cpuset.cpus"), cpus)?;
            }
            if let Some(mems) = cpu.mems() {
                write_file(&dir.join("cpuset.mems"), mems)?;
            }
        }
        if let Some(pids) = res.pids() {
            write_file(&dir.join("pids.max"), &max(pids.limit()))?;
        }
        if let Some(rules) = res.devices().as_deref().filter(|r| !r.is_empty()) {
            super::devices_bpf::apply(&dir, rules)?;
        }
        Ok(())
    }

    fn add_process(&self, path: &str, pid: i32) -> io::Result<()> {
        write_file(&self.dir(path).join("cgroup.procs"), &pid.to_string())
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        let dir = self.dir(path);
        // cgroup.kill (5.14+) kills the whole tree at once; kill_and_rmdir covers older kernels.
        if dir.join("cgroup.kill").exists() {
            let _ = std::fs::write(dir.join("cgroup.kill"), "1");
        }
        // SIGKILL reaches frozen processes on v2, but a thawed cgroup lets them finish dying at once.
        if self.frozen(path) == Some(true) {
            super::kill_procs(&dir);
            let _ = write_file(&dir.join("cgroup.freeze"), "0");
        }
        kill_and_rmdir(&dir)
    }

    fn oom_killed(&self, path: &str) -> bool {
        read_key(&self.dir(path).join("memory.events"), "oom_kill").is_some_and(|n| n > 0)
    }

    fn dirs(&self, path: &str) -> Vec<PathBuf> {
        vec![self.dir(path)]
    }

    fn set_frozen(&self, path: &str, frozen: bool) -> io::Result<()> {
        let dir = self.dir(path);
        let file = dir.join("cgroup.freeze");
        if !file.exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", file.display()),
            ));
        }
        write_file(&file, if frozen { "1" } else { "0" })?;
        // cgroup.events says `frozen 1` once every process has stopped.
        let want = u64::from(frozen);
        if wait_for(|| read_key(&dir.join("cgroup.events"), "frozen") == Some(want)) {
            return Ok(());
        }
        if frozen {
            let _ = write_file(&file, "0");
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{}: the processes did not {}",
                dir.display(),
                if frozen { "freeze" } else { "thaw" }
            ),
        ))
    }

    fn frozen(&self, path: &str) -> Option<bool> {
        let state = std::fs::read_to_string(self.dir(path).join("cgroup.freeze")).ok()?;
        Some(state.trim() == "1")
    }

    fn procs(&self, path: &str) -> io::Result<Vec<i32>> {
        procs_below(&self.dir(path))
    }

    fn usage(&self, path: &str) -> io::Result<Usage> {
        let dir = self.dir(path);
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no cgroup {path}"),
            ));
        }
        let (mut block_read, mut block_write) = (0, 0);
        for line in std::fs::read_to_string(dir.join("io.stat"))
            .unwrap_or_default()
            .lines()
        {
            for field in line.split_whitespace().skip(1) {
                match field.split_once('=') {
                    Some(("rbytes", n)) => block_read += n.parse::<u64>().unwrap_or(0),
                    Some(("wbytes", n)) => block_write += n.parse::<u64>().unwrap_or(0),
                    _ => {}
                }
            }
        }
        Ok(Usage {
            memory: read_u64(&dir.join("memory.current")).unwrap_or(0),
            memory_limit: read_u64(&dir.join("memory.max")),
            cpu_ns: read_key(&dir.join("cpu.stat"), "usage_usec").unwrap_or(0) * 1000,
            pids: read_u64(&dir.join("pids.current")).unwrap_or(0),
            block_read,
            block_write,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }
}

#[cfg(test)]
mod fake_tree {
    use super::*;
    use oci_spec::runtime::{LinuxCpu, LinuxMemory, LinuxPidsBuilder, LinuxResourcesBuilder};

    /// The v2 backend against a plain directory standing in for `/sys/fs/cgroup`.
    #[test]
    fn limits_land_in_v2_files() {
        let root = std::env::temp_dir().join(format!("selkie-cg2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("cgroup.controllers"),
            "cpuset cpu io memory pids hugetlb\n",
        )
        .unwrap();
        std::fs::write(root.join("cgroup.subtree_control"), "memory\n").unwrap();
        let v2 = V2::new(root.clone());
        v2.create("/selkie/abc").unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap(),
            "+cpuset +cpu +io +pids"
        );
        let dir = root.join("selkie/abc");
        assert!(dir.is_dir());
        std::fs::write(dir.join("memory.swap.max"), "max").unwrap();
        let mut mem = LinuxMemory::default();
        mem.set_limit(Some(32 << 20));
        mem.set_swap(Some(64 << 20));
        let mut cpu = LinuxCpu::default();
        cpu.set_quota(Some(50_000));
        cpu.set_period(Some(100_000));
        cpu.set_shares(Some(1024));
        cpu.set_cpus(Some("0".into()));
        let mut res = LinuxResourcesBuilder::default()
            .pids(LinuxPidsBuilder::default().limit(-1).build().unwrap())
            .build()
            .unwrap();
        res.set_memory(Some(mem));
        res.set_cpu(Some(cpu));
        v2.apply("/selkie/abc", &res).unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), (32 << 20).to_string());
        assert_eq!(read("memory.swap.max"), (32 << 20).to_string());
        assert_eq!(read("cpu.max"), "50000 100000");
        assert_eq!(read("cpu.weight"), "39");
        assert_eq!(read("cpuset.cpus"), "0");
        assert_eq!(read("pids.max"), "max");
        std::fs::write(dir.join("memory.events"), "oom 1\noom_kill 1\n").unwrap();
        assert!(v2.oom_killed("/selkie/abc"));

        // Freezing: a plain directory has no kernel behind it, so cgroup.events is written by hand.
        std::fs::write(dir.join("cgroup.freeze"), "0").unwrap();
        std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        v2.set_frozen("/selkie/abc", true).unwrap();
        assert_eq!(read("cgroup.freeze"), "1");
        assert_eq!(v2.frozen("/selkie/abc"), Some(true));
        assert_eq!(v2.frozen("/selkie/none"), None);

        std::fs::write(dir.join("memory.current"), "4096\n").unwrap();
        std::fs::write(dir.join("cpu.stat"), "usage_usec 1500\nuser_usec 1000\n").unwrap();
        std::fs::write(dir.join("pids.current"), "3\n").unwrap();
        std::fs::write(
            dir.join("io.stat"),
            "8:0 rbytes=10 wbytes=20 rios=1\n8:16 rbytes=5 wbytes=0\n",
        )
        .unwrap();
        std::fs::write(dir.join("cgroup.procs"), "7\n9\n").unwrap();
        let usage = v2.usage("/selkie/abc").unwrap();
        assert_eq!(
            usage,
            Usage {
                memory: 4096,
                memory_limit: Some(32 << 20),
                cpu_ns: 1_500_000,
                pids: 3,
                block_read: 15,
                block_write: 20,
            }
        );
        assert_eq!(v2.procs("/selkie/abc").unwrap(), vec![7, 9]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
