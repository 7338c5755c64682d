//! A cgroup per container, under a `selkie` parent: created and limited by the monitor between the
//! container's clone and its setup (the runtime's `before_exec` callback), read for an OOM kill after
//! it exits, and removed with it.
//!
//! Two backends behind [`Backend`]: [`v1::V1`] for v1 and hybrid hosts (one directory per mounted
//! hierarchy: `/sys/fs/cgroup/<controller>/selkie/<id>`; the hybrid `unified` mount has no controllers
//! and is left alone), and [`v2::V2`] for a pure `cgroup2` host (`/sys/fs/cgroup/selkie/<id>`, with
//! the controllers enabled in the parents' `cgroup.subtree_control`). Limits come from the OCI spec's
//! `linux.resources`, so the built-in runtime and an external one (runc) see the same values.

pub mod devices_bpf;
pub mod v1;
pub mod v2;

use oci_spec::runtime::LinuxResources;
use std::io;
use std::path::{Path, PathBuf};

/// Where the cgroup filesystems are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One way of managing cgroups. `path` is the cgroup's path relative to a hierarchy's root
/// (`/selkie/<id>`, the spec's `linux.cgroupsPath`).
pub trait Backend {
    /// Creates the cgroup (and its missing parents).
    fn create(&self, path: &str) -> io::Result<()>;
    /// Writes the limits of `resources` into the cgroup.
    fn apply(&self, path: &str, resources: &LinuxResources) -> io::Result<()>;
    /// Moves process `pid` into the cgroup.
    fn add_process(&self, path: &str, pid: i32) -> io::Result<()>;
    /// Kills what is still in the cgroup and removes it; a cgroup that does not exist is not an error.
    fn remove(&self, path: &str) -> io::Result<()>;
    /// Whether the kernel OOM-killed a process of the cgroup.
    fn oom_killed(&self, path: &str) -> bool;
    /// The directories that make up the cgroup (one per hierarchy on v1).
    fn dirs(&self, path: &str) -> Vec<PathBuf>;
    /// Freezes (`pause`) or thaws (`unpause`) every process of the cgroup, and returns once the kernel
    /// reports it done (a freeze that does not complete is undone and is an error).
    fn set_frozen(&self, path: &str, frozen: bool) -> io::Result<()>;
    /// Whether the cgroup is frozen or freezing; `None` when it (or the freezer) does not exist.
    fn frozen(&self, path: &str) -> Option<bool>;
    /// The PIDs of the processes in the cgroup and the cgroups below it.
    fn procs(&self, path: &str) -> io::Result<Vec<i32>>;
    /// What the cgroup's processes have used; an error when the cgroup does not exist.
    fn usage(&self, path: &str) -> io::Result<Usage>;
}

/// A cgroup's resource usage, as `stats` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Memory charged to the cgroup in bytes (v1 `memory.usage_in_bytes`, v2 `memory.current`).
    pub memory: u64,
    /// The cgroup's memory limit in bytes; `None` when unlimited.
    pub memory_limit: Option<u64>,
    /// CPU time in nanoseconds (v1 `cpuacct.usage`, v2 `usage_usec` of `cpu.stat`).
    pub cpu_ns: u64,
    /// Processes and threads (`pids.current`).
    pub pids: u64,
    /// Bytes read from and written to block devices.
    pub block_read: u64,
    pub block_write: u64,
}

/// The backend for this host: v2 when `/sys/fs/cgroup` is a `cgroup2` mount, else v1 (or hybrid).
pub fn detect() -> Box<dyn Backend> {
    if Path::new(CGROUP_ROOT).join("cgroup.controllers").exists() {
        Box::new(v2::V2::new(PathBuf::from(CGROUP_ROOT)))
    } else {
        Box::new(v1::V1::from_mountinfo())
    }
}

/// The cgroup path of container `id`.
pub fn container_path(id: &str) -> String {
    format!("/selkie/{id}")
}

/// A container's cgroup: created, limited and joined in one step, removed at the end.
pub struct ContainerCgroup {
    backend: Box<dyn Backend>,
    path: String,
}

impl ContainerCgroup {
    /// The cgroup at `path` (relative to each hierarchy's root) on this host's backend.
    pub fn new(path: &str) -> ContainerCgroup {
        ContainerCgroup {
            backend: detect(),
            path: path.to_string(),
        }
    }

    /// Creates the cgroup, applies `resources` and moves `pid` into it; removes it again on failure.
    pub fn setup(&self, pid: i32, resources: Option<&LinuxResources>) -> io::Result<()> {
        let r = (|| {
            self.backend.create(&self.path)?;
            if let Some(res) = resources {
                self.backend.apply(&self.path, res)?;
            }
            self.backend.add_process(&self.path, pid)
        })();
        if r.is_err() {
            let _ = self.backend.remove(&self.path);
        }
        r
    }

    pub fn oom_killed(&self) -> bool {
        self.backend.oom_killed(&self.path)
    }

    /// Freezes (`true`) or thaws the cgroup's processes.
    pub fn set_frozen(&self, frozen: bool) -> io::Result<()> {
        self.backend.set_frozen(&self.path, frozen)
    }

    /// Whether the cgroup is frozen; `None` when there is no such cgroup or no freezer.
    pub fn frozen(&self) -> Option<bool> {
        self.backend.frozen(&self.path)
    }

    /// The processes of the cgroup.
    pub fn procs(&self) -> io::Result<Vec<i32>> {
        self.backend.procs(&self.path)
    }

    /// The cgroup's resource usage.
    pub fn usage(&self) -> io::Result<Usage> {
        self.backend.usage(&self.path)
    }

    /// Whether the cgroup exists (in any hierarchy).
    pub fn exists(&self) -> bool {
        self.backend.dirs(&self.path).iter().any(|d| d.is_dir())
    }

    pub fn remove(&self) -> io::Result<()> {
        self.backend.remove(&self.path)
    }
}

/// Removes container `id`'s cgroup if it exists (`rm`).
pub fn remove_container(id: &str) {
    if !crate::rootless::is_rootless() {
        let _ = detect().remove(&container_path(id));
    }
}

/// Moves `pid` into container `id`'s cgroup where it exists (`exec`); none (`--cgroups=disabled`,
/// rootless) is not an error.
pub fn join_container(id: &str, pid: i32) -> io::Result<()> {
    if crate::rootless::is_rootless() {
        return Ok(());
    }
    for dir in detect().dirs(&container_path(id)) {
        if dir.is_dir() {
            write_file(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
    }
    Ok(())
}

pub(crate) fn io_context(e: io::Error, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Writes `value` to a cgroup control file, naming the file on failure.
pub(crate) fn write_file(path: &Path, value: &str) -> io::Result<()> {
    std::fs::write(path, value).map_err(|e| io_context(e, format!("writing {value:?} to {}", path.display())))
}

/// Sends SIGKILL to every process listed in `dir`'s `cgroup.procs`.
pub(crate) fn kill_procs(dir: &Path) {
    if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Sends SIGKILL to every process listed in `procs` (a `cgroup.procs` file) and removes `dir`, retrying
/// while the killed processes finish dying. A missing directory is success.
pub(crate) fn kill_and_rmdir(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut last = None;
    for attempt in 0..100 {
        kill_procs(dir);
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(if attempt < 10 {
            5
        } else {
            20
        }));
    }
    Err(io_context(
        last.expect("an error was recorded"),
        format!("removing cgroup {}", dir.display()),
    ))
}

/// The PIDs in `cgroup.procs` of `dir` and of every cgroup below it.
pub(crate) fn procs_below(dir: &Path) -> io::Result<Vec<i32>> {
    let text = std::fs::read_to_string(dir.join("cgroup.procs"))
        .map_err(|e| io_context(e, format!("reading {}", dir.join("cgroup.procs").display())))?;
    let mut pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                pids.extend(procs_below(&e.path()).unwrap_or_default());
            }
        }
    }
    Ok(pids)
}

/// A number from a one-value cgroup file (`pids.current`); `None` when missing or `max`.
pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Polls `done` for up to about five seconds.
pub(crate) fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    for attempt in 0..500 {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(if attempt < 20 {
            1
        } else {
            10
        }));
    }
    done()
}

/// Reads `key N` from a flat-keyed cgroup file (`memory.events`, `memory.oom_control`).
pub(crate) fn read_key(path: &Path, key: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Podman's memory sizes (`units.RAMInBytes`): a number with an optional binary unit `b`, `k`, `m`,
/// `g`, `t`, `p` (any case, optionally followed by `b` or `ib`): `64m`, `1.5g`, `512kb`, `1GiB`.
pub fn parse_memory(s: &str) -> std::result::Result<i64, String> {
    let bad = || format!("invalid size: '{s}'");
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let mut chars = unit.chars();
    let mult: f64 = match chars.next() {
        None => 1.0,
        Some('b') if unit == "b" => 1.0,
        Some(c) => {
            let m = match c {
                'k' => 1u64 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                't' => 1 << 40,
                'p' => 1 << 50,
                _ => return Err(bad()),
            };
            if !matches!(chars.as_str(), "" | "b" | "ib" | "i") {
                return Err(bad());
            }
            m as f64
        }
    };
    Ok((num * mult) as i64)
}

/// `--memory`: at least 6 MiB, as Podman requires.
pub fn parse_memory_limit(s: &str) -> std::result::Result<i64, String> {
    let v = parse_memory(s)?;
    if v < 6 * 1024 * 1024 {
        return Err("minimum memory limit allowed is 6MB".into());
    }
    Ok(v)
}

/// `--memory-swap`: `-1` is unlimited; else memory plus swap, not below `memory`.
pub fn parse_memory_swap(s: &str, memory: Option<i64>) -> std::result::Result<i64, String> {
    if s.trim() == "-1" {
        return Ok(-1);
    }
    let v = parse_memory(s)?;
    match memory {
        None => Err("you must provide a memory limit when setting a memory swap limit".into()),
        Some(m) if v < m => {
            Err("minimum memoryswap limit should be larger than memory limit, see usage".into())
        }
        Some(_) => Ok(v),
    }
}

/// `--cpus`: CPUs as a decimal, kept as nano-CPUs (Docker's `NanoCpus`).
pub fn parse_cpus(s: &str) -> std::result::Result<u64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid argument {s:?} for --cpus"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("invalid argument {s:?} for --cpus"));
    }
    Ok((v * 1e9).round() as u64)
}

/// The CFS period every `--cpus` limit uses.
pub const CFS_PERIOD: u64 = 100_000;

/// The CFS quota for `nano_cpus` at [`CFS_PERIOD`].
pub fn cfs_quota(nano_cpus: u64) -> i64 {
    (nano_cpus as u128 * CFS_PERIOD as u128 / 1_000_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("64m"), Ok(64 << 20));
        assert_eq!(parse_memory("64MB"), Ok(64 << 20));
        assert_eq!(parse_memory("1GiB"), Ok(1 << 30));
        assert_eq!(parse_memory("1.5g"), Ok(3 << 29));
        assert_eq!(parse_memory("4096"), Ok(4096));
        assert_eq!(parse_memory("10b"), Ok(10));
        assert!(parse_memory("ten").is_err());
        assert!(parse_memory("10x").is_err());
        assert!(parse_memory("10mm").is_err());
        assert!(parse_memory_limit("1m").is_err());
        assert_eq!(parse_memory_swap("-1", None), Ok(-1));
        assert!(parse_memory_swap("64m", None).is_err());
        assert!(parse_memory_swap("16m", Some(32 << 20)).is_err());
        assert_eq!(parse_memory_swap("64m", Some(32 << 20)), Ok(64 << 20));
    }

    #[test]
    fn cpus() {
        assert_eq!(parse_cpus("0.5"), Ok(500_000_000));
        assert_eq!(cfs_quota(parse_cpus("0.5").unwrap()), 50_000);
        assert_eq!(cfs_quota(parse_cpus("2").unwrap()), 200_000);
        assert!(parse_cpus("-1").is_err());
        assert!(parse_cpus("x").is_err());
    }

    #[test]
    fn flat_keys() {
        let dir = std::env::temp_dir().join(format!("selkie-cg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("memory.events");
        std::fs::write(&f, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
        assert_eq!(read_key(&f, "oom_kill"), Some(1));
        assert_eq!(read_key(&f, "oom"), Some(1));
        assert_eq!(read_key(&f, "none"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
