//! Rootless networking with slirp4netns, as Podman 4 does it: a rootless container on the default
//! (private) network gets a `tap0` device in its network namespace, served by a `slirp4netns`
//! process in user mode (outbound connectivity through 10.0.2.2, DNS at 10.0.2.3, the container at
//! 10.0.2.100), and `-p HOST:CTR` is forwarded by slirp4netns itself (`add_hostfwd` on its API socket).
//!
//! The monitor starts slirp4netns from its `before_exec` callback, once the container's network
//! namespace exists and before the workload runs, and waits until the device is configured. It lives
//! as long as the monitor: it exits when the monitor's end of its `--exit-fd` pipe closes. Opening
//! `/dev/net/tun` needs that device to be usable by the user (mode 0666, as most distributions ship it).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::container::config::{CreateConfig, NetworkMode};
use crate::error::{Error, Result};

const SLIRP: &str = "slirp4netns";
/// How long slirp4netns may take to configure the device.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// One `-p/--publish` forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: String,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

/// Parses `[[IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]` (Podman's `-p`; a host port is required here).
pub fn parse_publish(s: &str) -> Result<PortMapping> {
    let bad = || {
        invalid(format!(
            "invalid -p/--publish {s:?}: expected [IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]"
        ))
    };
    let (spec, proto) = match s.rsplit_once('/') {
        Some((spec, proto)) if proto == "tcp" || proto == "udp" => (spec, proto),
        Some(_) => return Err(bad()),
        None => (s, "tcp"),
    };
    let (rest, ctr) = spec.rsplit_once(':').ok_or_else(bad)?;
    let (ip, host) = match rest.rsplit_once(':') {
        Some((ip, host)) => (ip.trim_start_matches('[').trim_end_matches(']'), host),
        None => ("", rest),
    };
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(bad());
    }
    Ok(PortMapping {
        host_ip: ip.to_string(),
        host_port: port(host)?,
        container_port: port(ctr)?,
        proto: proto.to_string(),
    })
}

/// Checks `-p` at create: it needs the default network of a rootless container.
pub fn check_publish(cfg: &CreateConfig) -> Result<()> {
    if cfg.publish.is_empty() {
        return Ok(());
    }
    if !super::is_rootless() {
        // Root: bridge networks, checked by `crate::network::check_create`.
        return Ok(());
    }
    for p in &cfg.publish {
        parse_publish(p)?;
    }
    if cfg.network != NetworkMode::Private || cfg.runtime.is_some() {
        return Err(invalid(
            "-p/--publish needs the default network (not --network none, host, ns: or container:) and the built-in runtime",
        ));
    }
    Ok(())
}

/// slirp4netns's DNS forwarder, first in the resolver configuration of a container it serves (as Podman).
const DNS: &str = "10.0.2.3";

/// Whether `cfg`'s container will be served by slirp4netns.
fn served(cfg: &CreateConfig) -> bool {
    super::is_rootless()
        && cfg.network == NetworkMode::Private
        && cfg.runtime.is_none()
        && (!cfg.publish.is_empty() || which(SLIRP).is_some())
}

/// `resolv_conf` with slirp4netns's DNS forwarder first when the container is served by it.
pub fn with_dns(cfg: &CreateConfig, resolv_conf: String) -> String {
    if served(cfg) {
        format!("nameserver {DNS}\n{resolv_conf}")
    } else {
        resolv_conf
    }
}

/// What to start for a container, decided before its creation; `None` when it gets no slirp4netns.
#[derive(Debug)]
pub struct SlirpPlan {
    api_socket: PathBuf,
    ports: Vec<PortMapping>,
}

impl SlirpPlan {
    /// A plan for a rootless container `id` on the default network; its API socket lives in `run_root`
    /// (a short path: a socket's path has at most 107 bytes).
    pub fn for_container(cfg: &CreateConfig, run_root: &Path, id: &str) -> Result<Option<SlirpPlan>> {
        if !served(cfg) {
            // Loopback only (also when slirp4netns is not installed and no port is published).
            return Ok(None);
        }
        let ports = cfg
            .publish
            .iter()
            .map(|p| parse_publish(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(SlirpPlan {
            api_socket: run_root.join(format!("slirp4netns-{}.sock", &id[..id.len().min(12)])),
            ports,
        }))
    }

    /// Starts slirp4netns for the network namespace of `pid`, waits until it is ready, and forwards the
    /// ports.
    pub fn start(&self, pid: i32) -> Result<Slirp> {
        let _ = std::fs::remove_file(&self.api_socket);
        let cloexec = nix::fcntl::OFlag::O_CLOEXEC;
        let (exit_r, exit_w) = nix::unistd::pipe2(cloexec).map_err(errno("pipe"))?;
        let (ready_r, ready_w) = nix::unistd::pipe2(cloexec).map_err(errno("pipe"))?;
        let (exit_fd, ready_fd) = (exit_r.as_raw_fd(), ready_w.as_raw_fd());
        let mut cmd = Command::new(SLIRP);
        cmd.args([
            "--configure",
            "--mtu=65520",
            "--disable-host-loopback",
            "--exit-fd=3",
            "--ready-fd=4",
            "--api-socket",
        ])
        .arg(&self.api_socket)
        .arg(pid.to_string())
        .arg("tap0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        // SAFETY: only dup2 (async-signal-safe) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                for (from, to) in [(exit_fd, 3), (ready_fd, 4)] {
                    if libc::dup2(from, to) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                // Nothing else of the monitor's (the container's stdio pipes) stays open in slirp4netns.
                libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| Error::Io {
            context: format!("starting {SLIRP} for rootless networking (install the slirp4netns package)"),
            source: e,
        })?;
        drop((exit_r, ready_w));
        if let Err(e) = wait_ready(&ready_r) {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut s) = child.stderr.take() {
                let _ = s.read_to_string(&mut stderr);
            }
            return Err(Error::Runtime(format!(
                "{SLIRP} failed ({e}): {} (is /dev/net/tun usable by you? it must be mode 0666)",
                stderr.trim()
            )));
        }
        let slirp = Slirp {
            child,
            socket: self.api_socket.clone(),
            _exit: exit_w,
        };
        for p in &self.ports {
            add_hostfwd(&self.api_socket, p)?;
        }
        Ok(slirp)
    }
}

/// A running slirp4netns; it exits when this is dropped (its exit pipe closes) and is reaped then.
#[derive(Debug)]
pub struct Slirp {
    child: Child,
    socket: PathBuf,
    _exit: OwnedFd,
}

impl Drop for Slirp {
    fn drop(&mut self) {
        // The exit pipe closes only after this body: stop it now and reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn errno(context: &'static str) -> impl FnOnce(nix::errno::Errno) -> Error {
    move |e| Error::Io {
        context: context.to_string(),
        source: e.into(),
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/bin".into(), "/usr/local/bin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn wait_ready(fd: &OwnedFd) -> std::result::Result<(), String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(fd), PollFlags::POLLIN)];
    let timeout = PollTimeout::try_from(READY_TIMEOUT.as_millis() as i32).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, timeout) {
        Ok(0) => return Err("not ready in time".into()),
        Ok(_) => {}
        Err(e) => return Err(e.to_string()),
    }
    let mut b = [0u8; 1];
    match std::fs::File::from(fd.try_clone().map_err(|e| e.to_string())?).read(&mut b) {
        Ok(1) if b[0] == b'1' => Ok(()),
        _ => Err("exited before it was ready".into()),
    }
}

/// Asks slirp4netns to forward `p` (`add_hostfwd` on its API socket).
fn add_hostfwd(socket: &Path, p: &PortMapping) -> Result<()> {
    let request = serde_json::json!({
        "execute": "add_hostfwd",
        "arguments": {
            "proto": p.proto,
            "host_addr": if p.host_ip.is_empty() { "0.0.0.0" } else { p.host_ip.as_str() },
            "host_port": p.host_port,
            "guest_port": p.container_port,
        }
    });
    let fail = |msg: String| Error::Runtime(format!("publishing port {}: {msg}", p.host_port));
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(|e| fail(e.to_string()))?;
    stream
        .write_all(request.to_string().as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| fail(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&reply).map_err(|_| fail(format!("reply {reply:?}")))?;
    if let Some(err) = v.get("error") {
        return Err(fail(
            err.get("desc")
                .and_then(|d| d.as_str())
                .unwrap_or("refused")
                .to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs() {
        let p = parse_publish("127.0.0.1:8080:80").unwrap();
        assert_eq!(
            (
                p.host_ip.as_str(),
                p.host_port,
                p.container_port,
                p.proto.as_str()
            ),
            ("127.0.0.1", 8080, 80, "tcp")
        );
        let p = parse_publish("53:53/udp").unwrap();
        assert_eq!(
            (p.host_ip.as_str(), p.host_port, p.proto.as_str()),
            ("", 53, "udp")
        );
        assert!(parse_publish("80").is_err());
        assert!(parse_publish("x:1:2").is_err());
        assert!(parse_publish("1:2/sctp").is_err());
        assert!(parse_publish("0:80").is_err());
    }
}
