//! `stats`: a container's resource usage from its cgroup (memory, CPU time, PIDs, block I/O) and its
//! network namespace (bytes received and sent), with Podman's derived figures: CPU % since the previous
//! sample (the first one since the container started), the average of those, memory %.
//!
//! A container that is not running (or paused) reports zeros, as Podman does.

use super::lifecycle;
use super::state::Status;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One sample of one container (Podman's `define.ContainerStats`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerStats {
    pub id: String,
    pub name: String,
    /// CPU use since the previous sample, in percent of one CPU.
    pub cpu_percent: f64,
    /// The average of every sample's `cpu_percent`.
    pub avg_cpu: f64,
    /// CPU time used since the container started, nanoseconds.
    pub cpu_ns: u64,
    /// When this sample was taken, nanoseconds since the epoch.
    pub system_ns: u64,
    pub mem_usage: u64,
    pub mem_limit: u64,
    pub mem_percent: f64,
    pub net_input: u64,
    pub net_output: u64,
    pub block_input: u64,
    pub block_output: u64,
    pub pids: u64,
    pub data_points: u64,
}

impl ContainerStats {
    /// The CPU time as a duration (Podman's `UpTime`).
    pub fn cpu_time(&self) -> Duration {
        Duration::from_nanos(self.cpu_ns)
    }
}

/// Takes samples, remembering each container's previous one for the CPU % between them.
#[derive(Default)]
pub struct Sampler {
    previous: HashMap<String, ContainerStats>,
}

impl Sampler {
    pub fn new() -> Sampler {
        Sampler::default()
    }

    /// The container's usage now.
    pub fn sample(&mut self, engine: &Engine, rec: &ContainerRecord) -> Result<ContainerStats> {
        let st = lifecycle::state_of(engine, &rec.id);
        let mut stats = ContainerStats {
            id: rec.id.clone(),
            name: rec.name.clone(),
            ..Default::default()
        };
        if !matches!(st.status, Status::Running | Status::Paused) {
            return Ok(stats);
        }
        let usage = super::pause::cgroup(&rec.id).usage().map_err(|e| {
            Error::ContainerState(format!(
                "cannot get the stats of container {}: it has no cgroup (--cgroups=disabled?): {e}",
                rec.id
            ))
        })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        // Before the first sample, the container's start stands in for the previous one: the first CPU %
        // is the average since then.
        let started = st
            .started_at
            .and_then(|t| t.timestamp_nanos_opt())
            .map_or(0, |n| n.max(0) as u64);
        let (prev_cpu, prev_system, prev_avg, prev_points) = match self.previous.get(&rec.id) {
            Some(p) => (p.cpu_ns, p.system_ns, p.avg_cpu, p.data_points),
            None => (0, started, 0.0, 0),
        };
        stats.cpu_ns = usage.cpu_ns;
        stats.system_ns = now;
        stats.cpu_percent = cpu_percent(usage.cpu_ns, prev_cpu, now, prev_system);
        stats.avg_cpu = (prev_avg * prev_points as f64 + stats.cpu_percent) / (prev_points + 1) as f64;
        stats.data_points = prev_points + 1;
        stats.mem_usage = usage.memory;
        stats.mem_limit = memory_limit(usage.memory_limit);
        stats.mem_percent = if stats.mem_limit > 0 {
            stats.mem_usage as f64 / stats.mem_limit as f64 * 100.0
        } else {
            0.0
        };
        stats.pids = usage.pids;
        stats.block_input = usage.block_read;
        stats.block_output = usage.block_write;
        (stats.net_input, stats.net_output) = network_io(st.pid);
        self.previous.insert(rec.id.clone(), stats.clone());
        Ok(stats)
    }
}

/// CPU time used between two samples, in percent of the wall-clock time between them.
fn cpu_percent(cpu_ns: u64, prev_cpu_ns: u64, now_ns: u64, prev_ns: u64) -> f64 {
    let cpu = cpu_ns.saturating_sub(prev_cpu_ns) as f64;
    let wall = now_ns.saturating_sub(prev_ns) as f64;
    if cpu > 0.0 && wall > 0.0 {
        cpu / wall * 100.0
    } else {
        0.0
    }
}

/// The cgroup's limit, or the host's memory when it has none (or a larger one), as Podman reports it.
fn memory_limit(cgroup: Option<u64>) -> u64 {
    // SAFETY: sysinfo only writes the struct it is given.
    let physical = unsafe {
        let mut si: libc::sysinfo = std::mem::zeroed();
        if libc::sysinfo(&mut si) == 0 {
            si.totalram as u64 * si.mem_unit.max(1) as u64
        } else {
            0
        }
    };
    match cgroup {
        Some(l) if l > 0 && (physical == 0 || l < physical) => l,
        _ => physical,
    }
}

/// Bytes received and sent by the interfaces of `pid`'s network namespace, except loopback; zero when
/// the container shares the host's network.
fn network_io(pid: i32) -> (u64, u64) {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/net")).ok();
    let theirs = ns(&pid.to_string());
    if theirs.is_none() || theirs == ns("self") {
        return (0, 0);
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    parse_net_dev(&text)
}

/// Sums `/proc/net/dev`'s receive and transmit byte counts over every interface but `lo`.
fn parse_net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0, 0);
    for line in text.lines().skip(2) {
        let Some((iface, counters)) = line.split_once(':') else {
            continue;
        };
        if iface.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = counters
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (rx, tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_of_the_interval() {
        assert_eq!(cpu_percent(50_000_000, 0, 2_000_000_000, 1_000_000_000), 5.0);
        assert_eq!(cpu_percent(10, 10, 2, 1), 0.0);
        assert_eq!(cpu_percent(10, 0, 1, 1), 0.0);
    }

    #[test]
    fn net_dev_without_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:     266       3    0    0    0     0          0         0      680       8    0    0    0     0       0          0
";
        assert_eq!(parse_net_dev(text), (266, 680));
    }

    #[test]
    fn a_limit_above_the_host_memory_is_the_host_memory() {
        let host = memory_limit(None);
        assert!(host > 0);
        assert_eq!(memory_limit(Some(u64::MAX)), host);
        assert_eq!(memory_limit(Some(64 << 20)), 64 << 20);
    }
}
