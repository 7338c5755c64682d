//! A container's run state (`state.json` in its directory): status, PIDs, times and exit code.
//!
//! Written only by the process that owns the transition (the monitor for running/exited, `create` for
//! created), always atomically. Readers check liveness themselves: a container whose monitor was killed
//! is reported as exited, never as running forever. Paused is never written: a running container whose
//! cgroup is frozen (`pause`) reads as paused, so the freezer is the one record of it.

use chrono::{DateTime, Utc};
use image_store::atomic::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    Stopping,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopping => "stopping",
            Status::Exited => "exited",
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    /// Host PID of the container's init, while it runs.
    #[serde(default)]
    pub pid: i32,
    /// The init's start time (clock ticks after boot, /proc/PID/stat field 22): tells a reused PID apart.
    #[serde(default)]
    pub pid_start: u64,
    #[serde(default)]
    pub monitor_pid: i32,
    #[serde(default)]
    pub monitor_start: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// Why the last start failed, or why the exit code is unknown.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub oom_killed: bool,
    #[serde(default)]
    pub restart_count: u32,
}

impl ContainerState {
    pub fn is_running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Paused | Status::Stopping)
    }
}

pub fn state_path(container_dir: &Path) -> PathBuf {
    container_dir.join("state.json")
}

/// The recorded state, corrected for processes that died without recording their end.
pub fn read(container_dir: &Path) -> ContainerState {
    let mut st: ContainerState = std::fs::read(state_path(container_dir))
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or_default();
    if st.is_running() && !alive(st.pid, st.pid_start) {
        // Only the monitor records exits; if it is gone too, nobody will, so report what we know.
        if !alive(st.monitor_pid, st.monitor_start) {
            st.status = Status::Exited;
            st.error
                .get_or_insert_with(|| "the container's monitor exited before recording its exit".into());
        }
    }
    if st.status == Status::Running && frozen(container_dir) {
        st.status = Status::Paused;
    }
    st
}

/// Whether the cgroup of the container kept in `container_dir` (named by its ID) is frozen.
fn frozen(container_dir: &Path) -> bool {
    container_dir
        .file_name()
        .and_then(|id| id.to_str())
        .is_some_and(|id| super::pause::cgroup(id).frozen() == Some(true))
}

pub fn write(container_dir: &Path, st: &ContainerState) -> std::io::Result<()> {
    write_atomic(
        &state_path(container_dir),
        &serde_json::to_vec(st).expect("state serialises"),
    )
}

/// `/proc/PID/stat` start time, or `None` when the process does not exist or is a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Is `pid` the same live process that started at `start`?
pub fn alive(pid: i32, start: u64) -> bool {
    start_time(pid).is_some_and(|s| start == 0 || s == start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id() as i32;
        let t = start_time(me).unwrap();
        assert!(alive(me, t));
        assert!(!alive(me, t + 1));
        assert!(!alive(0, 0));
    }

    #[test]
    fn a_running_state_without_processes_reads_as_exited() {
        let dir = tempfile::tempdir().unwrap();
        let st = ContainerState {
            status: Status::Running,
            pid: i32::MAX - 1,
            ..Default::default()
        };
        write(dir.path(), &st).unwrap();
        assert_eq!(read(dir.path()).status, Status::Exited);
    }
}
