//! Names between containers: aardvark-dns, started by selkie itself.
//!
//! netavark 1.4 starts aardvark-dns only through `systemd-run`, which needs systemd and D-Bus; so
//! selkie hands netavark its networks with DNS turned off, and keeps aardvark-dns's configuration
//! itself: one file per network in `<runroot>/networks/aardvark-dns/` (first line: the addresses to
//! listen on, the gateways; then `ID IPV4 IPV6 NAMES` per container), and starts the daemon
//! (`aardvark-dns --config DIR -p 53 run`, which daemonizes and writes `aardvark.pid` there) or tells it
//! to reload (SIGHUP). It exits by itself on a reload that finds no network left.

use crate::error::{Error, IoContext, Result};
use std::path::{Path, PathBuf};

const CANDIDATES: [&str; 3] = [
    "/usr/libexec/podman/aardvark-dns",
    "/usr/lib/podman/aardvark-dns",
    "/usr/local/libexec/podman/aardvark-dns",
];

fn binary() -> Option<PathBuf> {
    CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// One container's entry on one network.
pub struct Entry {
    pub network: String,
    pub gateway: String,
    pub id: String,
    pub ip: String,
    pub names: Vec<String>,
}

pub fn config_dir(run_root: &Path) -> PathBuf {
    run_root.join("networks").join("aardvark-dns")
}

/// Adds the entries (replacing the container's older ones), then starts or reloads aardvark-dns.
/// The caller holds the network lock.
pub fn add(run_root: &Path, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let dir = config_dir(run_root);
    std::fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
    for e in entries {
        let path = dir.join(&e.network);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines: Vec<String> = old
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with(&format!("{} ", e.id)))
            .map(str::to_string)
            .collect();
        lines.push(format!("{} {}  {}", e.id, e.ip, e.names.join(",")));
        let text = format!("{}\n{}\n", e.gateway, lines.join("\n"));
        std::fs::write(&path, text).ctx(|| format!("writing {}", path.display()))?;
    }
    reload_or_start(&dir)
}

/// Removes a container's entries from every network; a network left without containers is dropped.
pub fn remove(run_root: &Path, id: &str) -> Result<()> {
    remove_from(run_root, id, None)
}

/// Removes a container's entries from `network` (every network with `None`), as [`remove`].
pub fn remove_from(run_root: &Path, id: &str, network: Option<&str>) -> Result<()> {
    let dir = config_dir(run_root);
    let Ok(files) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut changed = false;
    for f in files.flatten() {
        let path = f.path();
        if path.file_name().is_some_and(|n| n == "aardvark.pid") {
            continue;
        }
        if network.is_some_and(|net| path.file_name().is_none_or(|n| n != net)) {
            continue;
        }
        let Ok(old) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut lines = old.lines();
        let first = lines.next().unwrap_or("").to_string();
        let rest: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        let kept: Vec<&str> = rest
            .iter()
            .copied()
            .filter(|l| !l.starts_with(&format!("{id} ")))
            .collect();
        if kept.len() == rest.len() {
            continue;
        }
        changed = true;
        if kept.is_empty() {
            let _ = std::fs::remove_file(&path);
        } else {
            let _ = std::fs::write(&path, format!("{first}\n{}\n", kept.join("\n")));
        }
    }
    if changed {
        if let Some(pid) = running(&dir) {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP);
        }
    }
    Ok(())
}

/// The daemon's PID when it runs.
fn running(dir: &Path) -> Option<nix::unistd::Pid> {
    let pid: i32 = std::fs::read_to_string(dir.join("aardvark.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let zombie = state
        .rsplit_once(')')
        .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
    (comm.trim() == "aardvark-dns" && !zombie).then(|| nix::unistd::Pid::from_raw(pid))
}

fn reload_or_start(dir: &Path) -> Result<()> {
    if let Some(pid) = running(dir) {
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP)
            .map_err(|e| Error::Runtime(format!("reloading aardvark-dns: {e}")))?;
        return Ok(());
    }
    let bin = binary().ok_or_else(|| {
        Error::Runtime(
            "aardvark-dns is not installed: a network with DNS needs it (install aardvark-dns)".into(),
        )
    })?;
    let mut cmd = std::process::Command::new(&bin);
    cmd.arg("--config")
        .arg(dir)
        .args(["-p", "53", "run"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    super::netavark::close_inherited(&mut cmd);
    let status = cmd
        .status()
        .map_err(|e| Error::Runtime(format!("starting {}: {e}", bin.display())))?;
    if !status.success() {
        return Err(Error::Runtime(format!("starting aardvark-dns failed: {status}")));
    }
    Ok(())
}
