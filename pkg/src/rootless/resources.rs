//! What a rootless container cannot have: cgroup resource limits. selkie gives rootless containers no
//! cgroup (a cgroup v1 host cannot delegate one to a user, and selkie does not ask systemd for a
//! delegated v2 scope), so a limit would silently not apply: it is refused instead, naming the flags.

use crate::container::config::CreateConfig;
use crate::error::{Error, Result};

/// The resource flags set in `cfg`, by their command-line names.
pub fn requested_limits(cfg: &CreateConfig) -> Vec<&'static str> {
    [
        ("--memory", cfg.memory.is_some()),
        ("--memory-swap", cfg.memory_swap.is_some()),
        ("--cpus", cfg.nano_cpus.is_some()),
        ("--cpu-shares", cfg.cpu_shares.is_some()),
        ("--cpuset-cpus", cfg.cpuset_cpus.is_some()),
        ("--pids-limit", cfg.pids_limit.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect()
}

/// Refuses resource limits for a rootless container (see the module documentation).
pub fn check_limits(cfg: &CreateConfig) -> Result<()> {
    if !super::is_rootless() {
        return Ok(());
    }
    let flags = requested_limits(cfg);
    if flags.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidInput(format!(
        "{} need a cgroup, and rootless containers get none on this host (cgroup {} without delegation): \
         run as root, or drop the flag",
        flags.join(", "),
        crate::system::cgroup_version()
    )))
}
