//! Running a container's bundle with an external OCI runtime (`--runtime runc|crun|PATH`), as Podman does.
//!
//! The monitor first moves into a private mount namespace of its own and mounts the overlay there, so the
//! runtime sees the root filesystem while the host never does; the mount disappears with the monitor.
//! `RUNTIME run` is the monitor's child and exits with the container's status; the container's own PID
//! comes from the runtime's pid file.

use super::monitor::StartError;
use super::paths::ContainerPaths;
use crate::error::Error;
use crate::runtime::OverlayMount;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::unistd::Pid;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Finds the runtime: a path, or a name on `$PATH` (`runc`, `crun`).
pub fn resolve(name: &str) -> Result<PathBuf, Error> {
    if name.contains('/') {
        return Ok(PathBuf::from(name));
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/bin".into(), "/usr/sbin".into(), "/usr/local/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::InvalidInput(format!("OCI runtime {name:?} not found in $PATH")))
}

fn failed(e: impl std::fmt::Display, what: &str) -> StartError {
    (125, Error::Runtime(format!("{what}: {e}")))
}

/// Starts `RUNTIME run` on the container's bundle; returns (the runtime's PID, the container's PID).
pub fn spawn(
    name: &str,
    paths: &ContainerPaths,
    id: &str,
    overlay: Option<&OverlayMount>,
    stdio: [RawFd; 3],
    preserve: &[RawFd],
) -> Result<(Pid, Pid), StartError> {
    let runtime = resolve(name).map_err(|e| (125, e))?;
    if let Some(o) = overlay {
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| failed(e, "creating a mount namespace"))?;
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| failed(e, "making / private"))?;
        let lower: Vec<String> = o.lower.iter().map(|p| p.display().to_string()).collect();
        let data = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.join(":"),
            o.upper.display(),
            o.work.display()
        );
        mount(
            Some("overlay"),
            &paths.merged(),
            Some("overlay"),
            MsFlags::empty(),
            Some(data.as_str()),
        )
        .map_err(|e| failed(e, "mounting the overlay"))?;
    }
    let state_root = paths.dir.join("runtime");
    let pid_file = paths.dir.join("runtime.pid");
    let log_file = paths.dir.join("runtime.log");
    let _ = std::fs::remove_file(&pid_file);
    let mut cmd = std::process::Command::new(&runtime);
    cmd.arg("--root")
        .arg(&state_root)
        .arg("--log")
        .arg(&log_file)
        .args(["--log-format", "json"]);
    cmd.arg("run")
        .arg("--bundle")
        .arg(&paths.dir)
        .arg("--pid-file")
        .arg(&pid_file);
    if !preserve.is_empty() {
        cmd.arg("--preserve-fds").arg(preserve.len().to_string());
    }
    cmd.arg(id);
    let fds = stdio;
    // SAFETY: only dup2 between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for (target, fd) in fds.iter().enumerate() {
                if libc::dup2(*fd, target as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(e, &format!("starting {}", runtime.display())))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(pid) = read_pid(&pid_file) {
            return Ok((Pid::from_raw(child.id() as i32), Pid::from_raw(pid)));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let msg = last_error(&log_file)
                .unwrap_or_else(|| format!("{} exited with {status}", runtime.display()));
            return Err((exit_code_for(&msg), Error::Runtime(format!("{name}: {msg}"))));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(failed("timed out waiting for the container to start", name));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The last `msg` of the runtime's JSON log: why it failed.
fn last_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["level"] == "error")
        .find_map(|v| v["msg"].as_str().map(str::to_string))
}

/// Podman's mapping of runtime errors to exit codes.
fn exit_code_for(msg: &str) -> i32 {
    let m = msg.to_ascii_lowercase();
    if m.contains("permission denied") || m.contains("is a directory") {
        126
    } else if m.contains("no such file or directory") || m.contains("not found") {
        127
    } else {
        125
    }
}
