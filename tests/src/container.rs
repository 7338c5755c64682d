//! Helpers for the container tests: a store with the busybox image loaded that removes its containers
//! when dropped, polling, `/proc` probes, and running the binary under a set loginuid.

use std::fs;
use std::ops::Deref;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::image::Image;
use crate::rootfs::busybox_image;
use crate::selkie::{Output, Selkie};

/// The reference the busybox image is loaded under.
pub const BUSYBOX: &str = "busybox:latest";

/// A [`Selkie`] store with one image loaded, which force-removes every container (and kills any process
/// still recorded for one) when dropped, so no test leaves a container running.
pub struct ContainerStore {
    s: Selkie,
}

impl Default for ContainerStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ContainerStore {
    /// A fresh store with [`busybox_image`] loaded as [`BUSYBOX`].
    pub fn new() -> Self {
        Self::with_image(busybox_image(), &[BUSYBOX])
    }

    /// A fresh store with `image` loaded under `tags`.
    pub fn with_image(image: &Image, tags: &[&str]) -> Self {
        let s = Selkie::new();
        if crate::selkie::is_podman() {
            // Podman's `run` insists that REGISTRY_AUTH_FILE exists.
            fs::write(s.auth_file(), "{}").expect("writing auth.json");
        }
        s.load_image(image, tags);
        ContainerStore { s }
    }

    /// The store.
    pub fn selkie(&self) -> &Selkie {
        &self.s
    }

    /// `inspect --format FORMAT NAME`, asserted to succeed, trimmed.
    pub fn inspect_format(&self, name: &str, format: &str) -> String {
        self.s
            .run(&["inspect", "--format", format, name])
            .success()
            .stdout_str()
            .trim()
            .to_string()
    }

    /// `inspect NAME` parsed, its first (only) object.
    pub fn inspect_json(&self, name: &str) -> serde_json::Value {
        let v = self.s.run(&["inspect", name]).success().json();
        let arr = v.as_array().expect("inspect prints a JSON array");
        assert_eq!(arr.len(), 1, "one object for {name}: {v}");
        arr[0].clone()
    }

    /// `.State.Status` of a container.
    pub fn status(&self, name: &str) -> String {
        self.inspect_format(name, "{{.State.Status}}")
    }

    /// The full IDs `ps -a -q --no-trunc` lists, sorted.
    pub fn all_ids(&self) -> Vec<String> {
        let mut ids = self.s.run(&["ps", "-a", "-q", "--no-trunc"]).success().lines();
        ids.sort();
        ids
    }

    /// `run -d ARGS…`, asserted to succeed; the ID it printed.
    pub fn run_detached(&self, args: &[&str]) -> String {
        let mut full = vec!["run", "-d"];
        full.extend_from_slice(args);
        let out = self.s.run(&full);
        out.success();
        out.stdout_str().trim().to_string()
    }

    /// Polls `.State.Status` of `name` until it is `want`, panicking after `timeout`.
    pub fn wait_status(&self, name: &str, want: &str, timeout: Duration) {
        let mut last = String::new();
        let ok = poll(timeout, || {
            last = self.status(name);
            last == want
        });
        assert!(
            ok,
            "{name}: status still {last:?}, not {want:?}, after {timeout:?}"
        );
    }

    /// Runs `selkie <store flags> ARGS…` from a `sh` child that first sets its loginuid to `loginuid`.
    pub fn run_with_loginuid(&self, loginuid: u32, args: &[&str]) -> Output {
        let inner = self.s.command(args);
        let mut cmd = self.s.bare_command_with(Path::new("/bin/sh"), &[]);
        cmd.arg("-c")
            .arg(format!("echo {loginuid} > /proc/self/loginuid && exec \"$@\""))
            .arg("sh")
            .arg(inner.get_program())
            .args(inner.get_args());
        self.s.run_command(cmd, None)
    }
}

impl Deref for ContainerStore {
    type Target = Selkie;
    fn deref(&self) -> &Selkie {
        &self.s
    }
}

impl Drop for ContainerStore {
    fn drop(&mut self) {
        // Kill what is recorded as running first, so `rm` never waits on a stubborn process.
        let pids = self
            .s
            .run(&["ps", "-a", "--format", "{{.Pid}}"])
            .stdout_str()
            .lines()
            .filter_map(|l| l.trim().parse::<i32>().ok())
            .filter(|&p| p > 1)
            .collect::<Vec<_>>();
        for pid in pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        }
        let _ = self.s.run(&["rm", "-a", "-f", "-t", "0"]);
    }
}

/// Calls `check` every 20 ms until it returns true (true) or `timeout` passes (false).
pub fn poll(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if check() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True for a lowercase 64-character hex string (a full container or image ID).
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The lines of the host's `/proc/self/mounts` that mention `path`.
pub fn mounts_mentioning(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    fs::read_to_string("/proc/self/mounts")
        .expect("reading /proc/self/mounts")
        .lines()
        .filter(|l| l.contains(&needle))
        .map(str::to_string)
        .collect()
}

/// True while a process with this PID exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some(Some('Z')) | Some(Some('X')))
        }
        Err(_) => false,
    }
}

/// The interface names in a `/proc/net/dev` listing, sorted.
pub fn net_dev_interfaces(net_dev: &str) -> Vec<String> {
    let mut names: Vec<String> = net_dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim().to_string()))
        .collect();
    names.sort();
    names
}

/// The capability sets (`CapInh`, `CapPrm`, `CapEff`, `CapBnd`, `CapAmb`) of a `/proc/PID/status` text.
pub fn cap_field<'a>(status: &'a str, field: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(str::trim)
}

/// The `CapEff` mask, as `/proc/self/status` prints it (16 hex digits), of the given capability numbers.
pub fn cap_mask(caps: &[u32]) -> String {
    format!("{:016x}", caps.iter().fold(0u64, |m, c| m | (1u64 << c)))
}
