//! sd_notify: telling systemd (or whoever set `$NOTIFY_SOCKET`) that the container runs.
//!
//! `--sdnotify=conmon` (the default): the monitor sends `MAINPID=<container's init on the host>` and
//! `READY=1` once the container runs. `container`: the container gets a socket of its own (bind-mounted at
//! /run/notify/notify.sock, `$NOTIFY_SOCKET` set), and the monitor forwards what it sends with MAINPID
//! rewritten to the host PID. `ignore`: nothing is sent and nothing passed. `healthy` needs health checks,
//! which selkie does not have yet: a clear error.

use crate::error::{Error, Result};
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};

/// Where the container's own notify socket is, inside the container.
pub const CONTAINER_SOCKET: &str = "/run/notify/notify.sock";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Conmon,
    Container,
    Ignore,
    Healthy,
}

impl Mode {
    pub fn of(sdnotify: Option<&str>) -> Result<Mode> {
        match sdnotify.unwrap_or("conmon") {
            "conmon" => Ok(Mode::Conmon),
            "container" => Ok(Mode::Container),
            "ignore" => Ok(Mode::Ignore),
            "healthy" => Ok(Mode::Healthy),
            other => Err(Error::InvalidInput(format!(
                "invalid --sdnotify value {other:?}: use conmon, container, ignore or healthy"
            ))),
        }
    }
}

/// `$NOTIFY_SOCKET` of this process, if any.
pub fn socket() -> Option<String> {
    std::env::var("NOTIFY_SOCKET").ok().filter(|s| !s.is_empty())
}

/// The host directory holding the container's own socket (bind-mounted at /run/notify). It lives under
/// the run root and the short ID because a socket path must fit in 108 bytes.
pub fn container_dir(run_root: &Path, id: &str) -> PathBuf {
    run_root.join("notify").join(&id[..12.min(id.len())])
}

fn address(socket: &str) -> std::io::Result<SocketAddr> {
    match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())
        }
        None => SocketAddr::from_pathname(socket),
    }
}

/// Sends one datagram to `socket` (a path, or `@name` for the abstract namespace).
pub fn send(socket: &str, message: &str) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    sock.send_to_addr(message.as_bytes(), &address(socket)?)?;
    Ok(())
}

/// A container's message with MAINPID naming its init on the host (added to READY=1 when missing).
pub fn rewrite(message: &str, host_pid: i32) -> String {
    let mut lines: Vec<String> = message
        .lines()
        .filter(|l| !l.starts_with("MAINPID="))
        .map(str::to_string)
        .collect();
    if message.lines().any(|l| l.starts_with("MAINPID=")) || lines.iter().any(|l| l == "READY=1") {
        lines.insert(0, format!("MAINPID={host_pid}"));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainpid_is_rewritten_or_added() {
        assert_eq!(rewrite("READY=1\n", 42), "MAINPID=42\nREADY=1\n");
        assert_eq!(rewrite("MAINPID=1\nSTATUS=ok", 42), "MAINPID=42\nSTATUS=ok\n");
        assert_eq!(rewrite("STATUS=starting", 42), "STATUS=starting\n");
    }

    #[test]
    fn sends_to_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        send(path.to_str().unwrap(), "READY=1\n").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
    }
}
