//! Running netavark as Podman does: `netavark --config DIR --rootless false setup|teardown NETNS` with
//! the network options on standard input. netavark creates the bridge, the veth pair, the addresses and
//! routes, and the firewall rules (masquerading and `-p`'s DNAT); selkie allocates the addresses.

use super::ports::PortMapping;
use super::store::Network;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CANDIDATES: [&str; 3] = [
    "/usr/libexec/podman/netavark",
    "/usr/lib/podman/netavark",
    "/usr/local/libexec/podman/netavark",
];

/// Where netavark is (Podman's `helper_binaries_dir`), or `$NETAVARK`.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETAVARK") {
        return Some(PathBuf::from(p));
    }
    CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// One network of a container in the options (`PerNetworkOptions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerNetwork {
    pub static_ips: Vec<String>,
    pub aliases: Vec<String>,
    pub interface_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_mac: Option<String>,
}

/// netavark's `NetworkOptions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub container_id: String,
    pub container_name: String,
    pub port_mappings: Vec<PortMapping>,
    pub networks: BTreeMap<String, PerNetwork>,
    pub network_info: BTreeMap<String, Network>,
}

fn run(config_dir: &Path, verb: &str, netns: &Path, opts: &Options) -> Result<String> {
    let bin = binary()
        .ok_or_else(|| Error::Runtime("netavark is not installed (install the netavark package)".into()))?;
    let _ = std::fs::create_dir_all(config_dir);
    let mut cmd = Command::new(&bin);
    cmd.arg("--config")
        .arg(config_dir)
        .args(["--rootless", "false", verb])
        .arg(netns)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    close_inherited(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Runtime(format!("running {}: {e}", bin.display())))?;
    let input = serde_json::to_vec(opts).expect("options serialize");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Runtime(format!("running {}: {e}", bin.display())))?;
    if !out.status.success() {
        // netavark reports errors as `{"error": "..."}` on stdout, or as text on stderr.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let msg = serde_json::from_str::<serde_json::Value>(&stdout)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{}{}", stdout.trim(), String::from_utf8_lossy(&out.stderr).trim()));
        return Err(Error::Runtime(format!("netavark {verb}: {msg}")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `netavark setup`: the container's interfaces and rules; returns netavark's status report (JSON).
pub fn setup(config_dir: &Path, netns: &Path, opts: &Options) -> Result<serde_json::Value> {
    let out = run(config_dir, "setup", netns, opts)?;
    serde_json::from_str(&out).map_err(|e| Error::Runtime(format!("netavark setup printed {out:?}: {e}")))
}

/// `netavark teardown`: removes what `setup` made for the same options.
pub fn teardown(config_dir: &Path, netns: &Path, opts: &Options) -> Result<()> {
    run(config_dir, "teardown", netns, opts).map(|_| ())
}

/// Closes, in the child, every descriptor above 2: the monitor holds descriptors meant for the container
/// and its report pipe, which a helper (above all a daemon such as aardvark-dns) must not keep open.
pub(super) fn close_inherited(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: close_range is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
}
